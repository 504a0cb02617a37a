"""Commands for data-protection requests and retention: ``flask --app feedback customer export
ID`` (or ``--phone NUMBER``), ``customer erase ID`` and ``retention apply`` (for cron)."""

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


def _nothing(key: str, phone: bool) -> click.ClickException:
    lang = operator_language()
    if phone:
        return click.ClickException(
            lang.gettext(
                "no customer with the phone number %(key)s: no case holds it",
                key=privacy.phone_key(key),
            )
        )
    return click.ClickException(
        lang.gettext(
            "no customer with the id or email %(key)s: no case and no named suggestion holds it",
            key=repr(key),
        )
    )


def _key(key: str | None, phone: str | None) -> tuple[str, bool]:
    """The customer the command is about: an id or email, or (``--phone``) a phone number,
    never both; a number that is not one is refused before anything is looked up."""
    lang = operator_language()
    if (key is None) == (phone is None):
        raise click.UsageError(lang.gettext("give either an id or email, or --phone NUMBER"))
    if phone is not None:
        if privacy.phone_key(phone) is None:
            raise click.BadParameter(
                lang.gettext(
                    "%(value)s is not a phone number (digits, spaces, dashes and brackets, "
                    "with + or 00 before a country code)",
                    value=repr(phone),
                ),
                param_hint="--phone",
            )
        return phone, True
    return key, False


PHONE_HELP = (
    "The customer's phone number instead of an id or email, however written "
    "(138 0013 8000, +86 138-0013-8000): compared in E.164, as the throttle does."
)


@customer_group.command("export")
@click.argument("key", metavar="ID_OR_EMAIL", required=False)
@click.option("--phone", metavar="NUMBER", help=PHONE_HELP)
def customer_export(key, phone):
    """Print (JSON) everything held about the customer with this customer id or email (or
    --phone number): cases, invitations, responses with answers, follow-ups and their notes,
    outbox rows carrying them, named suggestions with that email."""
    key, by_phone = _key(key, phone)
    database.connect(reuse_if_open=True)
    data = privacy.export(key, phone=by_phone)
    if data is None:
        raise _nothing(key, by_phone)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@customer_group.command("erase")
@click.argument("key", metavar="ID_OR_EMAIL", required=False)
@click.option("--phone", metavar="NUMBER", help=PHONE_HELP)
@click.option("--reason", default="", help="Kept in the audit log, e.g. the request's number.")
def customer_erase(key, phone, reason):
    """Remove the name, email, phone and customer id of the customer with this id or email (or
    --phone number) and the outbox rows carrying them; their answers stay, anonymous, in every
    figure."""
    key, by_phone = _key(key, phone)
    database.connect(reuse_if_open=True)
    done = privacy.erase(key, reason=reason or None, phone=by_phone)
    if done is None:
        raise _nothing(key, by_phone)
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
