"""Forms of the channels page (/admin/channels): one per section, its fields named by the
settings themselves, and the test message's form.

A setting's field that is not in the posted form keeps its value; one that is, is read with the
setting's own ``parse`` (``site_settings.check_text``). Only a value that differs from the one in
force is saved, so a field left as it is keeps coming from where it came from (the environment
or an earlier save). A secret is never shown: empty keeps it, "remove" saves it empty, and
"use the environment's value" deletes the saved one, as for any other setting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import Length

from .. import site_settings
from ..settings import SECRET_SETTINGS
from ..sms import sms_number
from ..vocabulary import CHANNEL_SECTIONS, SMS_PROVIDERS, SMS_TEMPLATE_VALUES, WEBHOOK_EVENTS
from .forms_common import Form, choices
from .survey_forms import MultiCheckboxField

LABELS = {
    "SMTP_HOST": _l("SMTP server"),
    "SMTP_PORT": _l("Port"),
    "SMTP_STARTTLS": _l("STARTTLS (usually port 587)"),
    "SMTP_SSL": _l("Implicit TLS (usually port 465)"),
    "SMTP_USER": _l("Login"),
    "SMTP_PASSWORD": _l("Password"),
    "MAIL_FROM": _l("Sender (From)"),
    "SEND_INVITATIONS": _l("Send each new case's customer the survey invitation"),
    "REMINDER_HOURS": _l("Hours before a reminder"),
    "REMINDERS": _l("Number of reminders"),
    "SMS_PROVIDER": _l("SMS provider"),
    "SMS_ACCESS_KEY_ID": _l("AccessKey ID"),
    "SMS_ACCESS_KEY_SECRET": _l("AccessKey secret"),
    "SMS_SIGN_NAME": _l("Signature (sign name)"),
    "SMS_TEMPLATE_CODE": _l("Template code"),
    "SMS_TEMPLATE_PARAM": _l("Template variable"),
    "SMS_TEMPLATE_VALUE": _l("What the variable receives"),
    "SMS_ENDPOINT": _l("API address"),
    "WEBHOOK_URL": _l("Webhook address"),
    "WEBHOOK_SECRET": _l("Signing secret"),
    "WEBHOOK_EVENTS": _l("Events the webhook receives"),
}
HINTS = {
    "SMTP_HOST": _l("Empty: the site sends no email."),
    "SMTP_STARTTLS": _l("The certificate is verified; not together with implicit TLS."),
    "SMTP_SSL": _l("Tencent and Aliyun company mail use it. The certificate is verified."),
    "SMTP_USER": _l("Empty when the server wants no login."),
    "MAIL_FROM": _l("Like feedback <feedback@example.cn>."),
    "SEND_INVITATIONS": _l(
        "By email; by text message when only a mobile number is known and SMS is set up. "
        "A survey file may say otherwise (send_invitations)."
    ),
    "REMINDER_HOURS": _l("After the invitation; fractions allowed (0.5)."),
    "REMINDERS": _l("Each that many hours after the one before; 0: none."),
    "SMS_TEMPLATE_CODE": _l("An approved template (SMS_123456789) with one variable."),
    "SMS_TEMPLATE_PARAM": _l("The variable that receives the survey link, like content."),
    "WEBHOOK_SECRET": _l("Each request then carries X-Feedback-Signature."),
}
SWITCHES = ("SMTP_STARTTLS", "SMTP_SSL", "SEND_INVITATIONS")
PROVIDER_LABELS = {"aliyun": _l("Aliyun SMS (Dysmsapi)")}
TEMPLATE_VALUE_LABELS = {
    "link": _l("The short survey link"),
    "text": _l("A short sentence with the link, in the customer's language"),
    "code": _l("The short link's code alone (the template holds the address)"),
}
EVENT_LABELS = {
    "follow_up.created": _l("A follow-up is opened (follow_up.created)"),
    "response.created": _l("A survey is answered (response.created)"),
    "suggestion.created": _l("A suggestion is posted (suggestion.created)"),
}
EVENTS_SHOWN = "events_shown"  # a hidden marker: the events' boxes were on the page
EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")  # one address: the outbox splits at commas


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _field(name: str):
    label = LABELS[name]
    if name in SWITCHES:
        return SelectField(
            label,
            choices=choices([("true", _l("On")), ("false", _l("Off"))]),
            validate_choice=False,  # a field left out keeps its value; parse checks the rest
        )
    if name == "SMS_PROVIDER":
        pairs = [("", _l("None: no SMS"))] + [(p, PROVIDER_LABELS[p]) for p in SMS_PROVIDERS]
        return SelectField(label, choices=choices(pairs), validate_choice=False)
    if name == "SMS_TEMPLATE_VALUE":
        pairs = [(v, TEMPLATE_VALUE_LABELS[v]) for v in SMS_TEMPLATE_VALUES]
        return SelectField(label, choices=choices(pairs), validate_choice=False)
    if name == "WEBHOOK_EVENTS":
        return MultiCheckboxField(
            label, choices=choices((e, EVENT_LABELS[e]) for e in WEBHOOK_EVENTS)
        )
    if name in SECRET_SETTINGS:
        return PasswordField(label, filters=[_strip], render_kw={"autocomplete": "new-password"})
    kw: dict[str, Any] = {"autocomplete": "off", "spellcheck": "false"}
    if name in ("SMTP_PORT", "REMINDER_HOURS", "REMINDERS"):
        kw["inputmode"] = "decimal" if name == "REMINDER_HOURS" else "numeric"
    return StringField(label, filters=[_strip], render_kw=kw)


class ChannelForm(Form):
    """One section's settings; subclasses are made per section (``SECTION_FORMS``)."""

    section = HiddenField()
    names: tuple[str, ...] = ()

    def posted(self, name: str) -> bool:
        """Whether the request carried this setting's field (a missing one keeps its value)."""
        if name == "WEBHOOK_EVENTS":
            return bool(self[EVENTS_SHOWN].data)
        return bool(self[name].raw_data)

    def fill(self, fields: Mapping[str, site_settings.Field]) -> None:
        """Show the values in force (never a secret)."""
        for name in self.names:
            value = fields[name].value
            if name in SECRET_SETTINGS:
                continue
            if name == "WEBHOOK_EVENTS":
                self[name].data = list(value or ())
            elif name in SWITCHES:
                self[name].data = "true" if value else "false"
            else:
                self[name].data = fields[name].text

    def changes(
        self, fields: Mapping[str, site_settings.Field], base: Mapping[str, Any]
    ) -> tuple[dict[str, str], tuple[str, ...]] | None:
        """Check the posted fields (errors beside them) and return (texts to save, names to
        reset), or None when a field is wrong."""
        texts: dict[str, str] = {}
        reset: list[str] = []
        after: dict[str, Any] = {name: field.value for name, field in fields.items()}
        for name in self.names:
            field, known = self[name], fields[name]
            if self[f"reset_{name}"].data and known.saved:
                reset.append(name)
                after[name] = base.get(name)
                continue
            if name in SECRET_SETTINGS:
                typed = field.data or ""
                if self[f"clear_{name}"].data and known.is_set:
                    texts[name], after[name] = "", ""
                elif typed:
                    try:
                        site_settings.check_text(name, typed)
                    except ValueError:
                        field.errors.append(_(site_settings.RULES[name]))
                        continue
                    if typed != known.value or not known.saved:
                        texts[name], after[name] = typed, typed
                continue
            if not self.posted(name):
                continue
            text = ",".join(field.data or ()) if name == "WEBHOOK_EVENTS" else field.data or ""
            try:
                value = site_settings.check_text(name, text)
            except (ValueError, OverflowError):
                field.errors.append(_(site_settings.RULES[name]))
                continue
            if value != known.value:
                texts[name], after[name] = site_settings.text_of(name, value), value
        for name, message in site_settings.problems(after, self.names).items():
            if not self[name].errors:
                self[name].errors.append(_(message))
        if any(self[name].errors for name in self.names):
            return None
        return texts, tuple(reset)


def _section_form(section: str) -> type[ChannelForm]:
    """The form class of one section: a field per setting, a "use the environment's value"
    box for each, a "remove it" box for each secret."""
    names = site_settings.SECTION_SETTINGS[section]
    attrs: dict[str, Any] = {"names": names}
    for name in names:
        attrs[name] = _field(name)
        attrs[f"reset_{name}"] = BooleanField(_l("Use the environment's value instead"))
        if name in SECRET_SETTINGS:
            attrs[f"clear_{name}"] = BooleanField(_l("Remove it (no secret)"))
        if name == "WEBHOOK_EVENTS":
            attrs[EVENTS_SHOWN] = HiddenField(default="1")
    return type(f"{section.title()}ChannelForm", (ChannelForm,), attrs)


SECTION_FORMS: dict[str, type[ChannelForm]] = {s: _section_form(s) for s in CHANNEL_SECTIONS}


class TestForm(Form):
    """Send a test through one section's channel: to an address (email, invitation), a number
    (SMS) or the webhook (nothing to type)."""

    section = HiddenField()
    to = StringField(
        _l("Send it to"),
        filters=[_strip],
        validators=[Length(max=254, message=_l("At most %(n)d characters.", n=254))],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )

    def check_to(self, section: str) -> bool:
        """The recipient fits the section; its error is beside the field otherwise."""
        if section == "webhook" or self.to.errors:
            return not self.to.errors
        text = self.to.data or ""
        if section == "sms":
            if sms_number(text) is None:
                self.to.errors.append(_("A mobile number, like 13800138000 or +44 7700 900123."))
        elif not EMAIL.fullmatch(text) or not text.isprintable():
            self.to.errors.append(_("An address like name@example.com."))
        return not self.to.errors
