"""The domain's vocabulary: every fixed set of keys, declared once and imported everywhere.

These are the keys as stored in the database, written in survey files and sent through the API.
How people read them (names in Chinese and English) lives with the translations, never here.
Order matters where a page, chart or form lists them: it is the order shown.
"""

from __future__ import annotations

# The languages we speak, as Babel codes; the first is the site's default.
LOCALES = ("zh_CN", "en")

# Staff roles, most powerful first.
ROLES = ("admin", "manager", "lead", "staff")
ALL_TEAM_ROLES = ("admin", "manager")  # see every team's cases, actions and suggestions
REPORT_ROLES = ("admin", "manager", "lead")  # may read the dashboard, charts and actions

# How a case reached the helpdesk.
CHANNELS = ("phone", "chat", "email", "social", "onsite")
# How a response came in: the customer's link, or staff entering a phone call-back.
RESPONSE_SOURCES = ("link", "callback")

# Survey questions: the types a survey file may use, those answered on a numeric scale, and the
# SERVQUAL dimensions a servqual question belongs to (in the order charts and the dashboard show).
QUESTION_TYPES = (
    "csat",
    "nps",
    "ces",
    "rating",
    "choice",
    "multi",
    "yesno",
    "text",
    "textarea",
    "servqual",
)
SCALE_TYPES = ("csat", "nps", "ces", "rating")
SERVQUAL_DIMENSIONS = ("reliability", "responsiveness", "assurance", "empathy", "tangibles")

# An invitation's life; "expired" is also worked out from expires_at (Invitation.current_status).
INVITATION_STATES = ("pending", "answered", "expired", "cancelled")
# How far an invitation sent by the site (email or text) got (invitation.delivery); skipped: no
# longer due when its turn came (answered through another way, withdrawn, expired, opted out);
# delivered, and bounced or failed later, also come from the provider's delivery report.
DELIVERY_STATES = ("queued", "sent", "delivered", "failed", "bounced", "skipped")
# What a provider's delivery report may say (POST /api/v1/invitations/<token>/delivery).
REPORTED_STATES = ("delivered", "bounced", "failed")
# An invitation in these states did not reach the customer: the response rate leaves it out.
UNREACHED_STATES = ("bounced", "failed")
# One message of it (the invitation or a reminder, email or text), as its outbox row tells:
# skipped when it was no longer due when its time came (answered, expired, withdrawn, opted out).
EMAIL_STATES = ("queued", "sent", "failed", "bounced", "skipped")

# The suggestion box.
SUGGESTION_BOXES = ("customer", "staff")
SUGGESTION_OPEN_STATES = ("new", "review", "planned", "progress")  # the submitter still waits
SUGGESTION_CLOSED_STATES = ("done", "declined", "duplicate")
SUGGESTION_STATES = SUGGESTION_OPEN_STATES + SUGGESTION_CLOSED_STATES

# Improvement actions: the metric one aims at, its states and its milestones' states.
ACTION_METRICS = ("csat", "nps", "ces", "response_rate")
ACTION_STATES = ("planned", "in_progress", "done", "evaluated")
ACTION_OPEN_STATES = ("planned", "in_progress")  # an action in these states can be overdue
MILESTONE_STATES = ("open", "done")

# Follow-ups of unhappy customers: their states and how a closed one ended.
FOLLOW_UP_STATES = ("open", "contacted", "closed")
FOLLOW_UP_OUTCOMES = ("recovered", "not_recovered", "unreachable", "declined")

# Text message providers that feedback.sms has an adapter for (setting SMS_PROVIDER).
SMS_PROVIDERS = ("aliyun",)
# What the SMS template's one variable receives (setting SMS_TEMPLATE_VALUE): the short link, a
# sentence with it in the customer's language, or the short link's code alone (the template
# then holds the site's address, as mainland providers want links fixed in the template).
SMS_TEMPLATE_VALUES = ("link", "text", "code")
# How the site sends an invitation (invitation.channel; None: the helpdesk sends the link).
INVITATION_CHANNELS = ("email", "sms")
# How often a subscriber gets the digest email of a survey and slice (the period it reports).
DIGEST_FREQUENCIES = ("weekly", "monthly")
# Chat robots a team's alerts go to (group robots' webhooks).
ROBOT_PLATFORMS = ("wecom", "dingtalk", "feishu", "slack")

# The events the webhook (WEBHOOK_URL) may receive.
WEBHOOK_EVENTS = ("follow_up.created", "response.created", "suggestion.created")

# The sections of the channels' admin page (/admin/channels), each with a test message.
CHANNEL_SECTIONS = ("email", "invitations", "sms", "webhook")
# The responses behind a figure (/manage/responses): what a figure measures, and the bands of
# each measure's answers that a figure counts (README, "The answers behind a figure").
DRILL_MEASURES = (
    "responses",
    "csat",
    "nps",
    "ces",
    "response_rate",
    "question",
    "servqual",
    "follow_up",
)
CSAT_BANDS = ("answered", "satisfied", "not_satisfied", "unhappy", "happy")
NPS_BANDS = ("answered", "promoters", "passives", "detractors")
CES_BANDS = ("answered", "low_effort")
QUESTION_BANDS = ("answered", "top_two")
FOLLOW_UP_BANDS = ("opened", "due", "on_time", "contacted", "closed", "recovered")
