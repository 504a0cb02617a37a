"""The soak test of bench/soak.py at a small size, on SQLite and PostgreSQL: gunicorn with 4
workers, clients answering surveys, a worker SIGKILLed every few seconds and the whole server
killed once and restarted; nothing acknowledged is lost, half-stored or stored twice."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from support import csrf_from, new_case, survey_path

ROOT = Path(__file__).resolve().parent.parent


def load_soak():
    spec = importlib.util.spec_from_file_location("soak", ROOT / "bench" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("soak", module)
    spec.loader.exec_module(module)
    return module


soak = load_soak()


def test_soak_small_loses_nothing_while_workers_and_the_server_die(database_url, tmp_path):
    figures = soak.run(
        database_url,
        clients=6,
        seconds=8,
        kill_every=2,
        server_kill_at=4,
        workers=4,
        folder=tmp_path,
    )
    print(figures)
    assert figures["server_kills"] == 1 and figures["worker_kills"] >= 1
    assert figures["acknowledged"] > 0 and figures["stored"] >= figures["acknowledged"]
    assert figures["lost"] == 0, figures
    assert figures["half_stored"] == 0, figures
    assert figures["duplicated"] == 0, figures
    assert figures["cases_lost"] == 0, figures


def test_the_check_sees_lost_and_half_stored_answers(app, client, api_headers, database_url):
    """The soak's own check is not blind: a lost answer, a missing answer and a missing
    follow-up are each counted."""
    answered = survey_path(new_case(client, api_headers, case_id="C-1"))
    page = client.get(answered).get_data(as_text=True)
    sent = {"resolved": "yes", "csat": "5", "nps": "9", "ces": "6"}
    assert client.post(answered, data={**sent, "csrf_token": csrf_from(page)}).status_code == 302
    token = answered.rsplit("/", 1)[-1]

    tally = soak.Tally()
    tally.answers_acknowledged = {token, "never-stored"}
    tally.sent = {token: (sent, False)}
    figures = soak.check(database_url, tally)
    assert (figures["lost"], figures["half_stored"], figures["duplicated"]) == (1, 0, 0)

    tally.sent = {token: ({**sent, "comment": "lost on the way"}, True)}
    figures = soak.check(database_url, tally)
    assert figures["half_stored_kinds"] == {"answers missing": 1, "follow-up missing": 1}
