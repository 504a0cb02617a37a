"""The meeting pack: one PDF of the dashboard's view (cover, charts, detractors' comments), from
the web and from the command line."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from data_sets import START, expected
from support import ALL_BUT_SERVQUAL, login, page_count

from feedback import charts, dashboard, meeting_pack, reports, typeset
from feedback.i18n import language
from feedback.models import Answer, Response, Survey
from feedback.surveys import current_version, definition_of

END = date(2026, 10, 31)
PERIOD = f"from={START}&to={END}"
MADE = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
EN = language("en")
NAME = re.compile(r"feedback-meeting-pack-post-case-2026-09-01-to-2026-10-31-\d{8}-\d{4}\.pdf")


def the_slice(start: date = START, end: date = END, **filters) -> reports.Slice:
    survey = Survey.get(Survey.slug == "post-case")
    return reports.Slice(survey.id, start, end, **filters)


def definition():
    return definition_of(current_version("post-case"))


def build(s: reports.Slice, locale: str = "en", **kwargs) -> bytes:
    return meeting_pack.build_pack(
        s, "post-case", definition(), language(locale), 30, "Asia/Shanghai", made=MADE, **kwargs
    )


def add_detractor_comments(
    count: int, text: str = "等了很久才有人处理，体验很差。", **where
) -> None:
    """One comment on each of ``count`` detractors' responses (NPS 0-6), cycling if need be."""
    conditions = [Response.nps <= 6, *(getattr(Response, k) == v for k, v in where.items())]
    detractors = list(Response.select().where(*conditions).order_by(Response.id))
    assert detractors
    for i in range(count):
        Answer.create(
            response=detractors[i % len(detractors)],
            question_id="comment",
            value_text=f"{i}: {text}",
        )


# --- the PDF ------------------------------------------------------------------------------------


def test_the_pack_is_a_pdf_with_a_page_per_part(db, scored):
    steps = []
    pdf = build(the_slice(), progress=steps.append)
    assert pdf.startswith(b"%PDF-")
    # cover + the dashboard's 8 charts (no SERVQUAL gaps in post-case) + one comments page
    # saying there are none (the data set has no comments)
    assert page_count(pdf) == 1 + len(ALL_BUT_SERVQUAL) + 2  # + themes
    assert steps == ["cover", *ALL_BUT_SERVQUAL, "comments", "themes", "finish"]
    assert steps == meeting_pack.steps(the_slice(), definition())
    # every page has the charts' 16:9 size, in points
    boxes = set(re.findall(rb"/MediaBox \[ ?([0-9. ]+?) ?\]", pdf))
    assert boxes == {b"0 0 921.6 518.4"}


def test_the_pack_embeds_the_cjk_font(db, scored):
    pdf = build(the_slice(), locale="zh_CN")
    assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoSansCJKsc-", pdf), "Noto not embedded"
    if charts.PDF_FONTTYPE == 3:
        assert b"/Subtype /Type3" in pdf  # as charts.render embeds it (see charts.py)
    assert b"/ToUnicode" in pdf
    assert b"DejaVu" not in pdf  # no glyph fell back to another font


def test_more_detractor_comments_make_more_pages(db, scored):
    s = the_slice()
    add_detractor_comments(3)
    few = page_count(build(s))
    comments, more = meeting_pack.detractor_comments(s, definition(), EN, "Asia/Shanghai")
    assert len(comments) == 3 and not more
    assert few == 1 + len(ALL_BUT_SERVQUAL) + 1 + 1  # three short comments fit on one page
    add_detractor_comments(
        60,
        text="The refund I was promised three weeks ago has still "
        "not arrived, and nobody calls back. " * 4,
    )
    many = page_count(build(s))
    comments, _more = meeting_pack.detractor_comments(s, definition(), EN, "Asia/Shanghai")
    assert many > few
    assert many == 1 + len(ALL_BUT_SERVQUAL) + len(meeting_pack.layout_comments(comments, EN)) + 1


def test_comments_are_the_detractors_newest_first(db, scored):
    add_detractor_comments(5)
    happy = Response.select().where(Response.nps >= 9).first()
    Answer.create(response=happy, question_id="comment", value_text="very good")
    comments, _more = meeting_pack.detractor_comments(
        the_slice(), definition(), EN, "Asia/Shanghai"
    )
    texts = [text for comment in comments for _question, text in comment.texts]
    assert "very good" not in texts and len(comments) == 5
    times = [comment.meta[0] for comment in comments]
    assert times == sorted(times, reverse=True)
    assert all(re.search(r"· NPS [0-6]( ·|$)", " · ".join(c.meta)) for c in comments)


def test_comments_keep_to_the_filters(db, scored):
    add_detractor_comments(4, channel="chat")
    add_detractor_comments(4, channel="phone")
    comments, _more = meeting_pack.detractor_comments(
        the_slice(channel="chat"), definition(), EN, "Asia/Shanghai"
    )
    assert len(comments) == 4 and all("Online chat" in c.meta for c in comments)


def test_the_comments_limit_is_said(db, scored):
    add_detractor_comments(5)
    comments, more = meeting_pack.detractor_comments(
        the_slice(), definition(), EN, "Asia/Shanghai", limit=3
    )
    assert len(comments) == 3 and more


# --- the cover ----------------------------------------------------------------------------------


def _signed(value: float) -> str:
    text = f"{value:+.1f}"
    return ("0.0" if float(text) == 0 else text).replace("-", charts.MINUS)


def test_the_cover_gives_the_headline_figures(db, scored):
    want = expected(scored)
    cover = meeting_pack.cover(
        the_slice(), "post-case", definition(), EN, 30, "Asia/Shanghai", MADE
    )
    text = "\n".join(cover.lines())
    assert cover.title == "Service feedback meeting pack"
    assert "Survey: How did we do? (post-case)" in text
    assert "Period: Sep 1\u2009–\u2009Oct 31, 2026 (61 days), compared with the 61 days" in text
    assert "Filters: none" in text
    assert "Made: Nov 2, 2026 09:30 (Asia/Shanghai)" in text
    rows = {row.metric: row for row in cover.headlines}
    assert [row.metric for row in cover.headlines] == list(dashboard.TILE_METRICS)
    csat, nps = want["csat"], want["nps"]
    assert rows["csat"].value == f"{csat.value:.1f}%"
    assert rows["csat"].interval == f"[{csat.low:.1f}, {csat.high:.1f}]"
    assert rows["csat"].n == "120"
    assert rows["nps"].value == f"{nps.value:.1f}".replace("-", charts.MINUS)
    assert rows["responses"].value == "120"
    assert rows["response_rate"].n == "120 of 160 invited"
    assert rows["response_rate"].value == "75.0%"
    # nothing before September: no comparison
    assert rows["csat"].verdict == "no comparison: too little data"
    for row in cover.headlines:
        assert " | ".join(row.cells) in text
    assert any(line.startswith("CSAT: the share of answers of 4 or 5") for line in cover.lines())


def test_the_cover_says_whether_a_change_is_real(db, scored):
    # four weeks against the four weeks before, both within the data set
    s = the_slice(date(2026, 9, 29), date(2026, 10, 26))
    tiles = {tile.metric: tile for tile in dashboard.tiles(s, 30)}
    cover = meeting_pack.cover(s, "post-case", definition(), EN, 30, "Asia/Shanghai", MADE)
    for row in cover.headlines:
        tile = tiles[row.metric]
        if row.metric == "responses":
            before = tile.previous["value"]
            change = tile.current["value"] - before
            shown = f"{change:+d}".replace("-", charts.MINUS) if change else "0"
            assert row.change == f"{shown} (before: {before})"
            continue
        assert tile.change is not None, row.metric
        decimals = 2 if row.metric == "ces" else 1
        assert row.change.startswith(
            f"{tile.change.value:+.{decimals}f}".replace("-", charts.MINUS)
        )
        assert (
            row.verdict
            == {
                "better": "yes: better",
                "worse": "yes: worse",
                "no clear change": "no: within the noise",
            }[tile.change.verdict]
        )
        assert row.verdict.startswith("yes") == tile.real_change
        assert row.too_few == tile.too_few
        if tile.too_few:
            assert row.n.endswith("too few answers")


def test_the_cover_in_chinese_names_the_filters(db, scored):
    from feedback.models import Team

    team = Team.get(Team.name == "账务组")
    s = the_slice(channel="chat", team_id=team.id, agent="agent-1")
    cover = meeting_pack.cover(
        s, "post-case", definition(), language("zh_CN"), 30, "Asia/Shanghai", MADE
    )
    text = "\n".join(cover.lines())
    assert cover.title == "服务反馈会议资料"
    assert "筛选: 渠道 在线客服 · 团队 账务组 · 客服 agent-1" in text
    assert "生成时间: 2026年11月2日 09:30" in text
    assert "回复率" in text and "这些数字是如何计算的" in text


# --- text on the page ---------------------------------------------------------------------------


def test_a_long_comment_goes_on_in_the_next_column():
    short = meeting_pack.Comment(("2026-10-31 21:44", "CSAT 1", "NPS 2"), (("", "短。"),))
    long = meeting_pack.Comment(
        ("2026-10-30 09:00", "CSAT 2", "NPS 0"), (("", "这是一条很长的意见。" * 300),)
    )
    pages = meeting_pack.layout_comments([short, long, short], EN)
    columns = [column for page in pages for column in page]
    assert len(columns) > 2
    metas = [line.text for column in columns for line in column if line.kind == "meta"]
    assert metas[0].startswith("2026-10-31") and metas[1].startswith("2026-10-30")
    assert metas[-1].startswith("2026-10-31") and "continued" not in metas[-1]
    continued = metas[2:-1]
    assert continued and all(
        meta.startswith("2026-10-30") and meta.endswith("(continued)") for meta in continued
    )
    for column in columns[1 : len(continued) + 1]:  # each goes on at the top of a column
        assert column[0].kind == "meta" and column[0].text.endswith("(continued)")
    for column in columns:
        bottom = max(line.top + line_height(line) for line in column)
        assert bottom <= meeting_pack.COLUMN_HEIGHT + 0.01
    assert sum(line.kind == "text" for column in columns for line in column) == 2 + len(
        typeset.wrap(
            "这是一条很长的意见。" * 300, meeting_pack.COLUMN_WIDTH - meeting_pack.TEXT_INDENT, 15
        )
    )


def line_height(line) -> float:
    return 0.0 if line.kind == "rule" else meeting_pack.LEADING[line.kind]


def test_no_comments_still_get_a_page():
    assert meeting_pack.layout_comments([], EN) == [[[]]]


# --- the page at /manage/meeting-pack.pdf --------------------------------------------------------


@pytest.mark.parametrize(
    "role,status", [("manager", 200), ("admin", 200), ("lead", 200), ("staff", 403)]
)
def test_the_pack_needs_a_report_role(app, users, role, status, monkeypatch):
    monkeypatch.setattr(meeting_pack, "build_pack", lambda *a, **k: b"%PDF-1.4 stub")
    client = app.test_client()
    assert client.get(f"/manage/meeting-pack.pdf?{PERIOD}").status_code == 302
    login(client, role)
    assert client.get(f"/manage/meeting-pack.pdf?{PERIOD}").status_code == status


def test_the_pack_downloads_as_an_attachment(manager, scored):
    reply = manager.get(f"/manage/meeting-pack.pdf?{PERIOD}&lang=en")
    assert reply.status_code == 200 and reply.mimetype == "application/pdf"
    disposition = reply.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert NAME.fullmatch(re.search(r'filename="([^"]+)"', disposition).group(1))
    assert page_count(reply.get_data()) == 1 + len(ALL_BUT_SERVQUAL) + 2  # + themes


def test_the_pack_honours_the_filters(app, users, manager, scored, monkeypatch):
    calls = []
    monkeypatch.setattr(
        meeting_pack, "build_pack", lambda *args, **kwargs: calls.append((args, kwargs)) or b"%PDF-"
    )
    reply = manager.get(
        f"/manage/meeting-pack.pdf?{PERIOD}&channel=chat&team=账务组"
        "&agent=agent-1&category=billing&lang=zh"
    )
    assert reply.status_code == 200
    (s, survey, _definition, locale, min_sample, tz), _kwargs = calls[-1]
    assert (s.start, s.end, s.channel, s.agent, s.category) == (
        START,
        END,
        "chat",
        "agent-1",
        "billing",
    )
    assert s.team_id is not None and s.allowed_team_ids is None
    assert (survey, locale.code, min_sample, tz) == ("post-case", "zh_CN", 30, "Asia/Shanghai")
    lead = app.test_client()
    login(lead, "lead")
    assert lead.get(f"/manage/meeting-pack.pdf?{PERIOD}").status_code == 200
    assert calls[-1][0][0].allowed_team_ids  # a lead's pack covers only their teams
    assert manager.get("/manage/meeting-pack.pdf?from=2026-13-01").status_code == 400


def test_the_dashboard_links_to_the_pack(manager, scored):
    page = manager.get(f"/manage/?{PERIOD}&channel=chat&lang=en").get_data(as_text=True)
    link = re.search(r'href="(/manage/meeting-pack\.pdf\?[^"]+)"', page)
    assert link and "channel=chat" in link.group(1) and "from=2026-09-01" in link.group(1)
    assert "Meeting pack (PDF)" in page


# --- flask export meeting-pack ------------------------------------------------------------------


def run(app, *args):
    return app.test_cli_runner().invoke(args=["export", "meeting-pack", *args])


def test_the_command_writes_the_pack_under_out(app, scored, tmp_path):
    out = tmp_path / "packs"
    result = run(app, "--from", str(START), "--to", str(END), "--locale", "en", "--out", str(out))
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.parent == out and NAME.fullmatch(path.name)
    assert page_count(path.read_bytes()) == 1 + len(ALL_BUT_SERVQUAL) + 2  # + themes
    assert "Building the meeting pack" in result.stderr  # the progress bar
    assert list(out.iterdir()) == [path]  # no partial file left behind


def test_the_command_writes_to_the_exports_dir_by_default(app, scored):
    result = run(
        app, "--from", str(START), "--to", str(END), "--channel", "chat", "--team", "账务组"
    )
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.parent == Path(app.config["EXPORTS_DIR"]) and path.exists()


def test_two_packs_in_the_same_minute_keep_both_files(
    app,
    scored,
    tmp_path,
    monkeypatch,
):
    monkeypatch.setattr(
        meeting_pack, "build_pack", lambda s, *args, **kwargs: b"%PDF- " + s.channel.encode()
    )
    out, paths = tmp_path / "packs", []
    for channel in ("chat", "phone"):
        result = run(
            app, "--from", str(START), "--to", str(END), "--channel", channel, "--out", str(out)
        )
        assert result.exit_code == 0, result.output
        paths.append(Path(result.stdout.strip().splitlines()[-1]))
    if paths[0].stem[-4:] == paths[1].stem[-4:]:  # made in the same minute
        assert paths[1].name == paths[0].stem + "-2.pdf"
    assert [p.read_bytes() for p in paths] == [b"%PDF- chat", b"%PDF- phone"]
    assert sorted(out.iterdir()) == sorted(paths)  # and no partial file left behind


def test_the_command_passes_its_filters(app, scored, tmp_path, monkeypatch):
    calls = []

    def spy(s, survey, definition, locale, min_sample, tz, progress=None, made=None):
        for label in meeting_pack.steps(s, definition):
            progress(label)
        calls.append((s, survey, locale))
        return b"%PDF-"

    monkeypatch.setattr(meeting_pack, "build_pack", spy)
    result = run(
        app,
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--agent",
        "agent-2",
        "--category",
        "billing",
        "--survey",
        "post-case",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    s, survey, locale = calls[-1]
    assert (s.start, s.end, s.agent, s.category, survey) == (
        date(2026, 10, 1),
        date(2026, 10, 31),
        "agent-2",
        "billing",
        "post-case",
    )
    assert locale.code == app.config["DEFAULT_LOCALE"]


@pytest.mark.parametrize(
    "args,named",
    [
        (["--from", "2026-13-01", "--to", "2026-10-31"], "--from"),
        (["--from", "yesterday", "--to", "2026-10-31"], "--from"),
        (["--from", "2026-10-01", "--to", "31/10/2026"], "--to"),
        (["--from", "2026-11-01", "--to", "2026-10-31"], "--from"),
        (["--from", "2026-10-01", "--to", "2026-10-31", "--team", "nobody"], "--team"),
        (["--from", "2026-10-01", "--to", "2026-10-31", "--survey", "nope"], "--survey"),
        (["--from", "2026-10-01", "--to", "2026-10-31", "--channel", "fax"], "--channel"),
        (["--from", "2026-10-01", "--to", "2026-10-31", "--locale", "fr"], "--locale"),
        (["--to", "2026-10-31"], "--from"),
    ],
)
def test_the_command_names_a_bad_option(app, tmp_path, args, named):
    result = run(app, *args, "--out", str(tmp_path / "packs"))
    assert result.exit_code == 2, result.output
    assert named in result.stderr and "Error" in result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert not (tmp_path / "packs").exists()


def test_the_command_names_an_out_it_cannot_use(app, scored, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run(app, "--from", str(START), "--to", str(END), "--out", str(blocker / "sub"))
    assert result.exit_code == 2 and "--out" in result.stderr
    assert "Traceback" not in result.output


def test_a_cover_with_long_filters_stays_on_its_page(db, scored):
    from feedback.models import Team

    teams = [Team.create(name=f"Team number {i} of the northern region") for i in range(20)]
    s = the_slice(
        allowed_team_ids=tuple(team.id for team in teams),
        channel="chat",
        agent="agent-1",
        category="billing",
    )
    cover = meeting_pack.cover(s, "post-case", definition(), EN, 30, "Asia/Shanghai", MADE)
    assert "Team number 19 of the northern region" in "\n".join(cover.lines())
    figure = meeting_pack.cover_figure(cover)
    lowest = min(text.get_position()[1] for text in figure.texts)  # each hangs from its y
    assert lowest > 16 / meeting_pack.PAGE_HEIGHT
    assert any(text.get_text().endswith(" …") for text in figure.texts)
