"""Commands: ``flask --app feedback <command>``, over the same functions the views use."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
import peewee
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import accounts, audit, case_csv, definitions, site_settings
from .cases import InvalidInput, InvitationPolicy, parse_case, register_case
from .db import LATEST_SCHEMA, database, migrate, schema_version
from .i18n import Language, language, normalize_locale
from .models import Team
from .surveys import current_version, reported, sync
from .vocabulary import LOCALES, ROLES


def init_app(app: Flask) -> None:
    for command in (init_db, create_user, create_token, import_cases, demo):
        app.cli.add_command(command)
    app.cli.add_command(surveys_group)
    app.cli.add_command(export_group)
    app.cli.add_command(outbox_group)
    app.cli.add_command(digests_group)
    from . import backup  # backup and copy-db

    backup.init_app(app)
    from . import privacy_cli

    privacy_cli.init_app(app)


def operator_language() -> Language:
    """The language of the person at the terminal, read from the environment as gettext reads
    it (LANGUAGE, LC_ALL, LC_MESSAGES, LANG): Chinese when the first one set names Chinese,
    else English."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return language(normalize_locale(value.split(":")[0].split(".")[0]) or "en")
    return language("en")


def _db():
    try:
        database.connect(reuse_if_open=True)
    except peewee.OperationalError as exc:  # no server there, or no such file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(
            operator_language().gettext(
                "cannot open the database at FEEDBACK_DATABASE_URL: %(reason)s", reason=reason
            )
        ) from None
    return database


class UnusableDatabase(peewee.Database):
    """Stands in for the database when FEEDBACK_DATABASE_URL is bad and a command is run:
    ``surveys check`` reads only files and never opens it; any other command that does is told
    what is wrong with the setting, without a traceback."""

    def __init__(self, message: str):
        super().__init__("unusable")
        self.message = message

    def _connect(self):
        raise click.ClickException(self.message)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create the database, or upgrade an existing one in place (keeping every row)."""
    db = _db()
    lang = operator_language()
    before = schema_version(db)

    def progress(number, description):
        message = lang.gettext(
            "  applied migration %(number)s: %(description)s",
            number=number,
            description=description,
        )
        click.echo(message)

    if migrate(db, progress=progress):
        message = lang.gettext(
            "Database schema upgraded from version %(before)s to %(latest)s.",
            before=before,
            latest=LATEST_SCHEMA,
        )
    else:
        message = lang.gettext(
            "Database schema is up to date (version %(latest)s).", latest=LATEST_SCHEMA
        )
    click.echo(message)
    for outcome in reported(sync(current_app.config["SURVEYS_DIR"]), current_app):
        click.echo(lang.gettext("  survey %(outcome)s", outcome=outcome.describe()))


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="staff", show_default=True)
@click.option("--name", "display_name", help="The name shown on pages.")
@click.option("--team", help="The team's name; created when it does not exist.")
@click.option(
    "--agent",
    "agent_code",
    help="The name or code the helpdesk sends as the agent of this person's cases.",
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when left out.",
)
def create_user(username, role, display_name, team, agent_code, password):
    """Create a user who can log in."""
    _db()
    try:
        user = accounts.create_user(
            username,
            password,
            role,
            display_name=display_name,
            team=Team.by_name(team) if team else None,
            agent_code=agent_code,
        )
    except accounts.AccountError as exc:
        raise click.UsageError(f"{exc.field}: {exc.message}") from None
    audit.user_created(user)
    message = operator_language().gettext(
        "Created %(role)s '%(username)s'.", role=user.role, username=user.username
    )
    click.echo(message)


@click.command("create-token")
@with_appcontext
@click.argument("name")
def create_token(name):
    """Create an API token; it is printed once, as the last line, and only its hash is kept."""
    _db()
    try:
        token = accounts.create_token(name)
    except accounts.AccountError as exc:
        raise click.UsageError(f"{exc.field}: {exc.message}") from None
    audit.record("token.create", f"API token {name.strip()}")
    message = operator_language().gettext(
        "API token '%(name)s' created. Keep it now; it cannot be shown again:", name=name
    )
    click.echo(message, err=True)
    click.echo(token)


surveys_group = AppGroup("surveys", help="Check and load the survey definitions in surveys/.")


@surveys_group.command("check")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to check (default: the SURVEYS_DIR setting).",
)
def surveys_check(directory):
    """Validate every survey file; each error names the file, the question and the problem."""
    directory = directory or Path(current_app.config["SURVEYS_DIR"])
    good, problems = definitions.load_directory(directory)
    lang = operator_language()
    for slug in sorted(good):
        count = len(good[slug].questions)
        questions = lang.ngettext("%(num)s question", "%(num)s questions", count)
        click.echo(lang.gettext("ok    %(slug)s (%(questions)s)", slug=slug, questions=questions))
    for problem in problems:
        click.echo(lang.gettext("error %(problem)s", problem=problem), err=True)
    if problems:
        sys.exit(1)
    if not good:
        message = lang.gettext("no survey files (*.yaml) in %(folder)s", folder=directory)
        click.echo(message, err=True)
        sys.exit(1)


@surveys_group.command("sync")
@click.option(
    "--force",
    is_flag=True,
    help="Load a changed file even when the version in use was saved in the browser.",
)
def surveys_sync(force):
    """Load changed survey files as new versions; a bad file keeps its last good version.

    A survey last saved in the browser keeps that version while its file differs, unless
    --force."""
    _db()
    outcomes = reported(sync(current_app.config["SURVEYS_DIR"], force=force), current_app)
    for outcome in outcomes:
        click.echo(outcome.describe())
    if any(o.status == "error" for o in outcomes):
        sys.exit(1)


CSV_COLUMNS = (
    "case_id",
    "survey",
    "resolved_at",
    "channel",
    "agent",
    "team",
    "category",
    "reopened",
    "customer_id",
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_locale",
)


REOPENED = {
    "": False,
    "0": False,
    "false": False,
    "no": False,
    "1": True,
    "true": True,
    "yes": True,
}


def _row_to_case(row: dict) -> dict:
    data = {k: (row.get(k) or None) for k in CSV_COLUMNS if not k.startswith("customer_")}
    # anything else stays text, which parse_case reports as not true or false
    data["reopened"] = REOPENED.get(
        (row.get("reopened") or "").strip().lower(), row.get("reopened")
    )
    data["customer"] = {
        k[len("customer_") :]: row.get(k) or None for k in CSV_COLUMNS if k.startswith("customer_")
    }
    return data


@click.command("import-cases")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--skip-bad",
    is_flag=True,
    help="Import the good rows of a file that has bad ones (default: import nothing).",
)
def import_cases(file: Path, skip_bad: bool):
    """Import resolved cases from a CSV file (columns: see the README)."""
    _db()
    config = current_app.config
    try:
        text, encoding = case_csv.decode(file.read_bytes())
    except case_csv.FileError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    lang = operator_language()
    if encoding != "UTF-8":
        message = lang.gettext("%(file)s: read as %(encoding)s text", file=file, encoding=encoding)
        click.echo(message, err=True)
    delimiter = case_csv.delimiter_of(text)
    try:
        records = list(case_csv.records(text, delimiter))
    except case_csv.FileError as exc:
        raise click.ClickException(f"{file}, {exc}") from None
    header = [name.strip() for name in records[0][1]] if records else []
    missing = [c for c in ("case_id", "resolved_at", "channel") if c not in header]
    if missing:
        raise click.ClickException(
            lang.ngettext(
                "%(file)s, line %(line)s: missing column %(columns)s",
                "%(file)s, line %(line)s: missing columns %(columns)s",
                len(missing),
                file=file,
                line=records[0][0] if records else 1,
                columns=", ".join(missing),
            )
        )
    parsed, problems, bad_rows, versions = [], [], 0, {}
    for line, values in records[1:]:  # each record at the line it starts on
        before = len(problems)
        too_many = case_csv.row_problem(values, len(header), delimiter)
        if too_many:
            problems.append(f"{file}, line {line}: {too_many}")
        else:
            case_in = _parse_row(
                dict(zip(header, values, strict=False)), file, line, versions, problems
            )
            if case_in is not None:
                parsed.append(case_in)
        bad_rows += len(problems) > before
    for problem in problems:
        click.echo(problem, err=True)
    if problems and not skip_bad:
        raise click.ClickException(
            lang.gettext(
                "%(problems)s in %(rows)s; nothing imported. Fix the file, or give --skip-bad "
                "to import the good rows.",
                problems=lang.ngettext("%(num)s problem", "%(num)s problems", len(problems)),
                rows=lang.ngettext("%(num)s row", "%(num)s rows", bad_rows),
            )
        )
    counts = {"new": 0, "known": 0, "suppressed": 0}
    policy = InvitationPolicy.from_config(site_settings.effective(config))
    label = lang.gettext("Importing cases")
    with click.progressbar(parsed, label=label, file=sys.stderr) as bar:
        for case_in in bar:
            registration = register_case(case_in, versions[case_in.survey].survey, policy)
            counts["new" if registration.created else "known"] += 1
            counts["suppressed"] += registration.created and registration.suppressed
    click.echo(
        lang.gettext(
            "Imported %(new)s; %(known)s known already; %(suppressed)s without an invitation "
            "(throttled or reopened); %(bad)s skipped.",
            new=lang.ngettext("%(num)s new case", "%(num)s new cases", counts["new"]),
            known=counts["known"],
            suppressed=lang.ngettext("%(num)s new case", "%(num)s new cases", counts["suppressed"]),
            bad=lang.ngettext("%(num)s bad row", "%(num)s bad rows", bad_rows),
        )
    )


def _parse_row(row: dict, file: Path, line: int, versions: dict, problems: list):
    """One row as a CaseInput, or None with its problems added (``file, line N, field F``)."""
    config = current_app.config
    try:
        case_in = parse_case(_row_to_case(row), config["DEFAULT_SURVEY"], config["TIMEZONE"])
    except InvalidInput as exc:
        for field, messages in exc.errors.items():
            problems.append(f"{file}, line {line}, field {field}: {' '.join(messages)}")
        return None
    if case_in.survey not in versions:
        versions[case_in.survey] = current_version(case_in.survey)
    if versions[case_in.survey] is None:
        problems.append(f"{file}, line {line}, field survey: unknown survey '{case_in.survey}'")
        return None
    return case_in


@click.command("demo")
@with_appcontext
@click.option("--cases", default=5000, show_default=True, help="How many cases to make.")
@click.option("--seed", default=7, show_default=True, help="Same seed, same data.")
def demo(cases: int, seed: int):
    """Fill the database with six months of realistic demo data (and the demo users)."""
    from .demo import fill

    _db()
    migrate(database)
    sync(current_app.config["SURVEYS_DIR"])
    summary = fill(
        cases=cases,
        seed=seed,
        config=current_app.config,
        progress=lambda items, label: click.progressbar(items, label=label, file=sys.stderr),
    )
    click.echo(summary)


export_group = AppGroup("export", help="Write reports to files (under the EXPORTS_DIR setting).")


@export_group.command("meeting-pack")
@with_appcontext
@click.option(
    "--from", "start", required=True, metavar="YYYY-MM-DD", help="The period's first day."
)
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD", help="The period's last day.")
@click.option("--survey", help="The survey's slug (default: the DEFAULT_SURVEY setting).")
@click.option("--channel", help="Only this channel.")
@click.option("--team", help="Only this team (its name).")
@click.option("--agent", help="Only this agent.")
@click.option("--category", help="Only this category.")
@click.option(
    "--locale",
    type=click.Choice(LOCALES),
    help="The pack's language (default: the DEFAULT_LOCALE setting).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write to (default: the EXPORTS_DIR setting).",
)
def export_meeting_pack(start, end, survey, channel, team, agent, category, locale, out):
    """The meeting pack of a period and slice as PDF: headline figures, the dashboard's charts
    and the detractors' comments. Prints the file's path as the last line."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from . import exports, meeting_pack
    from .i18n import language
    from .surveys import definition_of
    from .web.filters import FilterError, parse_filters

    _db()
    config = current_app.config
    given = {
        "from": start,
        "to": end,
        "survey": survey,
        "channel": channel,
        "team": team,
        "agent": agent,
        "category": category,
    }
    try:
        filters = parse_filters(
            {k: v for k, v in given.items() if v is not None},
            config["DEFAULT_SURVEY"],
            config["TIMEZONE"],
            lang=operator_language(),
        )
    except FilterError as exc:
        raise click.UsageError(
            "; ".join(f"--{name}: {' '.join(messages)}" for name, messages in exc.errors.items())
        ) from None
    version = current_version(filters.survey)
    if version is None:
        raise click.UsageError(f"--survey: survey '{filters.survey}' has no loaded version")
    folder = out or Path(config["EXPORTS_DIR"])
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(
            f"cannot create {folder}: {exc.strerror}", param_hint="'--out'"
        ) from None
    locale = locale or config["DEFAULT_LOCALE"]
    definition = definition_of(version)
    labels = meeting_pack.steps(filters.slice, definition, config["TIMEZONE"])
    made = datetime.now(ZoneInfo(config["TIMEZONE"]))  # on the cover and in the file's name
    with click.progressbar(
        length=len(labels),
        label=operator_language().gettext("Building the meeting pack"),
        file=sys.stderr,
        item_show_func=lambda label: label,
    ) as bar:
        pdf = meeting_pack.build_pack(
            filters.slice,
            filters.survey,
            definition,
            language(locale),
            config["MIN_SAMPLE"],
            config["TIMEZONE"],
            progress=lambda label: bar.update(1, label),
            made=made,
        )
    name = exports.export_name("meeting-pack", filters.slice, filters.survey, "pdf", now=made)
    click.echo(str(_write_new(folder / name, pdf)))


def _write_new(path: Path, data: bytes) -> Path:
    """Write the file whole under ``path``, or under path-2, -3... when that name is taken (the
    name says the period and the minute, not the filters: packs for two teams made in the same
    minute must not overwrite each other). Returns where it went."""
    partial = None
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".part")
        partial = Path(name)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        for number in range(1, 1000):
            target = path if number == 1 else path.with_stem(f"{path.stem}-{number}")
            try:
                os.link(partial, target)  # atomic, and never replaces a file
            except FileExistsError:
                continue
            return target
        raise click.ClickException(f"{path.parent}: too many files named {path.stem}-*")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)


outbox_group = AppGroup("outbox", help="Deliver the notifications waiting in the outbox.")


@outbox_group.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering (every few seconds) until stopped.")
@with_appcontext
def outbox_deliver(loop):
    """Deliver every notification that is due, with retries and backoff; safe to run twice."""
    import threading

    from . import outbox

    config = current_app.config
    if loop:
        click.echo(operator_language().gettext("Delivering the outbox; Ctrl+C stops."))
        try:
            outbox.run_loop(config, threading.Event())
        except KeyboardInterrupt:
            pass
        return
    _db()
    from .robots import alert_overdue

    alert_overdue(config)  # the overdue follow-ups' chat alerts, due at once
    done = outbox.deliver_due(config)
    message = operator_language().gettext(
        "delivered %(delivered)s, failed %(failed)s (to retry), given up %(given_up)s, "
        "not sent as no longer due %(skipped)s",
        delivered=done.delivered,
        failed=done.failed,
        given_up=done.given_up,
        skipped=done.skipped,
    )
    click.echo(message)


@outbox_group.command("overdue")
@with_appcontext
def outbox_overdue():
    """Alert the teams' chat robots of follow-ups that passed their due time (once each; the
    deliverer does it too); prints how many alerts were written."""
    from .robots import alert_overdue

    _db()
    written = alert_overdue(current_app.config)
    click.echo(
        operator_language().ngettext(
            "%(num)s overdue alert written to the outbox",
            "%(num)s overdue alerts written to the outbox",
            written,
        )
    )


digests_group = AppGroup("digests", help="Weekly and monthly digest emails of the subscribers.")


@digests_group.command("send")
@click.option(
    "--today",
    metavar="YYYY-MM-DD",
    help="Send what is due on this day (default: today in the TIMEZONE setting).",
)
@click.option(
    "--deliver/--no-deliver",
    default=True,
    help="Deliver the queued digests now (default), or leave them to the outbox deliverer.",
)
@with_appcontext
def digests_send(today, deliver):
    """Queue the digest of each subscription whose last week or month has not been sent, and
    deliver them through the outbox. For cron: a period is sent once, however often it runs and
    on however many machines."""
    from datetime import date

    from . import digests, mail, outbox
    from .periods import LAST_DAY

    lang = operator_language()
    config = current_app.config
    day = None
    if today is not None:
        try:
            day = date.fromisoformat(today)
        except ValueError:
            day = None
        if day is None or not date(1900, 1, 1) <= day <= LAST_DAY:
            raise click.BadParameter(
                lang.gettext(
                    "%(value)s is not a date like 2026-11-30 between 1900 and 9998",
                    value=repr(today),
                ),
                param_hint="'--today'",
            )
    _db()
    if not mail.enabled(site_settings.effective(config)):
        raise click.UsageError(
            lang.gettext(
                "No SMTP server is set (FEEDBACK_SMTP_HOST or the admin's channels page): "
                "digests cannot be sent."
            )
        )
    queued = digests.queue_due(config, day)
    click.echo(
        lang.gettext(
            "queued %(queued)s, skipped %(skipped)s (no email address or no longer allowed)",
            queued=queued.queued,
            skipped=queued.skipped,
        )
    )
    if not deliver:
        return
    sent = failed = given_up = 0
    with click.progressbar(
        length=digests.waiting(),
        label=lang.gettext("Sending the digests"),
        file=sys.stderr,
    ) as bar:
        for _step in range(bar.length):
            done = outbox.deliver_due(config, batch=1, kinds=(digests.KIND,))
            if not (done.delivered or done.failed or done.given_up):
                break  # another deliverer took the rest
            sent, failed, given_up = (
                sent + done.delivered,
                failed + done.failed,
                given_up + done.given_up,
            )
            bar.update(1)
    click.echo(
        lang.gettext(
            "delivered %(delivered)s, failed %(failed)s (to retry), given up %(given_up)s",
            delivered=sent,
            failed=failed,
            given_up=given_up,
        )
    )
