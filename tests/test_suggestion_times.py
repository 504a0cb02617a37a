"""An anonymous suggestion's stored times say the hour and nothing finer, so that a proxy's
access log (times to the second) cannot be lined up with the database to find its sender."""

from __future__ import annotations

from datetime import date, datetime

from support import code_of, csrf_from, give, in_app, post_form

from feedback.models import Suggestion, SuggestionEvent


def stored_times(app, anonymous: bool) -> list[datetime]:
    """Every time stored for the sender's doing: the suggestion's columns and the events the
    submitter wrote (a staff member's reply is the staff's time)."""
    with in_app(app):
        times = []
        for row in Suggestion.select().where(Suggestion.anonymous == anonymous):
            times += [value for value in row.__data__.values() if isinstance(value, datetime)]
            times += [
                e.created_at
                for e in SuggestionEvent.select().where(
                    SuggestionEvent.suggestion == row, SuggestionEvent.by_submitter == True
                )
            ]  # noqa: E712
    return times


def test_no_stored_time_of_an_anonymous_suggestion_has_minutes_or_seconds(app, client, users):
    code = code_of(give(client))
    page = client.get(f"/suggest/track/{code}").get_data(as_text=True)
    reply = client.post(
        f"/suggest/track/{code}/comment",
        data={"csrf_token": csrf_from(page), "comment": "周末也一样。"},
    )
    assert reply.status_code == 303
    from support import login

    staff = app.test_client()
    login(staff, "staff")
    assert (
        post_form(
            staff,
            "/suggest/staff",
            {
                "category": "1",
                "title": "工位太挤",
                "body": "三个人一张桌子。",
                "identity": "anonymous",
            },
        ).status_code
        == 200
    )
    times = stored_times(app, anonymous=True)
    assert len(times) >= 2 * 3 + 1  # created, due, updated of each; the comment
    for moment in times:
        assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0), moment
    with in_app(app):
        for row in Suggestion.select():  # the local day still follows the stored time
            assert isinstance(row.day, date)
