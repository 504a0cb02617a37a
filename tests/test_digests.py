"""Digest emails end to end: subscribing on /manage/digests/, `digests send` through the outbox
to a real SMTP server (aiosmtpd), once per period, the pack attached or linked."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime, timedelta

import pytest
from data_sets import expected
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import client_for, csrf_from, in_app, login, make_action, page_count, post_form

from feedback import digests
from feedback.db import database
from feedback.models import AuditEntry, DigestSubscription, FollowUp, Outbox, Survey, Team, User

EMAILS = {"manager": "manager@example.test", "lead": "lead@example.test"}


@pytest.fixture
def app(make_app, smtp_server):
    """The app sending mail to the local SMTP server."""
    return make_app(**smtp_server.config)


@pytest.fixture
def subscribers(app, users):
    with in_app(app):
        for name, email in EMAILS.items():
            User.update(email=email, locale="en").where(User.username == name).execute()
    return users


def _ids(app) -> dict:
    with in_app(app):
        return {
            "survey": Survey.get(Survey.slug == "post-case").id,
            "billing": Team.by_name("Billing").id,
            "support": Team.by_name("Support").id,
        }


def _subscribe(client, **fields):
    data = {"frequency": "monthly", "channel": "", "team": "", "agent": "", "category": ""}
    return post_form(client, "/manage/digests/?lang=en", {**data, **fields})


def _send(app, *args):
    return app.test_cli_runner().invoke(args=["digests", "send", *args])


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def _pdfs(message) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename(), part.get_content())
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


# --- the page -----------------------------------------------------------------------------------


def test_a_manager_subscribes_lists_and_stops_a_digest(app, subscribers):
    ids = _ids(app)
    manager = client_for(app, "manager")
    dashboard = manager.get("/manage/?survey=post-case&channel=phone").get_data(as_text=True)
    assert "/manage/digests/?" in dashboard and "channel=phone" in dashboard
    # the dashboard's filters fill the form in
    page = manager.get("/manage/digests/?survey=post-case&channel=phone&team=Billing")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<option selected value="phone">' in text or 'value="phone" selected' in text
    assert f'<option selected value="{ids["billing"]}">' in text
    reply = _subscribe(
        manager, survey=str(ids["survey"]), channel="phone", team=str(ids["support"]), agent="李娜"
    )
    assert reply.status_code == 303
    listed = manager.get("/manage/digests/?lang=en").get_data(as_text=True)
    # the survey's title, not its slug, in the list and the form's choices
    assert "Monthly · How did we do?" in listed and "team Support" in listed and "李娜" in listed
    assert "post-case" not in listed
    assert f'<option value="{ids["survey"]}">How did we do?</option>' in listed
    # the same again is refused beside the form
    again = _subscribe(
        manager, survey=str(ids["survey"]), channel="phone", team=str(ids["support"]), agent="李娜"
    )
    assert again.status_code == 422 and "You already get this digest." in again.get_data(
        as_text=True
    )
    with in_app(app):
        (made,) = DigestSubscription.select()
        assert (made.frequency, made.channel, made.team_id, made.agent, made.category) == (
            "monthly",
            "phone",
            ids["support"],
            "李娜",
            None,
        )
        assert AuditEntry.select().where(AuditEntry.action == "digest.subscribe").count() == 1
    # no CSRF token: refused
    bare = manager.post("/manage/digests/", data={"survey": str(ids["survey"])})
    assert bare.status_code == 400
    # another person cannot stop it: 404 as for one that does not exist
    admin = client_for(app, "admin")
    assert post_form(admin, "/manage/digests/", {}).status_code == 422
    other = post_form(admin, "/manage/digests/remove", {"subscription": str(made.id)})
    assert other.status_code == 404
    for number in ("x", "²", "", str(2**31), str(10**30), "-1"):
        refused = post_form(admin, "/manage/digests/remove", {"subscription": number})
        assert refused.status_code == 404, number
    stopped = post_form(manager, "/manage/digests/remove", {"subscription": str(made.id)})
    assert stopped.status_code == 303
    with in_app(app):
        assert DigestSubscription.select().count() == 0
        assert AuditEntry.select().where(AuditEntry.action == "digest.unsubscribe").count() == 1


def test_staff_may_not_and_a_lead_only_for_their_own_teams(app, subscribers):
    ids = _ids(app)
    staff = client_for(app, "staff")
    assert staff.get("/manage/digests/").status_code == 403
    token_page = staff.get("/").get_data(as_text=True)
    refused = staff.post(
        "/manage/digests/",
        data={
            "survey": str(ids["survey"]),
            "frequency": "weekly",
            "csrf_token": csrf_from(token_page),
        },
    )
    assert refused.status_code == 403
    lead = client_for(app, "lead")
    page = lead.get("/manage/digests/?lang=en").get_data(as_text=True)
    teams = re.search(r'<select id="team".*?</select>', page, re.S).group(0)
    assert f'value="{ids["billing"]}"' in teams and f'value="{ids["support"]}"' not in teams
    other_team = _subscribe(lead, survey=str(ids["survey"]), team=str(ids["support"]))
    assert other_team.status_code == 422
    assert "Please choose one from the list." in other_team.get_data(as_text=True)
    assert _subscribe(lead, survey=str(ids["survey"]), team=str(ids["billing"])).status_code == 303
    # no team: every team the lead leads
    assert _subscribe(lead, survey=str(ids["survey"]), frequency="weekly").status_code == 303
    with in_app(app):
        assert sorted((s.frequency, s.team_id) for s in DigestSubscription.select()) == [
            ("monthly", ids["billing"]),
            ("weekly", None),
        ]
        # the domain refuses it too, whatever the form offered
        with pytest.raises(digests.SubscriptionError):
            digests.subscribe(
                User.get(User.username == "lead"),
                digests.Choice(ids["survey"], "weekly", team_id=ids["support"]),
            )
        with pytest.raises(digests.SubscriptionError):
            digests.subscribe(
                User.get(User.username == "staff"), digests.Choice(ids["survey"], "weekly")
            )


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(agent=st.text(max_size=120), category=st.text(max_size=120))
def test_hostile_text_in_the_form_is_stored_or_refused_never_a_500(
    app, subscribers, agent, category
):
    ids = _ids(app)
    manager = client_for(app, "manager")
    reply = _subscribe(manager, survey=str(ids["survey"]), agent=agent, category=category)
    assert reply.status_code in (303, 400, 422), reply.status_code
    if reply.status_code == 303:
        page = manager.get("/manage/digests/")
        assert page.status_code == 200
        with in_app(app):
            DigestSubscription.delete().execute()


# --- sending ------------------------------------------------------------------------------------


def _subscription(app, username: str, frequency: str = "monthly", **filters) -> int:
    with in_app(app):
        user = User.get(User.username == username)
        survey = Survey.get(Survey.slug == "post-case").id
        return digests.subscribe(user, digests.Choice(survey, frequency, **filters)).id


def test_digests_send_mails_the_figures_and_the_pack_once_per_period(
    app, subscribers, scored, smtp_server
):
    _subscription(app, "manager")
    first = _send(app, "--today", "2026-10-05")
    assert first.exit_code == 0, first.output
    assert "queued 1, skipped 0" in first.output and "delivered 1" in first.output
    assert "Sending the digests" in first.output  # the progress bar, on stderr
    (message,) = smtp_server.messages
    assert message["To"] == "manager@example.test"
    assert message["Subject"] == "Monthly digest: post-case, Sep 1\u2009–\u200930, 2026"
    text, html = _text(message), _html(message)
    september = [r for r in scored if date(2026, 9, 1) <= r["day"] <= date(2026, 9, 30)]
    want = expected(september)
    csat = want["csat"]
    line = f"CSAT: {csat.value:.1f}% [{csat.low:.1f}, {csat.high:.1f}]"
    assert line.replace("-", "\u2012") in text
    nps = want["nps"]
    nps = want["nps"]
    assert (
        f"NPS: {nps.value:.1f} [{nps.low:.1f}, {nps.high:.1f}] · n {nps.n}".replace("-", "\u2012")
        in text
    )
    rate = 100 * want["answered"] / want["invited"]
    assert f"{rate:.1f}%" in text
    assert "Changes are against Aug 2\u2009–\u200931, 2026." in text
    assert f"{csat.value:.1f}%" in html and "<table" in html
    (name, pdf), *_rest = _pdfs(message)
    assert not _rest and name.startswith("feedback-meeting-pack-post-case-2026-09-01-to-2026-09-30")
    assert pdf.startswith(b"%PDF-") and 4 <= page_count(pdf) <= 40
    assert "The meeting pack (PDF" in text and "is attached" in text
    with in_app(app):
        (row,) = Outbox.select().where(Outbox.kind == "digest")
        assert row.delivered_at is not None and len(row.payload) < 200
    # the same period again: nothing
    second = _send(app, "--today", "2026-10-31")
    assert second.exit_code == 0 and "queued 0" in second.output
    assert len(smtp_server.messages) == 1
    # the next period: sent again, for October
    third = _send(app, "--today", "2026-11-02")
    assert third.exit_code == 0 and "queued 1" in third.output, third.output
    assert len(smtp_server.messages) == 2
    october = smtp_server.messages[1]
    assert "Oct 1\u2009–\u200931, 2026" in october["Subject"]
    # against September now: each change with its interval
    assert re.search(
        r"CSAT: [\d.]+% \[[\d.]+, [\d.]+\] · n \d+ · change [+‒][\d.]+ \[", _text(october)
    )


def test_two_senders_at_once_queue_a_period_once(app, subscribers):
    _subscription(app, "manager", "weekly")
    _subscription(app, "lead", "weekly")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            with database.connection_context():
                barrier.wait()
                results.append(digests.queue_due(app.config, date(2026, 12, 2)))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert sum(r.queued for r in results) == 2
    with in_app(app):
        assert Outbox.select().where(Outbox.kind == "digest").count() == 2
        assert {s.last_period for s in DigestSubscription.select()} == {date(2026, 11, 23)}


def test_a_large_pack_is_linked_and_the_link_needs_a_login(app, subscribers, scored, smtp_server):
    _subscription(app, "manager", channel="phone")
    app.config["DIGEST_ATTACH_MAX_BYTES"] = 1000
    result = _send(app, "--today", "2026-10-05")
    assert result.exit_code == 0, result.output
    (message,) = smtp_server.messages
    assert _pdfs(message) == []
    text = _text(message)
    assert "too large to attach" in text
    link = (
        "http://feedback.test/manage/meeting-pack.pdf?survey=post-case"
        "&from=2026-09-01&to=2026-09-30&channel=phone"
    )
    assert link in text and link.replace("&", "&amp;") in _html(message)
    path = link.removeprefix("http://feedback.test")
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    manager = app.test_client()
    login(manager, "manager")
    pdf = manager.get(path)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")


def test_the_lead_hears_of_their_teams_overdue_follow_ups_and_actions_only(
    app, subscribers, two_teams, smtp_server
):
    with in_app(app):
        FollowUp.update(due_at=datetime(2026, 1, 1)).execute()
    make_action(app, team="Billing", title="Billing's late action", due_date=date(2026, 10, 15))
    make_action(app, team="Support", title="Support's late action", due_date=date(2026, 10, 15))
    _subscription(app, "lead", "weekly")
    result = _send(app)
    assert result.exit_code == 0, result.output
    (message,) = smtp_server.messages
    text = _text(message)
    assert f"#{two_teams['C-B1']} C-B1 (Billing)" in text
    assert "C-S1" not in text
    assert "Billing's late action" in text and "Support's late action" not in text
    assert f"http://feedback.test/manage/follow-ups/{two_teams['C-B1']}" in text


def test_the_digest_speaks_the_subscribers_language(app, subscribers, smtp_server):
    with in_app(app):
        User.update(locale="zh_CN").where(User.username == "manager").execute()
    _subscription(app, "manager", "weekly")
    assert _send(app, "--today", "2026-12-02").exit_code == 0
    (message,) = smtp_server.messages
    text = _text(message)
    assert "周报" in message["Subject"] and "逾期的跟进" in text
    assert "Overdue follow-ups" not in text


def test_who_can_no_longer_receive_is_skipped(app, subscribers, smtp_server):
    _subscription(app, "lead", "weekly")
    with in_app(app):
        User.update(email=None).where(User.username == "lead").execute()
    result = _send(app, "--today", "2026-12-02")
    assert result.exit_code == 0 and "queued 0, skipped 1" in result.output
    assert smtp_server.messages == []


def test_a_subscription_removed_after_queueing_sends_nothing(app, subscribers, smtp_server):
    made = _subscription(app, "manager", "weekly")
    assert _send(app, "--today", "2026-12-02", "--no-deliver").exit_code == 0
    with in_app(app):
        DigestSubscription.delete().where(DigestSubscription.id == made).execute()
    assert "delivered 1" in _send(app, "--today", "2026-12-02").output
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    "args,named",
    [
        (["--today", "2026-13-01"], "'2026-13-01' is not a date like 2026-11-30"),
        (["--today", "tomorrow"], "'tomorrow' is not a date"),
        (["--today", "0001-01-01"], "between 1900 and 9998"),
        (["--today", "9999-12-31"], "between 1900 and 9998"),
    ],
)
def test_the_cli_names_bad_input(app, args, named):
    result = _send(app, *args)
    assert result.exit_code == 2
    assert "--today" in result.output and named in result.output


def test_the_cli_says_when_mail_is_off(app):
    app.config["SMTP_HOST"] = ""
    result = _send(app)
    assert result.exit_code == 2 and "FEEDBACK_SMTP_HOST" in result.output


def test_periods():
    assert digests.last_period("weekly", date(2026, 12, 2)) == (
        date(2026, 11, 23),
        date(2026, 11, 29),
    )
    assert digests.last_period("weekly", date(2026, 11, 30)) == (
        date(2026, 11, 23),
        date(2026, 11, 29),
    )
    assert digests.last_period("monthly", date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert digests.last_period("monthly", date(2027, 1, 15)) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    assert digests.last_period("weekly", date(2026, 12, 2) + timedelta(days=7))[0] == date(
        2026, 11, 30
    )
    with pytest.raises(ValueError):
        digests.last_period("daily", date(2026, 12, 2))


def test_the_outbox_deliverer_sends_a_queued_digest_outside_any_app_context(
    app, subscribers, scored, smtp_server
):
    """As the outbox thread or `outbox deliver` does: no Flask context, the config as a dict."""
    from feedback import outbox

    _subscription(app, "manager")
    queued = _send(app, "--today", "2026-10-05", "--no-deliver")
    assert "queued 1" in queued.output and smtp_server.messages == []
    with database.connection_context():
        done = outbox.deliver_due(dict(app.config))
    assert done.delivered == 1
    (message,) = smtp_server.messages
    assert len(_pdfs(message)) == 1
