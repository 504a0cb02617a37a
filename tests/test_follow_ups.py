"""Follow-ups: rules in the survey file, opened with the response, the queue and each page."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta

import pytest
from support import DETRACTOR, HAPPY, UNRESOLVED, answer, csrf_from, in_app, login, new_case

from feedback import definitions, follow_ups, responses
from feedback.definitions import DefinitionError, parse
from feedback.i18n import language
from feedback.models import FollowUp, FollowUpEvent, Invitation, Response, Team
from feedback.workdays import WorkingTime

BASE = {
    "slug": "demo",
    "title": {"zh-CN": "标题", "en": "Title"},
    "intro": {"zh-CN": "说明", "en": "Intro"},
    "thanks": {"zh-CN": "谢谢", "en": "Thanks"},
    "questions": [
        {"id": "csat", "type": "csat", "text": {"zh-CN": "满意吗", "en": "Happy?"}},
        {
            "id": "reason",
            "type": "choice",
            "text": {"zh-CN": "原因", "en": "Why"},
            "choices": [
                {"value": "price", "label": {"zh-CN": "价格", "en": "Price"}},
                {"value": "speed", "label": {"zh-CN": "速度", "en": "Speed"}},
            ],
        },
        {"id": "note", "type": "text", "text": {"zh-CN": "备注", "en": "Note"}},
    ],
}


# --- rules in the survey file ------------------------------------------------------------------


def test_rules_match_scales_yes_no_and_choices():
    survey = definitions.load_file("surveys/post-case.yaml")
    assert [str(r) for r in survey.follow_up] == ["csat <= 2", "nps <= 6", "resolved == no"]
    assert survey.follow_up_reasons({"resolved": "yes", "csat": 3, "nps": 7}) == []
    assert survey.follow_up_reasons({"resolved": "yes", "csat": 2, "nps": 9}) == ["csat <= 2"]
    assert survey.follow_up_reasons({"resolved": "no", "csat": 5, "nps": 6}) == [
        "nps <= 6",
        "resolved == no",
    ]
    choice = parse({**BASE, "follow_up": ["reason in [price]"]})
    assert choice.follow_up_reasons({"csat": 5, "reason": "price"}) == ["reason in [price]"]
    assert choice.follow_up_reasons({"csat": 5, "reason": "speed"}) == []


def test_a_changed_rule_is_a_new_version():
    one = parse({**BASE, "follow_up": ["csat <= 2"]})
    assert one.checksum != parse({**BASE, "follow_up": ["csat <= 1"]}).checksum
    assert one.checksum != parse(copy.deepcopy(BASE)).checksum
    assert definitions.from_json(__import__("json").dumps(one.to_dict())) == one


@pytest.mark.parametrize(
    "rules,fragment",
    [
        ("csat <= 2", "'follow_up' must be a list"),
        (
            ["nps <= 6"],
            "demo.yaml: question 'nps': 'follow_up' names 'nps', which is not a "
            "question of this survey",
        ),
        (["csat <= 9"], "demo.yaml: question 'csat': 'follow_up' value '9' does not fit"),
        (["note == bad"], "question 'note': 'follow_up' cannot depend on a text question"),
        (["reason in [cheap]"], "question 'reason': 'follow_up' value 'cheap' does not fit"),
        (["reason < price"], "'<' needs a scale question"),
        (["csat about 2"], "demo.yaml: 'follow_up' must read like 'csat <= 2'"),
    ],
)
def test_bad_rules_are_named_with_file_and_question(rules, fragment):
    with pytest.raises(DefinitionError) as caught:
        parse({**BASE, "follow_up": rules}, "demo.yaml")
    assert any(fragment in p for p in caught.value.problems), caught.value.problems


# --- opened with the response ------------------------------------------------------------------


@pytest.mark.parametrize(
    "data,reasons", [(DETRACTOR, "nps <= 6"), (UNRESOLVED, "resolved == no"), (HAPPY, None)]
)
def test_a_response_meeting_a_rule_opens_a_follow_up(app, client, api_headers, data, reasons):
    assert answer(client, api_headers, data).status_code == 302
    with in_app(app):
        response = Response.get()
        found = list(FollowUp.select())
        if reasons is None:
            assert found == [] and FollowUpEvent.select().count() == 0
            return
        (follow_up,) = found
        assert follow_up.response_id == response.id and follow_up.reasons == reasons
        assert follow_up.team_id == Team.get(Team.name == "Billing").id
        assert follow_up.state == "open" and follow_up.created_at == response.submitted_at
        expected = WorkingTime.from_config(app.config).add(response.submitted_at, 2)
        assert follow_up.due_at == expected and follow_up.day == response.day
        (event,) = FollowUpEvent.select()
        assert (event.from_state, event.to_state, event.user_id) == (None, "open", None)


def test_due_time_follows_the_setting(make_app, api_headers_for):
    app = make_app(FOLLOW_UP_DAYS=5)
    client, headers = api_headers_for(app)
    answer(client, headers, DETRACTOR)
    with in_app(app):
        follow_up = FollowUp.get()
        assert follow_up.due_at == WorkingTime.from_config(app.config).add(follow_up.created_at, 5)


def test_follow_up_and_response_are_stored_together_or_not_at_all(
    app, client, api_headers, monkeypatch
):
    def broken(*args, **kwargs):
        FollowUp.insert(
            response=-1,
            case=-1,
            survey=-1,
            reasons="x",
            state="open",
            created_at=datetime(2026, 1, 1),
            due_at=datetime(2026, 1, 1),
            day=None,
            week=None,
            month=None,
        ).execute()  # violates NOT NULL

    monkeypatch.setattr(follow_ups, "open_follow_up", broken)
    assert answer(client, api_headers, DETRACTOR).status_code == 500  # the error page
    with in_app(app):
        assert Response.select().count() == 0 and FollowUp.select().count() == 0
        assert Invitation.get().status == "pending"  # the customer can still answer
    monkeypatch.undo()
    with in_app(app):
        invitation = Invitation.get()
        path = f"/s/{invitation.token}"
    page = client.get(path).get_data(as_text=True)
    assert client.post(path, data={**DETRACTOR, "csrf_token": csrf_from(page)}).status_code == 302
    with in_app(app):
        assert Response.select().count() == 1 and FollowUp.select().count() == 1


# --- the queue and the page ----------------------------------------------------------------------


def logged_in(app, role):
    client = app.test_client()
    if role:
        login(client, role)
    return client


@pytest.mark.parametrize(
    "role,status", [(None, 302), ("staff", 403), ("lead", 200), ("manager", 200), ("admin", 200)]
)
def test_every_route_checks_the_role(app, two_teams, role, status):
    client = logged_in(app, role)
    follow_up = two_teams["C-B1"]
    for url in ("/manage/follow-ups/", f"/manage/follow-ups/{follow_up}"):
        reply = client.get(url)
        assert reply.status_code == status, url
        if role is None:
            assert "/login" in reply.headers["Location"]
    token = csrf_from(client.get("/login" if role is None else "/").get_data(as_text=True))
    for action in ("contact", "close", "reopen"):
        reply = client.post(f"/manage/follow-ups/{follow_up}/{action}", data={"csrf_token": token})
        assert reply.status_code == (302 if role is None else 403 if status == 403 else 422), action
    with in_app(app):
        assert FollowUpEvent.select().count() == 2  # one "opened" each, nothing more


def test_a_lead_sees_only_the_teams_they_lead(app, two_teams):
    lead = logged_in(app, "lead")
    page = lead.get("/manage/follow-ups/").get_data(as_text=True)
    assert "C-B1" in page and "C-S1" not in page
    assert lead.get(f"/manage/follow-ups/{two_teams['C-S1']}").status_code == 404
    token = csrf_from(lead.get("/").get_data(as_text=True))
    assert (
        lead.post(
            f"/manage/follow-ups/{two_teams['C-S1']}/contact",
            data={"contact_note": "x", "csrf_token": token},
        ).status_code
        == 404
    )
    reply = lead.get("/manage/follow-ups/?team=Support&lang=en")
    assert reply.status_code == 400 and "Not a team you can see" in reply.get_data(as_text=True)
    manager = logged_in(app, "manager")
    page = manager.get("/manage/follow-ups/").get_data(as_text=True)
    assert "C-B1" in page and "C-S1" in page


def test_queue_filters_and_order(app, two_teams):
    manager = logged_in(app, "manager")
    with in_app(app):
        FollowUp.update(due_at=datetime(2020, 1, 1)).where(
            FollowUp.id == two_teams["C-S1"]
        ).execute()
    page = manager.get("/manage/follow-ups/?lang=en").get_data(as_text=True)
    assert page.index("C-S1") < page.index("C-B1")  # earliest due first
    assert page.count("Overdue") == 1 and 'class="overdue"' in page
    only = manager.get("/manage/follow-ups/?team=Billing").get_data(as_text=True)
    assert "C-B1" in only and "C-S1" not in only
    assert "C-B1" not in manager.get("/manage/follow-ups/?state=closed").get_data(as_text=True)
    assert "C-B1" not in manager.get("/manage/follow-ups/?survey=callback").get_data(as_text=True)
    assert "C-B1" in manager.get("/manage/follow-ups/?survey=post-case&state=open").get_data(
        as_text=True
    )
    bad = manager.get("/manage/follow-ups/?state=lost&survey=nope&lang=en")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="q-state-error"' in text and "Unknown survey" in text


def test_a_long_queue_comes_in_pages_with_its_counts(app, two_teams):
    """120 follow-ups: pages of 50 in due order, none lost or repeated, filters kept."""
    with in_app(app):
        first = FollowUp.get_by_id(two_teams["C-B1"])
        source = Response.get_by_id(first.response_id)
        base = datetime(2030, 1, 1)
        for i in range(118):
            response = Response.create(**{**source.__data__, "id": None, "invitation": None})
            FollowUp.create(
                **{
                    **first.__data__,
                    "id": None,
                    "response": response.id,
                    "due_at": base + timedelta(hours=i),
                }
            )
        FollowUp.update(due_at=datetime(2020, 1, 1)).where(
            FollowUp.id == two_teams["C-S1"]
        ).execute()  # overdue, so first
        expected = [f.id for f in FollowUp.select().order_by(FollowUp.due_at, FollowUp.id)]
    manager = logged_in(app, "manager")
    seen, pages = [], []
    for number in (1, 2, 3):
        page = manager.get(f"/manage/follow-ups/?state=open&page={number}&lang=en").get_data(
            as_text=True
        )
        pages.append(page)
        seen += [int(i) for i in re.findall(r'href="/manage/follow-ups/(\d+)"', page)]
        assert "120 follow-ups match these filters" in page and "1 overdue" in page
    assert seen == expected  # every follow-up once, earliest due first
    assert "Next page" in pages[0] and "Previous page" not in pages[0]
    assert "Next page" in pages[1] and "Previous page" in pages[1]
    assert "Next page" not in pages[2] and "showing 101–120" in pages[2]
    assert "state=open" in pages[1].split("Next page")[0].rsplit("href=", 1)[1]  # filters kept
    for odd in ("abc", "0", "-3", "1" + "0" * 30):
        reply = manager.get(f"/manage/follow-ups/?page={odd}")
        assert reply.status_code == 200, odd
    chinese = manager.get("/manage/follow-ups/?state=open&page=3&lang=zh-CN").get_data(as_text=True)
    assert "符合筛选条件的跟进共 120 条" in chinese and "第 3 页" in chinese
    assert "C-B1" in manager.get("/manage/follow-ups/?page=abc").get_data(as_text=True)
    beyond = manager.get("/manage/follow-ups/?state=open&page=9&lang=en").get_data(as_text=True)
    assert "past the end of the list" in beyond and "No follow-ups match" not in beyond
    assert "state=open" in beyond.split("First page")[0].rsplit("href=", 1)[1]
    lead = logged_in(app, "lead")  # counts only what the lead may see
    assert "119 follow-ups match" in lead.get("/manage/follow-ups/?lang=en").get_data(as_text=True)


def test_the_page_shows_case_answers_and_history(app, two_teams):
    lead = logged_in(app, "lead")
    page = lead.get(f"/manage/follow-ups/{two_teams['C-B1']}?lang=en").get_data(as_text=True)
    assert "C-B1" in page and "李娜" in page and "wang@example.cn" in page
    assert "Was your problem resolved?" in page and "<dd>Yes</dd>" in page
    assert "4 (of 1–5)" in page and "3 (of 0–10)" in page and "meh" in page
    assert "answered by the customer" in page
    # why: the question and the answer in words, not the rule "nps <= 6" (nor in the history)
    assert "nps &lt;=" not in page
    why = "How likely are you to recommend us to a friend or colleague? 3 (scale 0 to 10)"
    assert page.count(why) == 2
    chinese = lead.get(f"/manage/follow-ups/{two_teams['C-B1']}?lang=zh-CN").get_data(as_text=True)
    assert "您有多大可能向朋友或同事推荐我们？ 3" in chinese and "nps &lt;=" not in chinese


def test_the_queue_shows_survey_titles_and_reasons_in_words(app, two_teams):
    """No slug (post-case) nor rule text (resolved == no) where a lead reads the queue; the
    survey filter lists titles and still filters by slug."""
    manager = logged_in(app, "manager")
    page = manager.get("/manage/follow-ups/?lang=en").get_data(as_text=True)
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "post-case" not in rows and "&lt;=" not in rows and "==" not in rows
    assert rows.count("How did we do?") == 2  # the survey's English title, each row
    assert "Was your problem resolved? No" in rows
    assert '<option value="post-case">How did we do?</option>' in page
    chinese = manager.get("/manage/follow-ups/?lang=zh-CN").get_data(as_text=True)
    assert "您的问题解决了吗？ 否" in chinese.split("<tbody>")[1]


def post(client, url, data):
    page = client.get(url.rsplit("/", 1)[0]).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_from(page)})


def test_contact_close_and_reopen_record_who_when_and_a_note(app, two_teams, users):
    lead = logged_in(app, "lead")
    base = f"/manage/follow-ups/{two_teams['C-B1']}"
    assert (
        post(lead, f"{base}/contact", {"contact_note": "No answer, left a message"}).status_code
        == 302
    )
    assert (
        post(lead, f"{base}/contact", {"contact_note": "Called back, refund explained"}).status_code
        == 302
    )
    assert (
        post(lead, f"{base}/close", {"outcome": "recovered", "close_note": "Happy now"}).status_code
        == 302
    )
    page = lead.get(f"{base}?lang=en").get_data(as_text=True)
    assert "Closed (Recovered" in page and "Reopen" in page and "Record a contact" not in page
    assert post(lead, f"{base}/contact", {"contact_note": "late"}).status_code == 302
    manager = logged_in(app, "manager")
    assert (
        post(manager, f"{base}/reopen", {"reopen_note": "Customer called again"}).status_code == 302
    )
    with in_app(app):
        follow_up = FollowUp.get_by_id(two_teams["C-B1"])
        assert follow_up.state == "open" and follow_up.outcome is None
        assert follow_up.closed_at is None and follow_up.first_contact_at is not None
        events = [
            (e.from_state, e.to_state, e.outcome, e.user.username if e.user else None, e.note)
            for e in follow_ups.events(follow_up.id)
        ]
    assert events == [
        (None, "open", None, None, "nps <= 6"),
        ("open", "contacted", None, "lead", "No answer, left a message"),
        ("contacted", "contacted", None, "lead", "Called back, refund explained"),
        ("contacted", "closed", "recovered", "lead", "Happy now"),
        ("closed", "open", None, "manager", "Customer called again"),
    ]  # the contact sent after closing changed nothing


def test_first_contact_time_is_kept_from_the_first_contact(app, db, two_teams, users):
    follow_up_id = two_teams["C-B1"]
    first = datetime(2026, 11, 23, 2, 0)
    follow_ups.record_contact(follow_up_id, users["lead"], "one", now=first)
    follow_ups.record_contact(follow_up_id, users["lead"], "two", now=first + timedelta(hours=1))
    follow_ups.close(
        follow_up_id, users["lead"], "unreachable", "three", now=first + timedelta(hours=2)
    )
    follow_up = FollowUp.get_by_id(follow_up_id)
    assert follow_up.first_contact_at == first and follow_up.outcome == "unreachable"
    assert follow_up.closed_at == first + timedelta(hours=2)
    with pytest.raises(follow_ups.TransitionError):
        follow_ups.close(follow_up_id, users["lead"], "recovered", "again")
    with pytest.raises(ValueError):
        follow_ups.close(follow_up_id, users["lead"], "fine", "x")


@pytest.mark.parametrize(
    "action,data,field",
    [
        ("contact", {"contact_note": "   "}, "contact_note"),
        ("close", {"outcome": "", "close_note": "kept text"}, "outcome"),
        ("close", {"outcome": "maybe", "close_note": "kept text"}, "outcome"),
        ("close", {"outcome": "recovered", "close_note": ""}, "close_note"),
        ("close", {"outcome": "recovered", "close_note": "x" * 2001}, "close_note"),
        ("reopen", {"reopen_note": ""}, "reopen_note"),
    ],
)
def test_bad_input_is_named_beside_its_field_and_kept(app, two_teams, action, data, field):
    lead = logged_in(app, "lead")
    base = f"/manage/follow-ups/{two_teams['C-B1']}"
    if action == "reopen":
        post(lead, f"{base}/close", {"outcome": "declined", "close_note": "no thanks"})
    reply = post(lead, f"{base}/{action}", data)
    text = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert f'id="{field}-error"' in text and f'aria-describedby="{field}-error"' in text
    # the problem opens the page too (the form is further down), linked to its field
    summary = text.split('class="error-summary"')[1].split("</div>")[0]
    target = f"{field}-0" if field == "outcome" else field
    assert f'href="#{target}"' in summary and f'id="{target}"' in text
    if data.get("close_note") == "kept text":
        assert "kept text" in text
    with in_app(app):
        assert FollowUpEvent.select().count() == (3 if action == "reopen" else 2)


def test_a_form_without_its_csrf_token_changes_nothing(app, two_teams):
    lead = logged_in(app, "lead")
    reply = lead.post(
        f"/manage/follow-ups/{two_teams['C-B1']}/contact", data={"contact_note": "forged"}
    )
    assert reply.status_code in (400, 422)
    with in_app(app):
        assert FollowUpEvent.select().count() == 2


def test_unknown_follow_up_is_404(app, two_teams):
    assert logged_in(app, "admin").get("/manage/follow-ups/99999").status_code == 404


# --- figures -------------------------------------------------------------------------------------

T0 = datetime(2026, 11, 2, 2, 0)  # Monday 10:00 in Asia/Shanghai, UTC as stored
PERIOD = "from=2026-11-01&to=2026-11-30"


def _opened(app, client, api_headers, case_id, team, now=T0, source="link", user=None):
    """A detractor's response submitted at ``now`` through responses.submit; its follow-up id."""
    from feedback.surveys import current_version, definition_of

    new_case(
        client, api_headers, case_id=case_id, team=team, customer={"id": case_id, "locale": "en"}
    )
    with in_app(app):
        from feedback.models import Case

        case = Case.get(Case.case_ref == case_id)
        version = current_version("post-case")
        response_id = responses.submit(
            Invitation.get(Invitation.case == case.id),
            case,
            version,
            definition_of(version),
            {"resolved": "yes", "csat": 4, "nps": 3},
            locale="en",
            tz="Asia/Shanghai",
            source=source,
            entered_by=user,
            now=now,
            follow_up_policy=follow_ups.Policy.from_config(app.config),
        )
        return FollowUp.get(FollowUp.response == response_id).id


@pytest.fixture
def worked(app, client, api_headers, users):
    """Billing: contacted after 1 h (recovered), after 3 h (not recovered), never (overdue);
    Support: contacted after 10 days, past its due time (recovered)."""
    lead, manager = users["lead"], users["manager"]
    ids = {
        ref: _opened(app, client, api_headers, ref, team)
        for ref, team in (
            ("B1", "Billing"),
            ("B2", "Billing"),
            ("B3", "Billing"),
            ("S1", "Support"),
        )
    }
    with in_app(app):
        follow_ups.record_contact(ids["B1"], lead, "called", now=T0 + timedelta(hours=1))
        follow_ups.close(ids["B1"], lead, "recovered", "fine now", now=T0 + timedelta(hours=2))
        follow_ups.close(
            ids["B2"], lead, "not_recovered", "still angry", now=T0 + timedelta(hours=3)
        )
        follow_ups.record_contact(ids["S1"], manager, "late", now=T0 + timedelta(days=10))
        follow_ups.close(ids["S1"], manager, "recovered", "ok", now=T0 + timedelta(days=10))
    return ids


def test_figures_by_team_worked_by_hand(app, db, worked):
    from datetime import date

    from feedback.follow_up_figures import table
    from feedback.models import Survey
    from feedback.reports import Slice

    s = Slice(
        survey_id=Survey.get(Survey.slug == "post-case").id,
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
    )
    rows = {row.key: row for row in table(s, "team")}
    billing, support, everyone = rows["Billing"], rows["Support"], rows[None]
    assert (billing.opened, billing.closed, billing.recovered) == (3, 2, 1)
    assert billing.on_time.value == pytest.approx(200 / 3) and billing.on_time.n == 3
    assert billing.median_hours == pytest.approx(2.0)  # 1 h and 3 h
    assert billing.recovery.value == pytest.approx(50.0)
    assert (support.opened, support.on_time.value, support.median_hours) == (1, 0.0, 240.0)
    assert support.recovery.value == pytest.approx(100.0)
    assert everyone.opened == 4 and everyone.on_time.value == pytest.approx(50.0)
    assert everyone.median_hours == pytest.approx(3.0)  # of 1, 3 and 240 h
    assert everyone.recovery.value == pytest.approx(200 / 3) and everyone.recovery.n == 3
    lead_only = table(
        Slice(s.survey_id, s.start, s.end, allowed_team_ids=(Team.get(Team.name == "Billing").id,)),
        "team",
    )
    assert [r.key for r in lead_only] == ["Billing", None]
    weeks = table(s, "week")
    assert [(r.key, r.opened, r.median_hours) for r in weeks] == [
        (date(2026, 11, 2), 4, pytest.approx(3.0)),
        (None, 4, pytest.approx(3.0)),
    ]
    months = table(s, "month")
    assert [(r.key, r.median_hours) for r in months] == [
        (date(2026, 11, 1), pytest.approx(3.0)),
        (None, pytest.approx(3.0)),
    ]


def test_dashboard_shows_follow_up_figures_and_chart(app, worked, manager):
    page = manager.get(f"/manage/?{PERIOD}&lang=en").get_data(as_text=True)
    section = page[page.index('id="follow-up-figures"') :]
    section = section[: section.index("</table>")]
    assert "Billing" in section and "Support" in section and "All teams" in section
    assert "67%" in section and "2.0 h" in section and "1 of 2 closed" in section
    assert "2 of 3 closed" in section and "240.0 h" in section
    assert "follow-up-recovery.png" in page
    by_week = page[page.index('id="follow-up-periods"') :]
    by_week = by_week[: by_week.index("</table>")]
    assert "2026-11-02" in by_week and "Whole period" in by_week and "2 of 3 closed" in by_week
    csv = manager.get(f"/manage/charts/follow-up-recovery.csv?{PERIOD}").get_data(as_text=True)
    assert "Billing,3,66.6" in csv and "Support,1,0.0,240.0,1,1,100.0" in csv
    assert manager.get(
        f"/manage/charts/follow-up-recovery.png?{PERIOD}&size=small"
    ).data.startswith(b"\x89PNG")
    lead = logged_in(app, "lead")
    lead_page = lead.get(f"/manage/?{PERIOD}&lang=en").get_data(as_text=True)
    assert "Support" not in lead_page[lead_page.index('id="follow-up-figures"') :]


def test_meeting_pack_has_a_follow_up_page_when_there_are_follow_ups(app, db, worked):
    from datetime import date

    from feedback import meeting_pack
    from feedback.models import Survey
    from feedback.reports import Slice
    from feedback.surveys import current_version, definition_of

    s = Slice(
        survey_id=Survey.get(Survey.slug == "post-case").id,
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
    )
    definition = definition_of(current_version("post-case"))
    assert "follow-up-recovery" in meeting_pack.steps(s, definition)
    empty = Slice(s.survey_id, date(2026, 10, 1), date(2026, 10, 31))
    assert "follow-up-recovery" not in meeting_pack.steps(empty, definition)
    from feedback.follow_up_figures import summary_text, table

    assert summary_text(table(s, "team")[-1], language("en")) == (
        "4 opened · contacted on time 50% · median time to first contact 3.0 h · "
        "recovered 67% of 3 closed"
    )


def test_source_filter_counts_links_and_call_backs(
    app, client, api_headers, users, manager, api_headers_for
):
    _opened(app, client, api_headers, "L1", "Billing")
    _opened(app, client, api_headers, "L2", "Billing")
    _opened(app, client, api_headers, "C1", "Billing", source="callback", user=users["staff"])
    page = manager.get(f"/manage/?{PERIOD}&lang=en").get_data(as_text=True)
    assert "Answers counted: 2 from customers' links, 1 recorded on call-backs." in page
    only = manager.get(f"/manage/?{PERIOD}&source=callback&lang=en").get_data(as_text=True)
    assert "Answers counted: 1 recorded on call-backs (2 from customers' links left out)" in only
    assert 'value="callback" selected' in only
    metrics = client.get(f"/api/v1/metrics?{PERIOD}&source=callback", headers=api_headers)
    assert metrics.get_json()["overall"]["responses"] == 1
    links = client.get(f"/api/v1/metrics?{PERIOD}&source=link", headers=api_headers)
    assert links.get_json()["overall"]["responses"] == 2
    bad = client.get(f"/api/v1/metrics?{PERIOD}&source=phone", headers=api_headers)
    assert bad.status_code == 400 and "source" in bad.get_json()["errors"]
    bad_page = manager.get(f"/manage/?{PERIOD}&source=phone")
    assert bad_page.status_code == 400 and 'id="f-source-error"' in bad_page.get_data(as_text=True)


def test_admin_sets_a_leads_email_address(app, users):
    from support import post_form

    from feedback.models import User

    admin = logged_in(app, "admin")
    url = f"/admin/users/{users['lead'].id}"
    base = {"display_name": "Lead", "role": "lead", "team": "", "locale": "", "active": "y"}
    bad = post_form(admin, url + "?lang=en", {**base, "email": "not an address"})
    assert bad.status_code in (400, 422)
    assert 'id="email-error"' in bad.get_data(as_text=True)
    assert post_form(admin, url, {**base, "email": " lead@example.cn "}).status_code == 302
    created = post_form(
        admin,
        "/admin/users/new",
        {
            "username": "newlead",
            "password": "x" * 12,
            "role": "lead",
            "team": "",
            "locale": "",
            "email": "new@example.cn",
        },
    )
    assert created.status_code == 302
    with in_app(app):
        assert User.get_by_id(users["lead"].id).email == "lead@example.cn"
        assert User.get(User.username == "newlead").email == "new@example.cn"


def test_demo_data_has_follow_ups_worked_by_the_leads(app, db):
    from feedback.demo import fill

    summary = fill(cases=300, seed=11, config=app.config)
    opened = FollowUp.select().count()
    closed = FollowUp.select().where(FollowUp.state == "closed").count()
    assert opened > 10 and 0 < closed <= opened
    assert f"{opened} follow-ups opened, {closed} of them closed" in summary
    unhappy = Response.select().where((Response.csat <= 2) | (Response.nps <= 6)).count()
    assert opened >= unhappy  # every unhappy answer has one (and "not resolved" ones too)
    from feedback.models import Outbox

    assert Outbox.select().count() == 0  # no notifications for old demo answers
    for follow_up in FollowUp.select().where(FollowUp.state == "closed"):
        assert follow_up.created_at < follow_up.first_contact_at <= follow_up.closed_at


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_recovery_chart_draws_groups_and_an_empty_period(locale):
    lang = language(locale)
    from feedback import charts

    groups = [
        charts.RecoveryFigure("Billing", 50.0, 9.5, 90.5, 2),
        charts.RecoveryFigure("技术支持", 100.0, 20.7, 100.0, 1),
    ]
    figure = charts.follow_up_chart(groups, lang, min_sample=30, summary="4 opened")
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels == ["Billing", "技术支持"]
    assert "4 opened" in figure.axes[0].get_title(loc="left")
    assert charts.render(figure, "png", "small").startswith(b"\x89PNG")
    empty = charts.follow_up_chart([], lang)
    assert charts.render(empty, "svg").startswith(b"<?xml")


def test_two_people_closing_at_once_make_one_change(app, two_teams, users):
    import threading

    follow_up_id = two_teams["C-B1"]
    barrier = threading.Barrier(2)
    results = []

    def close(user, outcome):
        with in_app(app):
            barrier.wait()
            try:
                follow_ups.close(follow_up_id, user, outcome, f"{user.username} closed it")
                results.append(outcome)
            except follow_ups.TransitionError:
                results.append("refused")

    threads = [
        threading.Thread(target=close, args=(users["lead"], "recovered")),
        threading.Thread(target=close, args=(users["manager"], "declined")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results)[-1] == "refused" and len(results) == 2
    with in_app(app):
        follow_up = FollowUp.get_by_id(follow_up_id)
        closes = FollowUpEvent.select().where(
            FollowUpEvent.follow_up == follow_up_id, FollowUpEvent.to_state == "closed"
        )
        assert closes.count() == 1 and follow_up.outcome == closes.get().outcome
