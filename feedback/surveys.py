"""Survey definitions in the database: versions synced from ``surveys/`` or saved in the
browser's editor, and the current ones.

A changed definition becomes a new version; each response keeps the version it answered. A bad
file never replaces a good version: its error is recorded on the survey and shown to admins.

Files and the browser. ``survey.source`` names the file the version in use came from, and is
None once an admin saved a version in the browser (``save_edited``). From then on a sync leaves
the survey alone while its file differs (status ``kept``), so restarting the site or running
``surveys sync`` never undoes an edit made in the browser; ``surveys sync --force`` loads the
file anyway. A file whose content equals the version in use puts the survey back under its file
(the usual way: export the survey from the browser, commit it as the file).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import click
import peewee

from . import audit, definitions
from .cache import cached
from .db import LATEST_SCHEMA, database, schema_version, utcnow
from .definitions import DefinitionError, SurveyDefinition
from .models import Survey, SurveyVersion, User
from .names import N_
from .survey_problems import Message, Problem, problems_from_json, problems_to_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncOutcome:
    slug: str
    status: str  # "new", "changed", "unchanged", "kept" (edited in the browser) or "error"
    version: int | None
    problems: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.status == "error":
            kept = f"; version {self.version} stays in use" if self.version else ""
            return f"{self.slug}: refused{kept}\n  " + "\n  ".join(self.problems)
        if self.status == "kept":
            return (
                f"{self.slug}: kept, version {self.version} (saved in the browser); the file "
                "differs and was not loaded (export the survey to the file, or sync with --force)"
            )
        return f"{self.slug}: {self.status}, version {self.version}"


STARTUP_OUTCOMES = "feedback.survey_sync_at_start"  # app.extensions: a command's start-up sync


def sync(directory: Path | str, actor: str | None = None, force: bool = False) -> list[SyncOutcome]:
    """Bring the stored survey versions in line with the files in ``directory``.

    A survey whose version in use was saved in the browser is left alone while its file differs
    (``kept``), unless ``force``. A new version, and a new error, is audited (``survey.change``)
    by ``actor`` (default: the request's user, else ``cli``) in the transaction that stores it."""
    outcomes = []
    for path in definitions.survey_files(directory):
        try:
            definition = definitions.load_file(path)
        except DefinitionError as exc:
            outcomes.append(_record_error(path.stem, path.name, exc.problems, actor))
            continue
        except Exception as exc:  # noqa: BLE001 - no file may stop the site from starting
            log.exception("survey file %s could not be read", path.name)
            message = Message(
                N_("could not be read (%(error)s; the server log has the details)"),
                error=type(exc).__name__,
            )
            outcomes.append(_record_error(path.stem, path.name, [Problem(message, path.name)]))
            continue
        outcomes.append(_stored(definition, path.name, actor, force=force))
    return outcomes


def save_edited(definition: SurveyDefinition, user: User) -> SyncOutcome:
    """Store a definition an admin made in the browser, exactly as a sync stores a file's (same
    checksum, so a file of the same content later is ``unchanged``): a new version unless it
    equals the version in use. The survey is then the browser's (``source`` None)."""
    return _stored(definition, None, user, created_by=user)


def _stored(definition, source, actor, force=True, created_by=None) -> SyncOutcome:
    for attempt in range(3):  # another worker may store the same version at the same time
        try:
            return _store(definition, source, actor, force=force, created_by=created_by)
        except peewee.IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _store(
    definition: SurveyDefinition,
    source: str | None,
    actor: User | str | None = None,
    force: bool = True,
    created_by: User | None = None,
) -> SyncOutcome:
    """``source``: the file's name, or None for the browser (``created_by``)."""
    with database.atomic():
        survey = Survey.get_or_none(Survey.slug == definition.slug)
        if survey is None:
            survey = Survey.create(slug=definition.slug, source=source)
        current = (
            SurveyVersion.get_or_none(SurveyVersion.id == survey.current_version_id)
            if survey.current_version_id
            else None
        )
        if current and current.checksum == definition.checksum:
            # a file equal to the version in use (an exported edit) takes the survey back
            adopted = {"source": source} if source and survey.source != source else {}
            if survey.error or adopted:
                Survey.update(error=None, error_at=None, problems=None, **adopted).where(
                    Survey.id == survey.id
                ).execute()
            return SyncOutcome(definition.slug, "unchanged", current.version)
        if current and source and survey.source is None and not force:
            # the version in use was saved in the browser: a file never undoes it unasked
            if survey.error:  # the file is good now, though not loaded
                Survey.update(error=None, error_at=None, problems=None).where(
                    Survey.id == survey.id
                ).execute()
            return SyncOutcome(definition.slug, "kept", current.version)
        number = (
            SurveyVersion.select(peewee.fn.MAX(SurveyVersion.version))
            .where(SurveyVersion.survey == survey)
            .scalar()
            or 0
        ) + 1
        version = SurveyVersion.create(
            survey=survey,
            version=number,
            checksum=definition.checksum,
            definition=_to_json(definition),
            created_by=created_by,
        )
        # a save in the browser leaves a file's refusal shown: the file is still refused
        cleared = {"error": None, "error_at": None, "problems": None} if source else {}
        Survey.update(current_version_id=version.id, source=source, **cleared).where(
            Survey.id == survey.id
        ).execute()
        status = "changed" if current else "new"
        audit.record(
            "survey.change",
            f"survey {definition.slug}",
            actor=actor,
            status=status,
            version=number,
            **({"file": source} if source else {"edited": "browser"}),
        )
    return SyncOutcome(definition.slug, status, number)


def _record_error(
    slug: str, source: str, problems: list[str], actor: str | None = None
) -> SyncOutcome:
    with database.atomic():
        survey = Survey.get_or_none(Survey.slug == slug)
        if survey is None:
            survey = Survey.create(slug=slug, source=source)
        error = "\n".join(problems)
        Survey.update(error=error, error_at=utcnow(), problems=problems_to_json(problems)).where(
            Survey.id == survey.id
        ).execute()
        if survey.error != error:  # each worker's start finds it again: audited once
            audit.record(
                "survey.change",
                f"survey {slug}",
                actor=actor,
                status="error",
                file=source,
                problems=problems,
            )
        current = (
            SurveyVersion.get_or_none(SurveyVersion.id == survey.current_version_id)
            if survey.current_version_id
            else None
        )
    return SyncOutcome(slug, "error", current.version if current else None, tuple(problems))


def _to_json(definition: SurveyDefinition) -> str:
    import json

    return json.dumps(definition.to_dict(), ensure_ascii=False, sort_keys=True)


def sync_at_start(app) -> None:
    """Sync when the site starts; a database not yet set up is left alone, with a warning.

    The suggestion box's default categories are put in at the same moment (once)."""
    from .suggestions import ensure_default_categories

    command = click.get_current_context(silent=True) is not None
    with app.app_context():
        if command and not _can_open(database):
            # A command: surveys check reads only files, and a command that needs the
            # database says for itself what is wrong with it.
            return
        with database.connection_context():
            if schema_version(database) < LATEST_SCHEMA:
                # A site being started is told; a command (``init-db`` itself, most often)
                # says for itself what it needs.
                if not command:
                    app.logger.warning(
                        "the database is not up to date: run 'flask --app feedback init-db'"
                    )
                return
            ensure_default_categories()
            # a command's own start is the command's doing; a site's start is the system's
            actor = "cli" if click.get_current_context(silent=True) else "system"
            outcomes = sync(app.config["SURVEYS_DIR"], actor=actor)
            for outcome in outcomes:
                if outcome.status == "error":
                    app.logger.error("survey file refused: %s", outcome.describe())
                elif outcome.status == "kept":
                    app.logger.info("survey file not loaded: %s", outcome.describe())
            if command:
                # what this start did is the command's to report (``surveys sync``)
                app.extensions[STARTUP_OUTCOMES] = outcomes


def reported(outcomes: list[SyncOutcome], app) -> list[SyncOutcome]:
    """A command's sync outcomes, with what the same command's start-up sync did.

    ``flask --app feedback surveys sync`` builds the app first, and building it syncs: a changed
    file becomes its new version then, and the command's own sync finds it ``unchanged``. The
    start's ``new`` or ``changed`` of that version is what the person should read (read once).
    """
    earlier = {o.slug: o for o in app.extensions.pop(STARTUP_OUTCOMES, ())}
    return [
        earlier[o.slug]
        if o.status == "unchanged"
        and o.slug in earlier
        and earlier[o.slug].status in ("new", "changed")
        and earlier[o.slug].version == o.version
        else o
        for o in outcomes
    ]


def _can_open(db) -> bool:
    """Whether the database can be opened, without creating a SQLite file that is not there."""
    target = db.obj if isinstance(db, peewee.DatabaseProxy) else db
    if (
        isinstance(target, peewee.SqliteDatabase)
        and target.database != ":memory:"
        and not Path(target.database).exists()
    ):
        return False
    try:
        db.connect(reuse_if_open=True)
    except (peewee.DatabaseError, peewee.InterfaceError, click.ClickException):
        return False
    db.close()
    return True


@cached(maxsize=256)
def _parse_stored(checksum: str, text: str) -> SurveyDefinition:
    # Keyed on the content's checksum, so a cached definition is never the wrong one.
    return definitions.from_json(text)


def definition_of(version: SurveyVersion) -> SurveyDefinition:
    """The definition a stored version holds (parsed once per process)."""
    return _parse_stored(version.checksum, version.definition)


def current_version(slug: str) -> SurveyVersion | None:
    """The version of a survey now in use, with its survey, or None for an unknown slug."""
    return (
        SurveyVersion.select(SurveyVersion, Survey)
        .join(Survey, on=(Survey.current_version_id == SurveyVersion.id))
        .where(Survey.slug == slug)
        .first()
    )


def version_of(slug: str, number: int) -> SurveyVersion | None:
    """Version ``number`` of a survey, or None."""
    return (
        SurveyVersion.select()
        .join(Survey)
        .where(Survey.slug == slug, SurveyVersion.version == number)
        .first()
    )


def listing() -> list[dict]:
    """Every survey with its versions, newest first (each with ``saved_by``: who saved it in
    the browser, None for a file's), and a refused file's problems, for the admin pages."""
    surveys = list(Survey.select().order_by(Survey.slug))
    versions = list(
        SurveyVersion.select(
            SurveyVersion.id,
            SurveyVersion.survey,
            SurveyVersion.version,
            SurveyVersion.created_at,
            SurveyVersion.checksum,
            User.username.alias("saved_by"),  # None: loaded from a file
        )
        .join(User, peewee.JOIN.LEFT_OUTER, on=(SurveyVersion.created_by == User.id))
        .order_by(SurveyVersion.version.desc())
        .objects()
    )
    by_survey: dict[int, list] = {}
    for v in versions:
        by_survey.setdefault(v.survey_id, []).append(v)
    in_use = SurveyVersion.select().where(
        SurveyVersion.id.in_([s.current_version_id for s in surveys if s.current_version_id])
    )
    titles = {v.survey_id: definition_of(v).title for v in in_use}
    return [
        {
            "survey": s,
            "title": titles.get(s.id),  # of the version in use (a Text), None without one
            "versions": by_survey.get(s.id, []),
            "problems": problems_from_json(s.problems),
        }
        for s in surveys
    ]
