"""Comment themes: segmentation, the log-odds ratio, the token cache, the API, the pages."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import counted_queries, in_app, login

from feedback import comment_terms, privacy, reports, responses, themes
from feedback.cases import CaseInput, InvitationPolicy, register_case
from feedback.db import database
from feedback.models import Case, CommentTerms, Response, Survey, Team
from feedback.reports import Slice
from feedback.stopwords import EN_STOP_WORDS, ZH_STOP_WORDS
from feedback.surveys import current_version, definition_of

# --- the log-odds ratio, worked by hand -------------------------------------------------------


def test_log_odds_worked_by_hand():
    # side: a twice, b once (n = 3); rest: a once, b three times (m = 4); prior = the counts of
    # both (α_a = 3, α_b = 4, α0 = 7)
    scores = {s.term: s for s in themes.log_odds(Counter(a=2, b=1), Counter(a=1, b=3))}
    # δ_a = log(5 / (3+7-2-3)) - log(4 / (4+7-1-3)) = log(1) - log(4/7) = log(7/4)
    assert scores["a"].delta == pytest.approx(math.log(7 / 4))
    assert scores["a"].variance == pytest.approx(1 / 5 + 1 / 4)
    assert scores["a"].z == pytest.approx(0.55962 / math.sqrt(0.45), abs=1e-4)
    assert scores["a"].z == pytest.approx(0.83425, abs=1e-4)
    # δ_b = log(5 / (3+7-1-4)) - log(7 / (4+7-3-4)) = -log(7/4); var = 1/5 + 1/7
    assert scores["b"].delta == pytest.approx(-math.log(7 / 4))
    assert scores["b"].z == pytest.approx(-0.55962 / math.sqrt(1 / 5 + 1 / 7), abs=1e-4)


def test_a_term_both_sides_use_alike_scores_zero_however_common():
    scores = {s.term: s for s in themes.log_odds(Counter(x=50, y=5), Counter(x=100, y=10))}
    assert scores["x"].z == pytest.approx(0, abs=1e-9)
    assert scores["y"].z == pytest.approx(0, abs=1e-9)


def test_themes_rank_by_z_not_by_count():
    # "refund" only among the unhappy (5 of them); "service" in every comment on both sides
    documents = (
        [("unhappy", ["refund", "service"])] * 5
        + [("unhappy", ["service", "slow"])] * 3
        + [("happy", ["service", "patient"])] * 6
        + [(None, ["service"])] * 20
    )
    found = themes.themes(documents, min_count=3)
    unhappy = [t.term for t in found["unhappy"]]
    assert unhappy[:2] == ["refund", "slow"]
    assert "service" not in unhappy  # most frequent, but not distinctive
    assert [t.term for t in found["happy"]] == ["patient"]
    assert found["unhappy"][0].count == 5
    assert found["unhappy"][0].z > found["unhappy"][1].z > 0


def test_a_corpus_of_one_term_scores_nothing():
    assert themes.log_odds(Counter(x=1), Counter()) == []
    assert themes.themes([("unhappy", ["x"])] * 4) == {"unhappy": [], "happy": []}


def test_min_count_and_top_n():
    documents = [("unhappy", [f"w{i}"]) for i in range(30) for _ in range(3)] + [
        ("unhappy", ["rare"]),
        (None, ["other"]),
    ]
    found = themes.themes(documents, min_count=3, top=10)["unhappy"]
    assert len(found) == 10 and "rare" not in [t.term for t in found]


def test_sides():
    assert themes.side_of(1, 10, uses_csat=True) == "unhappy"
    assert themes.side_of(2, None, uses_csat=True) == "unhappy"
    assert themes.side_of(3, 0, uses_csat=True) is None
    assert themes.side_of(5, 0, uses_csat=True) == "happy"
    assert themes.side_of(None, 0, uses_csat=True) is None
    assert themes.side_of(None, 6, uses_csat=False) == "unhappy"
    assert themes.side_of(1, 7, uses_csat=False) is None
    assert themes.side_of(None, 9, uses_csat=False) == "happy"


# --- segmentation -----------------------------------------------------------------------------


def test_chinese_is_cut_into_words_and_stop_words_go():
    tokenizer = themes.segmenter(())
    terms = themes.terms_of("我被重复扣费了，要求退款！客服很耐心。", tokenizer)
    assert "退款" in terms and "耐心" in terms and "扣费" in terms
    assert not set(terms) & ZH_STOP_WORDS
    assert "，" not in terms and "！" not in terms


def test_the_user_dictionary_keeps_a_category_name_whole():
    text = "账单与收费太乱了"
    assert "账单与收费" not in themes.terms_of(text, themes.segmenter(()))
    words = themes.user_words(
        ["账单与收费", "Billing"], [" 在线客服 "], themes.theme_words_setting("话费包，流量卡, ")
    )
    assert words == ("Billing", "在线客服", "流量卡", "话费包", "账单与收费")
    tokenizer = themes.segmenter(words)
    assert "账单与收费" in themes.terms_of(text, tokenizer)
    assert "话费包" in themes.terms_of("这个话费包不划算", tokenizer)


def test_english_by_words_lower_case_without_stop_words():
    terms = themes.terms_of(
        "The REFUND took too long, and the agent was rude! Refund?", themes.segmenter(())
    )
    assert terms == ["refund", "took", "long", "agent", "rude"]
    assert not set(terms) & EN_STOP_WORDS


def test_each_term_counts_once_per_comment():
    assert themes.terms_of("退款 退款 退款 refund refund", themes.segmenter(())) == [
        "退款",
        "refund",
    ]


def test_the_stamp_follows_the_dictionary():
    assert themes.dictionary_stamp(("a",)) == themes.dictionary_stamp(("a",))
    assert themes.dictionary_stamp(("a",)) != themes.dictionary_stamp(("a", "b"))


def test_stored_terms_round_trip():
    assert themes.split_terms(themes.join_terms(["退款", "refund"])) == ["退款", "refund"]
    assert (
        themes.join_terms(["退款"]) == " 退款 " and themes.split_terms(themes.join_terms([])) == []
    )


@settings(max_examples=60, deadline=None)
@given(
    st.text(max_size=300) | st.text(alphabet="\x00\x01\x1b\u200b😀🙏退款扣费 abcXYZ", max_size=60)
)
def test_hostile_comments_give_clean_terms(text):
    for term in themes.terms_of(text, themes.segmenter(())):
        assert term and term == term.strip() and " " not in term
        assert not any(ord(ch) < 32 or ch == "\x7f" for ch in term)
        assert term not in themes.STOP_WORDS


def test_a_huge_comment_is_cut_at_the_limit():
    terms = themes.terms_of("退款" * 100_000 + "结尾词汇", themes.segmenter(()))
    assert terms == ["退款"]


# --- the token cache, on both databases -------------------------------------------------------

START = date(2026, 9, 1)
PERIOD = "survey=post-case&from=2026-09-01&to=2026-09-30"
UNHAPPY_TEXTS = ["重复扣费，要求退款", "扣费不对，退款太慢", "退款一直没到账", "乱扣费"]
HAPPY_TEXTS = ["客服很耐心，很专业", "耐心解答", "非常专业，谢谢"]
OTHER_TEXTS = ["还行吧", "一般般，退款还可以"]


def _store(app, rows, team="Billing"):
    """Responses with (csat, nps, comment) through the domain function; their ids."""
    ids = []
    with in_app(app), database.atomic():
        version = current_version("post-case")
        definition = definition_of(version)
        for i, (csat, nps, comment) in enumerate(rows):
            n = Case.select().count()
            sent = datetime(2026, 9, 2 + i % 20, 2, 0)
            registration = register_case(
                CaseInput(
                    case_ref=f"T-{n}",
                    survey="post-case",
                    resolved_at=sent,
                    channel="phone",
                    team=team,
                    agent="agent-1",
                    category="billing",
                ),
                version.survey,
                InvitationPolicy(),
                now=sent,
            )
            answers = {"resolved": "yes", "csat": csat, "nps": nps}
            if comment is not None:
                answers["comment"] = comment
            ids.append(
                responses.submit(
                    registration.invitation,
                    registration.case,
                    version,
                    definition,
                    answers,
                    locale="zh_CN",
                    tz="Asia/Shanghai",
                    now=sent + timedelta(hours=1),
                )
            )
    return ids


@pytest.fixture
def commented(app):
    """Billing complaints among the unhappy, praise among the happy, three times over."""
    rows = (
        [(1, 2, t) for t in UNHAPPY_TEXTS] * 3
        + [(5, 10, t) for t in HAPPY_TEXTS] * 3
        + [(3, 7, t) for t in OTHER_TEXTS] * 3
        + [(4, 8, None)] * 2
    )
    return _store(app, rows)


def _slice(app, **changes):
    with in_app(app):
        survey = Survey.get(Survey.slug == "post-case")
    return Slice(survey.id, date(2026, 9, 1), date(2026, 9, 30), **changes)


def test_terms_are_cut_once_and_kept(app, commented):
    s = _slice(app)
    with in_app(app):
        definition = definition_of(current_version("post-case"))
        assert CommentTerms.select().count() == 0  # nothing cut when responses are stored
        found = comment_terms.slice_themes(s, definition, app.config)
        assert CommentTerms.select().count() == len(commented) - 2  # those with a comment
        with counted_queries() as executed:
            again = comment_terms.slice_themes(s, definition, app.config)
        assert again == found
        assert not any("INSERT" in q.upper() for q in executed)
    unhappy = {t.term: t for t in found["unhappy"]}
    happy = {t.term: t for t in found["happy"]}
    assert {"扣费", "退款"} <= set(unhappy) and unhappy["扣费"].count == 9
    assert unhappy["退款"].count == 9 and {"耐心", "专业"} <= set(happy)
    assert not set(unhappy) & set(happy)
    assert [t.z for t in found["unhappy"]] == sorted((t.z for t in found["unhappy"]), reverse=True)


def test_the_comments_to_cut_are_found_in_one_scan_whatever_the_batches(app, commented):
    # a scan per batch read a year's comments once every 2,000 of them: quadratic
    s = _slice(app)
    with in_app(app):
        words = comment_terms.dictionary_words(app.config)
        with counted_queries() as executed:
            cut = comment_terms.fill(s, words, batch=4)
        finds = [q for q in executed if "NOT EXISTS" in q.upper()]
        assert cut == len(commented) - 2 == CommentTerms.select().count()  # 7 batches
        assert len(finds) == 1, finds
        assert sum("INSERT" in q.upper() for q in executed) == 7
        assert comment_terms.fill(s, words, batch=4) == 0


def test_the_texts_of_a_batch_are_read_through_their_responses(app, commented, monkeypatch):
    # given the question ids too, SQLite read through the index on question_id: every comment
    # of the site for each batch of 2,000 (at a million, half of the first view on SQLite)
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("a plan of SQLite's")
    seen = []
    with in_app(app):
        db = database.obj
        original = db.execute_sql

        def recording(sql, params=None, *args, **kwargs):
            seen.append((sql, params))
            return original(sql, params, *args, **kwargs)

        monkeypatch.setattr(db, "execute_sql", recording)
        rows = reports.comment_texts(commented[:4], ["comment"])
        monkeypatch.undo()
        ((sql, params),) = seen
        plan = str(db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    assert "answer_response" in plan and "answer_question" not in plan, plan
    assert [(r[0], r[2]) for r in rows] == [(i, "comment") for i in commented[:4]]
    assert rows[0][3] == UNHAPPY_TEXTS[0]


def test_new_comments_are_cut_at_the_next_request(app, commented):
    s = _slice(app)
    with in_app(app):
        definition = definition_of(current_version("post-case"))
        comment_terms.slice_themes(s, definition, app.config)
    _store(app, [(1, 0, "发票开错了")] * 3)
    with in_app(app):
        found = comment_terms.slice_themes(s, definition, app.config)
    assert "发票" in {t.term for t in found["unhappy"]}


def test_the_user_dictionary_re_cuts_when_it_changes(make_app, tmp_path):
    app = make_app(THEME_WORDS="扣费不对")
    _store(app, [(1, 2, "扣费不对")] * 3 + [(5, 10, "很好")] * 3)
    with in_app(app):
        definition = definition_of(current_version("post-case"))
        found = comment_terms.slice_themes(_slice(app), definition, app.config)
        assert "扣费不对" in {t.term for t in found["unhappy"]}
        app.config["THEME_WORDS"] = ""
        found = comment_terms.slice_themes(_slice(app), definition, app.config)
        assert "扣费不对" not in {t.term for t in found["unhappy"]}
        assert CommentTerms.select().count() == 6


def test_erasure_removes_the_terms_of_a_changed_comment(app, client, api_headers):
    from support import answer

    data = {"resolved": "yes", "csat": "1", "nps": "0", "comment": "请打 13800138000 找王小明退款"}
    answer(
        client,
        api_headers,
        data,
        case_id="E-1",
        customer={"id": "cust-9", "name": "王小明", "phone": "13800138000"},
    )
    with in_app(app):
        survey = Survey.get(Survey.slug == "post-case")
        response = Response.get()
        s = Slice(survey.id, response.day, response.day)
        comment_terms.fill(s, comment_terms.dictionary_words(app.config))
        held = CommentTerms.get(CommentTerms.response == response.id).terms
        assert "王小明" in held or "小明" in held
        privacy.erase("cust-9", actor="test")
        assert CommentTerms.select().where(CommentTerms.response == response.id).count() == 0
        comment_terms.fill(s, comment_terms.dictionary_words(app.config))
        held = CommentTerms.get(CommentTerms.response == response.id).terms
        assert "小明" not in held and "13800138000" not in held and "退款" in held


def test_a_team_filter_and_a_lead_see_only_their_comments(app, commented):
    _store(app, [(1, 2, "网络断线")] * 4, team="Support")
    with in_app(app):
        definition = definition_of(current_version("post-case"))
        billing = Team.get(Team.name == "Billing").id
        found = comment_terms.slice_themes(
            _slice(app, allowed_team_ids=(billing,)), definition, app.config
        )
        assert "断线" not in {t.term for t in found["unhappy"]}
        page = comment_terms.comments_holding(
            _slice(app), definition, app.config, "unhappy", "退款"
        )
        assert page.total == 9 and all("退款" in row["text"] for row in page.rows)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(min_size=1, max_size=500).filter(lambda t: t.strip()))
def test_hostile_comments_are_stored_and_counted(app, text):
    text = text.replace("\x00", "")  # PostgreSQL refuses NUL; the survey form strips it too
    _store(app, [(1, 0, text[:2000]), (5, 10, "好" + text[:100])])
    with in_app(app):
        definition = definition_of(current_version("post-case"))
        found = comment_terms.slice_themes(_slice(app), definition, app.config)
    assert set(found) == {"unhappy", "happy"}


# --- the API ----------------------------------------------------------------------------------


def test_api_themes_shape_and_order(app, client, api_headers, commented):
    reply = client.get(f"/api/v1/themes?{PERIOD}", headers=api_headers)
    assert reply.status_code == 200
    body = reply.get_json()
    assert set(body) == {"unhappy", "happy"}
    for side in body.values():
        assert side and all(set(t) == {"term", "count", "z"} for t in side)
        assert [t["z"] for t in side] == sorted((t["z"] for t in side), reverse=True)
    top = {t["term"]: t for t in body["unhappy"]}
    assert top["退款"]["count"] == 9 and top["退款"]["z"] > 0
    # 扣费 only among the unhappy, 退款 among the others too: the same count, a higher z
    assert top["扣费"]["count"] == 9 and top["扣费"]["z"] > top["退款"]["z"]
    assert "耐心" in {t["term"] for t in body["happy"]}


def test_api_themes_filters_and_access(app, client, api_headers, commented, users):
    assert (
        client.get(f"/api/v1/themes?{PERIOD}&channel=fax", headers=api_headers).status_code == 400
    )
    assert client.get(f"/api/v1/themes?{PERIOD}").status_code == 401
    empty = client.get(f"/api/v1/themes?{PERIOD}&channel=email", headers=api_headers).get_json()
    assert empty == {"unhappy": [], "happy": []}
    staff = app.test_client()
    login(staff, "staff")
    assert staff.get(f"/api/v1/themes?{PERIOD}").status_code == 403
    lead = app.test_client()
    login(lead, "lead")  # leads Billing, where the comments are
    assert lead.get(f"/api/v1/themes?{PERIOD}").get_json()["unhappy"]
    assert lead.get(f"/api/v1/themes?{PERIOD}&team=Support").status_code == 404


# --- the dashboard, the list behind a term, the chart -----------------------------------------


def test_dashboard_shows_the_terms_each_a_link(app, manager, commented):
    page = manager.get(f"/manage/?{PERIOD}&lang=en").get_data(as_text=True)
    assert "What unhappy and happy customers write about" in page
    unhappy = page.split('id="themes-unhappy"')[1].split("</table>")[0]
    happy = page.split('id="themes-happy"')[1].split("</table>")[0]
    assert "退款" in unhappy and "耐心" in happy and "耐心" not in unhappy
    assert "/manage/themes/comments?side=unhappy&amp;term=%E9%80%80%E6%AC%BE" in unhappy


def test_the_list_behind_a_term_holds_exactly_its_count(app, manager, commented):
    url = f"/manage/themes/comments?side=unhappy&term=退款&{PERIOD}&lang=en"
    page = manager.get(url).get_data(as_text=True)
    assert "9 comments" in page
    hint = page.split("</h1>")[1].split("</p>")[0]
    assert "How did we do?, 2026-09-01 to 2026-09-30" in hint and "post-case" not in hint
    assert page.count('<li class="detractor">') == 9
    assert "耐心解答" not in page and "一般般" not in page  # another side's
    assert manager.get(url.replace("side=unhappy", "side=sad")).status_code == 400
    assert manager.get(url.replace("term=退款", "term=")).status_code == 400
    assert manager.get(url + "&channel=fax").status_code == 400


def test_the_list_is_paged(app, manager):
    _store(app, [(1, 2, f"退款第{i}次") for i in range(30)])
    url = f"/manage/themes/comments?side=unhappy&term=退款&{PERIOD}&lang=en"
    first = manager.get(url).get_data(as_text=True)
    second = manager.get(url + "&page=2").get_data(as_text=True)
    assert first.count('<li class="detractor">') == 25 and "Next page" in first
    assert second.count('<li class="detractor">') == 5 and "Previous page" in second


def test_a_lead_sees_only_the_comments_of_their_teams(app, commented, users):
    _store(app, [(1, 2, "退款很慢，网络断线")] * 4, team="Support")
    lead = app.test_client()
    login(lead, "lead")
    page = lead.get(f"/manage/themes/comments?side=unhappy&term=退款&{PERIOD}&lang=en")
    assert "断线" not in page.get_data(as_text=True)
    assert "9 comments" in page.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf", "csv"])
def test_the_chart_downloads(app, manager, commented, fmt):
    reply = manager.get(f"/manage/charts/comment-themes.{fmt}?{PERIOD}&size=small&lang=en")
    assert reply.status_code == 200
    if fmt == "csv":
        text = reply.get_data().decode("utf-8-sig")
        assert "Term" in text.splitlines()[0] and "退款" in text and "耐心" in text


def test_the_chart_function_draws_both_sides_and_no_data():
    from feedback import charts
    from feedback.i18n import language

    lang = language("zh_CN")
    figure = charts.themes_chart(
        [charts.ThemeTerm("退款", 41, 6.2), charts.ThemeTerm("扣费", 30, 5.1)],
        [charts.ThemeTerm("耐心", 20, 4.0)],
        lang,
    )
    labels = [t.get_text() for axes in figure.axes for t in axes.get_yticklabels()]
    assert any("退款" in label and "41" in label for label in labels)
    assert len(figure.axes) == 2
    assert charts.render(figure, "png", "small")[:4] == b"\x89PNG"
    empty = charts.themes_chart([], [], lang)
    assert len(empty.axes) == 1


# --- the meeting pack -------------------------------------------------------------------------


def test_the_pack_has_a_themes_page_with_the_terms_and_a_comment_each(app, commented):
    from feedback import meeting_pack
    from feedback.i18n import language

    s = _slice(app)
    with in_app(app):
        definition = definition_of(current_version("post-case"))
        section = meeting_pack.themes_section(s, definition, language("en"))
        assert "themes" in meeting_pack.steps(s, definition)
        assert "comment-themes" not in meeting_pack.pack_charts(s, definition)
    (unhappy_heading, unhappy), (happy_heading, happy) = section.sides
    assert unhappy_heading == "Unhappy customers (CSAT 1–2)"
    terms = {row[0]: row for row in unhappy}
    assert terms["退款"][1] == "9"
    assert sum(bool(row[3]) for row in unhappy) == meeting_pack.THEME_EXAMPLES
    assert all(row[0] in row[3] for row in unhappy if row[3])  # the comment holds its term
    assert "耐心" in {row[0] for row in happy}
    figure = meeting_pack.themes_figure(section, "page 12 of 12")
    texts = [t.get_text() for t in figure.texts]
    assert "退款" in texts and "page 12 of 12" in texts


@pytest.mark.parametrize(
    "term, status",
    [("😀", 200), ("%", 200), ("a_b", 200), ("x" * 101, 400), ("a\x00b", 400), ("\u202e退款", 200)],
)
def test_hostile_terms_in_the_list_link(app, manager, term, status):
    reply = manager.get(
        "/manage/themes/comments", query_string={"side": "happy", "term": term, "lang": "en"}
    )
    assert reply.status_code == status
    if status == 200:
        assert "No comments hold this term in this view." in reply.get_data(as_text=True)


def test_an_erased_name_leaves_the_cached_chart(make_app, api_headers_for):
    from support import PASSWORD, answer

    from feedback import accounts

    app = make_app(THROTTLE_DAYS=0)  # one customer, four cases
    client, api_headers = api_headers_for(app)
    with in_app(app):
        accounts.create_user("manager", PASSWORD, "manager")
    manager = app.test_client()
    login(manager, "manager")

    unhappy = {"resolved": "no", "csat": "1", "nps": "0", "comment": "王小明的退款还没到"}
    happy = {"resolved": "yes", "csat": "5", "nps": "10", "comment": "很满意"}
    for i in range(8):
        answer(
            client,
            api_headers,
            unhappy if i < 4 else happy,
            case_id=f"N-{i}",
            resolved_at=f"2026-09-0{i % 4 + 2}T10:00:00+08:00",
            customer={"id": "cust-7", "name": "王小明"} if i < 4 else {"id": f"other-{i}"},
        )
    with in_app(app):
        day = Response.get().day
    period = f"survey=post-case&from={day.replace(day=1)}&to={day.replace(day=28)}"
    url = f"/manage/charts/comment-themes.csv?{period}"
    assert "王小明" in manager.get(url).get_data().decode("utf-8-sig")
    with in_app(app):
        privacy.erase("cust-7", actor="test")
    assert "王小明" not in manager.get(url).get_data().decode("utf-8-sig")
