"""Backups and moving up: ``flask --app feedback backup DEST`` and ``copy-db --to URL``.

* ``backup`` on SQLite copies the live file with SQLite's online backup, a few pages a step, in
  one read transaction: in WAL mode readers never block writers, so the site keeps serving and
  writing, and the copy is the database as it stood when the backup began (without that
  transaction a step-by-step backup starts again after every write, and on a busy site never
  ends). The copy is checked with ``PRAGMA integrity_check`` before it gets its name. On
  PostgreSQL it runs ``pg_dump --format=custom`` when pg_dump is on the PATH, else prints the
  command to run.
* ``copy-db`` moves a SQLite site to an empty PostgreSQL database: migrate the target, refuse
  it if any table has rows, copy every table in dependency order in batches (one transaction:
  a failure leaves the target empty), set the sequences past the highest ids, ANALYZE, then
  compare per-table counts and checksums of source and target. A checksum is a SHA-256 over a
  table's rows read through the Peewee models in primary-key order and normalized in Python
  (times as ISO text, booleans as JSON, REAL to 6 significant digits), so it does not depend
  on how either database writes values as text.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

import click
import peewee as pw
from flask import Flask, current_app
from flask.cli import with_appcontext

from .cli import operator_language
from .db import LATEST_SCHEMA, database, is_postgres, migrate, open_database, schema_version

BACKUP_PAGES_PER_STEP = 1024  # 4 MiB a step with 4 KiB pages; between steps the GIL is free
COPY_BATCH = 5000


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(copy_db_command)


# --- backup ---------------------------------------------------------------------------------------


def sqlite_path(url: str) -> Path:
    """The file of a sqlite:/// URL (as db.open_database reads it)."""
    return Path(unquote(urlparse(url).path)[1:])


def backup_target(dest: Path, suffix: str, now: datetime | None = None) -> Path:
    """DEST itself, or a dated file in it when DEST is a folder."""
    if dest.is_dir():
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        return dest / f"feedback-{stamp}{suffix}"
    return dest


@dataclass
class SqliteBackup:
    path: Path
    pages: int
    steps: int
    seconds: float
    integrity: str


def backup_sqlite(
    source: Path, target: Path, pages_per_step: int = BACKUP_PAGES_PER_STEP, progress=None
) -> SqliteBackup:
    """Copy the live SQLite file ``source`` to ``target`` (which must not exist), step by step,
    as one snapshot; check the copy; give it its name only when it is sound.

    ``progress(done_pages, total_pages)`` is called after each step."""
    if target.exists():
        raise FileExistsError(f"{target}: exists already; give a new name or a folder")
    partial = target.with_name(f".{target.name}.part")
    partial.unlink(missing_ok=True)
    steps = 0
    t0 = time.perf_counter()
    src = sqlite3.connect(
        f"file:{source}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    try:
        src.execute("PRAGMA busy_timeout = 10000")
        # One read transaction over every step: the snapshot stays put while the site writes,
        # so the backup neither restarts nor mixes states.
        src.execute("BEGIN")
        src.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        dst = sqlite3.connect(partial, isolation_level=None)
        try:

            def step(_status, remaining, total):
                nonlocal steps
                steps += 1
                if progress:
                    progress(total - remaining, total)

            src.backup(dst, pages=pages_per_step, progress=step)
            pages = dst.execute("PRAGMA page_count").fetchone()[0]
            integrity = "; ".join(row[0] for row in dst.execute("PRAGMA integrity_check"))
            # a backup is one file: no -wal beside it
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
        src.execute("COMMIT")
    finally:
        src.close()
    if integrity != "ok":
        raise RuntimeError(f"{partial}: the copy failed PRAGMA integrity_check: {integrity}")
    os.link(partial, target)  # never replaces a file that appeared meanwhile
    partial.unlink()
    return SqliteBackup(target, pages, steps, round(time.perf_counter() - t0, 2), integrity)


def pg_dump_command(url: str, target: Path) -> tuple[list[str], dict[str, str]]:
    """The pg_dump command line (custom format) for a postgresql:// URL, and the environment it
    needs: the password goes in PGPASSWORD, never on the command line."""
    parsed = urlparse(url)
    env = {}
    if parsed.password:
        env["PGPASSWORD"] = unquote(parsed.password)
        netloc = parsed.hostname or ""
        if parsed.username:
            netloc = f"{parsed.username}@{netloc}"
        if parsed.port:
            netloc += f":{parsed.port}"
        parsed = parsed._replace(netloc=netloc)
    dbname = urlunparse(parsed._replace(scheme="postgresql"))
    return [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        f"--file={target}",
        f"--dbname={dbname}",
    ], env


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option(
    "--pages-per-step",
    default=BACKUP_PAGES_PER_STEP,
    show_default=True,
    help="SQLite: pages copied a step.",
)
@with_appcontext
def backup_command(dest: Path, pages_per_step: int):
    """Back the database up to DEST (a file, or a folder for a dated file) while the site runs.

    SQLite: an online backup, checked with PRAGMA integrity_check. PostgreSQL: pg_dump in its
    custom format (restore with pg_restore), or the command to run when pg_dump is missing."""
    url = current_app.config["DATABASE_URL"]
    lang = operator_language()
    if is_postgres():
        target = backup_target(dest, ".dump")
        command, env = pg_dump_command(url, target)
        printable = " ".join(command)
        if env:
            printable = "PGPASSWORD=... " + printable
        if shutil.which("pg_dump") is None:
            message = lang.gettext(
                "pg_dump is not on the PATH (Debian/Ubuntu: apt install postgresql-client). Run:"
            )
            click.echo(message, err=True)
            click.echo(printable)
            sys.exit(2)
        if target.exists():
            raise click.ClickException(
                lang.gettext(
                    "%(target)s: exists already; give a new name or a folder", target=target
                )
            )
        click.echo(lang.gettext("Running: %(command)s", command=printable), err=True)
        done = subprocess.run(command, env={**os.environ, **env})
        if done.returncode:
            target.unlink(missing_ok=True)
            raise click.ClickException(
                lang.gettext("pg_dump failed (exit status %(status)s)", status=done.returncode)
            )
        click.echo(str(target))
        return
    source = sqlite_path(url)
    if not source.exists():
        raise click.ClickException(lang.gettext("%(source)s: no such database file", source=source))
    target = backup_target(dest, ".sqlite3")
    if not target.parent.is_dir():
        raise click.ClickException(lang.gettext("%(folder)s: no such folder", folder=target.parent))
    shown = {"percent": -1}

    def progress(done, total):
        percent = 100 * done // max(total, 1)
        if percent >= shown["percent"] + 10 or done == total:
            shown["percent"] = percent
            message = lang.gettext(
                "  %(percent)s%% (%(done)s of %(total)s pages)",
                percent=f"{percent:3d}",
                done=lang.number(done),
                total=lang.number(total),
            )
            click.echo(message, err=True)

    try:
        result = backup_sqlite(source, target, pages_per_step, progress)
    except (FileExistsError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    except sqlite3.Error as exc:
        raise click.ClickException(f"{source} -> {target}: {exc}") from None
    message = lang.gettext(
        "Backed up %(pages)s in %(steps)s, %(seconds)s s; integrity_check: %(integrity)s.",
        pages=lang.ngettext(
            "%(num)s page", "%(num)s pages", result.pages, num=lang.number(result.pages)
        ),
        steps=lang.ngettext("%(num)s step", "%(num)s steps", result.steps),
        seconds=result.seconds,
        integrity=result.integrity,
    )
    click.echo(message, err=True)
    click.echo(str(result.path))


# --- copy-db --------------------------------------------------------------------------------------


def all_models() -> list[type[pw.Model]]:
    """Every model of the app, in dependency order (a table after the tables it references)."""
    from . import models

    found, stack = [], [models.BaseModel]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub not in found:
                found.append(sub)
    return pw.sort_models(found)


def normalize(field: pw.Field, value):
    """A value as the same JSON whichever database it came from."""
    if value is None:
        return None
    if isinstance(field, pw.DateTimeField) and isinstance(value, str):
        value = datetime.fromisoformat(value)
    elif isinstance(field, pw.DateField) and isinstance(value, str):
        value = date.fromisoformat(value[:10])
    elif isinstance(field, pw.BooleanField):
        value = bool(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (float, Decimal)):
        # PostgreSQL's REAL is single precision: both sides rounded to it first, so a value near
        # a rounding boundary of the 6 digits cannot come out differently on the two databases
        return f"{_single(float(value)):.6g}"
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


def _single(value: float) -> float:
    """The nearest single-precision (REAL) value."""
    return struct.unpack("f", struct.pack("f", value))[0]


_PLAIN = (pw.IntegerField, pw.CharField, pw.TextField, pw.AutoField, pw.ForeignKeyField)


def _normalizer(field: pw.Field):
    """normalize() for one column, with the checks that cannot apply left out: integers and
    texts (most values) pass as they are."""
    if isinstance(field, _PLAIN) and not isinstance(field, pw.BooleanField):
        return None

    def one(value):
        return normalize(field, value)

    return one


def _row_hasher(fields):
    """A function adding one row (a tuple in ``fields`` order) to a SHA-256."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    steps = [(i, f) for i, f in enumerate(map(_normalizer, fields)) if f is not None]

    def add(digest, row):
        if steps:
            row = list(row)
            for i, fn in steps:
                if row[i] is not None:
                    row[i] = fn(row[i])
        digest.update(dumps(row).encode() + b"\n")

    return add


def _row_json(fields, row) -> bytes:
    return (
        json.dumps(
            [normalize(f, v) for f, v in zip(fields, row, strict=True)],
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        + b"\n"
    )


def _ordered(model, db: pw.Database):
    fields = model._meta.sorted_fields
    pk = model._meta.primary_key
    order = list(pk.field_names) if isinstance(pk, pw.CompositeKey) else [pk.name]
    return (
        model.select(*fields).order_by(*(getattr(model, name) for name in order)).tuples().bind(db)
    ), fields


def table_checksum(model, db: pw.Database, batch: int = COPY_BATCH) -> tuple[int, str]:
    """(rows, SHA-256) of a table, read through its model in primary-key order."""
    query, fields = _ordered(model, db)
    digest, rows, add = hashlib.sha256(), 0, _row_hasher(fields)
    for row in query.iterator():
        add(digest, row)
        rows += 1
    return rows, digest.hexdigest()


class CopyRefused(Exception):
    """The copy cannot start: the message says why."""


@dataclass
class TableResult:
    table: str
    source_rows: int = 0
    source_checksum: str = ""
    target_rows: int = 0
    target_checksum: str = ""
    seconds: float = 0.0

    @property
    def same(self) -> bool:
        return (self.source_rows, self.source_checksum) == (self.target_rows, self.target_checksum)


@dataclass
class CopyResult:
    tables: list[TableResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def same(self) -> bool:
        return all(t.same for t in self.tables)


def check_copy(source: pw.Database, target: pw.Database) -> list:
    """The models to copy; raises CopyRefused when the two databases do not fit."""
    models = all_models()
    by_table = {m._meta.table_name: m for m in models}
    tables = [
        t for t in source.get_tables() if not t.startswith("sqlite_") and t != "schema_migration"
    ]
    unknown = [t for t in tables if t not in by_table]
    if unknown:
        raise CopyRefused(f"the source has table(s) no model maps: {', '.join(unknown)}")
    for model in models:
        table = model._meta.table_name
        columns = {c.name for c in source.get_columns(table)}
        mapped = {f.column_name for f in model._meta.sorted_fields}
        if columns != mapped:
            raise CopyRefused(
                f"table {table}: its columns ({', '.join(sorted(columns))}) "
                f"are not the model's ({', '.join(sorted(mapped))})"
            )
    for table in target.get_tables():
        if table == "schema_migration":
            continue
        if target.execute_sql(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():
            raise CopyRefused(
                f"the target is not empty: table {table} has rows "
                "(copy-db only fills an empty database)"
            )
    return models


def _insert_rows(cursor, sql: str, model, fields, rows, later: list[int], updates: list) -> None:
    """Insert a batch of rows; a reference to a row of the same table (``later``: the indexes of
    such fields) goes in as NULL now and into ``updates`` (id, field, value) for afterwards."""
    from psycopg2.extras import execute_values

    values = rows
    if later:
        pk_index = fields.index(model._meta.primary_key)
        values = []
        for row in rows:
            row = list(row)
            for i in later:
                if row[i] is not None:
                    updates.append((row[pk_index], fields[i], row[i]))
                    row[i] = None
            values.append(row)
    try:
        execute_values(cursor, sql, values, page_size=len(values))
    except ValueError as exc:  # psycopg2 refuses a NUL in a string
        raise CopyRefused(_nul_problem(model, fields, rows) or str(exc)) from None


def _nul_problem(model, fields, rows) -> str:
    pk_index = (
        fields.index(model._meta.primary_key)
        if not isinstance(model._meta.primary_key, pw.CompositeKey)
        else None
    )
    for row in rows:
        for f, value in zip(fields, row, strict=True):
            if isinstance(value, str) and "\x00" in value:
                where = f"id {row[pk_index]}" if pk_index is not None else f"row {row}"
                return (
                    f"table {model._meta.table_name}, {where}, column {f.column_name}: "
                    "holds a NUL character, which PostgreSQL cannot store"
                )
    return ""


def copy_tables(
    source: pw.Database, target: pw.Database, models, batch: int = COPY_BATCH, progress=None
) -> CopyResult:
    """Copy every table's rows, in one transaction on the target; the source is read in one
    snapshot. ``progress(table, total)`` returns a context manager with ``update(n)``."""
    result = CopyResult()
    t_all = time.perf_counter()
    with (
        source.transaction(lock_type="DEFERRED") if not is_postgres(source) else source.atomic(),
        target.atomic(),
    ):
        cursor = target.cursor()
        for model in models:
            t0 = time.perf_counter()
            table = model._meta.table_name
            query, fields = _ordered(model, source)
            columns = ", ".join(f'"{f.column_name}"' for f in fields)
            # a reference to a row of the same table (a suggestion merged into a later one)
            # goes in afterwards, once every row is there
            later = [
                i
                for i, f in enumerate(fields)
                if isinstance(f, pw.ForeignKeyField) and f.rel_model is model
            ]
            updates = []
            digest, rows_done, add = hashlib.sha256(), 0, _row_hasher(fields)
            total = model.select().bind(source).count()
            sql = f'INSERT INTO "{table}" ({columns}) VALUES %s'
            with progress(table, total) if progress else _NoProgress() as bar:
                rows = []

                for row in query.iterator():
                    add(digest, row)
                    rows.append(row)
                    rows_done += 1
                    if len(rows) >= batch:
                        _insert_rows(cursor, sql, model, fields, rows, later, updates)
                        bar.update(len(rows))
                        rows.clear()
                if rows:
                    _insert_rows(cursor, sql, model, fields, rows, later, updates)
                    bar.update(len(rows))
            for pk, f, value in updates:
                cursor.execute(
                    f'UPDATE "{table}" SET "{f.column_name}" = %s WHERE '
                    f'"{model._meta.primary_key.column_name}" = %s',
                    (value, pk),
                )
            result.tables.append(
                TableResult(
                    table, rows_done, digest.hexdigest(), seconds=round(time.perf_counter() - t0, 1)
                )
            )
        reset_sequences(target, models)
    result.seconds = round(time.perf_counter() - t_all, 1)
    return result


class _NoProgress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


def reset_sequences(target: pw.Database, models) -> None:
    """Each SERIAL's next value past the table's highest id, so new rows get new ids."""
    for model in models:
        pk = model._meta.primary_key
        if isinstance(pk, pw.AutoField):
            table, column = model._meta.table_name, pk.column_name
            target.execute_sql(
                f'SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX("{column}"), 1), '
                f'MAX("{column}") IS NOT NULL) FROM "{table}"',
                (table, column),
            )


def verify(result: CopyResult, target: pw.Database, models) -> CopyResult:
    """Fill in the target's counts and checksums, read back through the models."""
    by_table = {m._meta.table_name: m for m in models}
    for entry in result.tables:
        entry.target_rows, entry.target_checksum = table_checksum(by_table[entry.table], target)
    return result


def open_target(url: str) -> pw.Database:
    if urlparse(url).scheme not in ("postgresql", "postgres"):
        raise CopyRefused(f"--to {url}: not a postgresql:// address")
    return open_database(url)


@click.command("copy-db")
@click.option(
    "--to",
    "to_url",
    required=True,
    metavar="postgresql://...",
    help="The empty PostgreSQL database to copy to.",
)
@click.option("--batch", default=COPY_BATCH, show_default=True, help="Rows a statement.")
@with_appcontext
def copy_db_command(to_url: str, batch: int):
    """Copy this (SQLite) site's database to an empty PostgreSQL database, table by table, and
    compare per-table counts and checksums of both; exit status 1 when any differ.

    Stop the site (or its writes) first: what is written after the copy began stays behind."""
    database.connect(reuse_if_open=True)
    lang = operator_language()
    source = database.obj
    if schema_version(source) != LATEST_SCHEMA:
        raise click.ClickException(
            lang.gettext(
                "the source database is at schema %(version)s, not %(latest)s: run "
                "'flask --app feedback init-db' on it first",
                version=schema_version(source),
                latest=LATEST_SCHEMA,
            )
        )
    try:
        target = open_target(to_url)
        target.connect()
    except CopyRefused as exc:
        raise click.UsageError(str(exc)) from None
    except pw.OperationalError as exc:
        raise click.ClickException(
            lang.gettext("--to: cannot connect: %(reason)s", reason=str(exc).strip())
        ) from None
    try:
        models = check_copy(source, target)
        applied = migrate(target)
        if applied:
            message = lang.gettext(
                "Target migrated to schema %(latest)s (%(migrations)s).",
                latest=LATEST_SCHEMA,
                migrations=lang.ngettext("%(num)s migration", "%(num)s migrations", len(applied)),
            )
            click.echo(message, err=True)

        def progress(table, total):
            return click.progressbar(
                length=total, label=f"{table:<20}", file=sys.stderr, show_pos=True
            )

        result = copy_tables(source, target, models, batch, progress)
        click.echo(
            lang.gettext("Copied in %(seconds)s s; ANALYZE ...", seconds=result.seconds), err=True
        )
        target.execute_sql("ANALYZE")
        verify(result, target, models)
    except CopyRefused as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        target.close_all()
    table, source_rows, target_rows = (
        lang.gettext("table"),
        lang.gettext("source rows"),
        lang.gettext("target rows"),
    )
    source_sum, target_sum = lang.gettext("source sha256"), lang.gettext("target sha256")
    same, different = lang.gettext("same"), lang.gettext("DIFFERENT")
    click.echo(f"{table:<22}{source_rows:>12}{target_rows:>12}  {source_sum:<17}{target_sum:<17}")
    for t in result.tables:
        click.echo(
            f"{t.table:<22}{t.source_rows:>12,}{t.target_rows:>12,}  "
            f"{t.source_checksum[:16]:<17}{t.target_checksum[:16]:<17}"
            f"{same if t.same else different}"
        )
    if not result.same:
        differ = [t.table for t in result.tables if not t.same]
        raise click.ClickException(
            lang.gettext(
                "the copy differs from the source in: %(tables)s", tables=", ".join(differ)
            )
        )
    click.echo(
        lang.gettext(
            "All %(count)s tables copied; counts and checksums equal.", count=len(result.tables)
        )
    )
