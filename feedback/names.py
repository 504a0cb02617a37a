"""Names of channels and chart titles in both languages, for pages, charts and PDFs alike."""

from __future__ import annotations

from .definitions import Text

CHANNELS = {
    "phone": Text("电话", "Phone"),
    "chat": Text("在线客服", "Online chat"),
    "email": Text("邮件", "Email"),
    "social": Text("社交媒体", "Social media"),
    "onsite": Text("上门/现场", "On site"),
}
BREAKDOWN_TITLES = {
    "channel": Text("各渠道的满意度（CSAT）", "CSAT by channel"),
    "team": Text("各团队的满意度（CSAT）", "CSAT by team"),
    "category": Text("各类别的满意度（CSAT）", "CSAT by category"),
}


def channel_name(key: str | None, locale: str) -> str:
    """A channel as people call it; an unknown key as it is."""
    return CHANNELS[key].get(locale) if key in CHANNELS else (key or "–")
