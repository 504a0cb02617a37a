"""Commands for data-protection requests and retention: ``flask --app feedback customer export
ID``, ``customer erase ID`` and ``retention apply`` (for cron)."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import privacy
from .cli import operator_language
from .db import database

customer_group = AppGroup("customer", help="What is held about one customer: export or erase.")
retention_group = AppGroup(
    "retention", help="Remove old cases' contact details (CONTACT_RETENTION_DAYS)."
)


def init_app(app: Flask) -> None:
    app.cli.add_command(customer_group)
    app.cli.add_command(retention_group)


def _nothing(key: str) -> click.ClickException:
    return click.ClickException(
        operator_language().gettext(
            "no customer with the id or email %(key)s: no case and no named suggestion holds it",
            key=repr(key),
        )
    )


@customer_group.command("export")
@click.argument("key", metavar="ID_OR_EMAIL")
def customer_export(key):
    """Print (JSON) everything held about the customer with this customer id or email: cases,
    invitations, responses with answers, follow-ups and their notes, outbox rows carrying them,
    named suggestions with that email."""
    database.connect(reuse_if_open=True)
    data = privacy.export(key)
    if data is None:
        raise _nothing(key)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@customer_group.command("erase")
@click.argument("key", metavar="ID_OR_EMAIL")
@click.option("--reason", default="", help="Kept in the audit log, e.g. the request's number.")
def customer_erase(key, reason):
    """Remove the name, email, phone and customer id of the customer with this id or email
    (and the outbox rows carrying them); their answers stay, anonymous, in every figure."""
    database.connect(reuse_if_open=True)
    done = privacy.erase(key, reason=reason or None)
    if done is None:
        raise _nothing(key)
    lang = operator_language()
    click.echo(
        lang.gettext(
            "Erased: %(cases)s, %(suggestions)s, %(outbox)s removed, %(texts)s with a contact "
            "detail in them rewritten. Their answers stay, without a name.",
            cases=lang.ngettext("%(num)s case", "%(num)s cases", done.cases),
            suggestions=lang.ngettext(
                "%(num)s named suggestion", "%(num)s named suggestions", done.suggestions
            ),
            outbox=lang.ngettext("%(num)s outbox row", "%(num)s outbox rows", done.outbox),
            texts=lang.ngettext("%(num)s text", "%(num)s texts", done.texts),
        )
    )


@retention_group.command("apply")
def retention_apply():
    """Remove the contact details of cases resolved more than CONTACT_RETENTION_DAYS ago
    (answers stay); prints how many cases. For cron; the outbox deliverer also does it daily."""
    database.connect(reuse_if_open=True)
    days = current_app.config["CONTACT_RETENTION_DAYS"]
    lang = operator_language()
    if not days:
        click.echo(
            lang.gettext("CONTACT_RETENTION_DAYS is 0: contact details are kept; nothing removed.")
        )
        return
    purged = privacy.apply_retention(current_app.config, always_audit=True)
    message = lang.ngettext(
        "%(num)s case resolved more than %(days)s days ago lost its contact details.",
        "%(num)s cases resolved more than %(days)s days ago lost their contact details.",
        purged,
        days=days,
    )
    click.echo(message)
