"""Deliver many invitation emails through the outbox to an SMTP receiver that fails a share of them.

    .venv/bin/python bench/bench_invitations.py                 # 10,000 invitations, 1 in 10 fails
    .venv/bin/python bench/bench_invitations.py --count 2000 --fail-rate 0.2 --max-attempts 3

Registers the invitations through ``cases.register_case`` (as the API does; the site sends them),
then runs ``outbox.deliver_due`` until no row is left due, moving its clock forward past each
backoff instead of waiting. The receiver is a real SMTP server (aiosmtpd) on a loopback port that
answers a random share of the messages (seeded) with a temporary error (451), so the outbox
retries them. It prints the invitations, the emails sent (accepted by the receiver), the failed
attempts that were retried, the rows given up, the emails received, the duplicates (an
invitation's email received more than once) and the time taken. ``tests/test_invitations.py``
runs the same at 500 on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support import SmtpServer  # noqa: E402 (the tests' aiosmtpd receiver)

TOKEN_IN_LINK = re.compile(r"/unsubscribe/([A-Za-z0-9_-]{16,64})/")


class FlakyReceiver(SmtpServer):
    """The tests' SMTP server on 127.0.0.1, failing each message with probability ``fail_rate``
    (451) and counting the rest by invitation token."""

    def __init__(self, fail_rate: float, seed: int = 1):
        super().__init__()
        self.random = random.Random(seed)
        self.fail_rate = fail_rate
        self.lock = threading.Lock()
        self.tokens: Counter[str] = Counter()  # invitation token -> emails received
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.random.random() < self.fail_rate:
                self.refused += 1
                return "451 4.3.0 try again later (failing on purpose)"
            headers = BytesHeaderParser().parsebytes(envelope.content)
            match = TOKEN_IN_LINK.search(str(headers["List-Unsubscribe"]))
            self.tokens[match.group(1) if match else "?"] += 1
        return "250 OK"


def delivery_run(app, receiver: FlakyReceiver, count: int) -> dict:
    """Register ``count`` cases (each a different customer with an email) and deliver until
    nothing is due; the figures of the run."""
    from feedback import outbox
    from feedback.cases import CaseInput, InvitationPolicy, register_case
    from feedback.db import database, utcnow
    from feedback.models import Outbox
    from feedback.surveys import current_version

    resolved = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    with app.app_context(), database.connection_context():
        survey = current_version(app.config["DEFAULT_SURVEY"]).survey
        policy = InvitationPolicy.from_config(app.config)
        started = time.perf_counter()
        for number in range(count):
            case = CaseInput(
                case_ref=f"BENCH-{number}",
                survey=survey.slug,
                resolved_at=resolved,
                channel="email",
                customer_ref=f"bench-{number}",
                customer_email=f"customer{number}@example.test",
                customer_locale="en" if number % 2 else "zh_CN",
            )
            register_case(case, survey, policy)
        registered = time.perf_counter() - started
        clock = [utcnow()]
        sent = retried = given_up = skipped = 0
        started = time.perf_counter()
        while True:
            done = outbox.deliver_due(app.config, now=lambda: clock[0], batch=500)
            sent += done.delivered
            retried += done.failed
            given_up += done.given_up
            skipped += done.skipped
            if done == outbox.Outcome():
                waiting = Outbox.select().where(
                    Outbox.delivered_at.is_null(), Outbox.next_attempt_at.is_null(False)
                )
                if not waiting.exists():
                    break
                clock[0] = waiting.order_by(Outbox.next_attempt_at).first().next_attempt_at
        delivering = time.perf_counter() - started
    received = sum(receiver.tokens.values())
    return {
        "invitations": count,
        "sent": sent,
        "retried": retried,
        "given_up": given_up,
        "skipped": skipped,
        "received": received,
        "duplicates": sum(n - 1 for t, n in receiver.tokens.items() if n > 1 and t != "?"),
        "unrecognised": receiver.tokens["?"],
        "refused_by_receiver": receiver.refused,
        "register_seconds": round(registered, 1),
        "deliver_seconds": round(delivering, 1),
        "emails_per_second": round(sent / delivering, 1) if delivering else None,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--fail-rate", type=float, default=0.1)
    parser.add_argument("--max-attempts", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url", help="default: a new SQLite file in a temporary folder (migrated)"
    )
    args = parser.parse_args(argv)

    from feedback import create_app
    from feedback.db import database, migrate, open_database

    with tempfile.TemporaryDirectory() as folder, FlakyReceiver(args.fail_rate, args.seed) as rx:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        db = open_database(url)
        database.initialize(db)
        with database.connection_context():
            migrate(db)
        db.close_all()
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "EXPORTS_DIR": folder,
                "RATELIMIT_STORAGE": "memory://",
                "SEND_INVITATIONS": True,
                "REMINDERS": 0,
                "OUTBOX_MAX_ATTEMPTS": args.max_attempts,
                **rx.config,
            }
        )
        figures = delivery_run(app, rx, args.count)
        app.extensions["feedback.db"].close_all()
    print(f"fail rate {args.fail_rate}, at most {args.max_attempts} attempts, seed {args.seed}")
    for name, value in figures.items():
        print(f"{name:>22}: {value}")


if __name__ == "__main__":
    main()
