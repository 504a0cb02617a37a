"""Peewee models over the tables that ``db.MIGRATIONS`` creates.

The models never create tables themselves: the migrations do, and a test checks that every model
field has its column.
"""

from __future__ import annotations

import peewee as pw

from .db import database, utcnow


class BaseModel(pw.Model):
    class Meta:
        database = database
        # Tables are named after their class in snake_case (TeamLead: team_lead) and a foreign
        # key's column is its field's name with _id: only names that differ are written out.
        legacy_table_names = False


class Team(BaseModel):
    name = pw.CharField(max_length=100, unique=True)
    created_at = pw.DateTimeField(default=utcnow)

    @classmethod
    def by_name(cls, name: str) -> Team:
        """The team of that name, created when it does not exist yet."""
        team = cls.get_or_none(cls.name == name)
        return team or cls.create(name=name)


class User(BaseModel):
    username = pw.CharField(max_length=64, unique=True)
    display_name = pw.CharField(max_length=100)
    password_hash = pw.CharField(max_length=255)
    role = pw.CharField(max_length=16)
    team = pw.ForeignKeyField(Team, null=True, backref="members")
    active = pw.BooleanField(default=True)
    locale = pw.CharField(max_length=8, null=True)
    created_at = pw.DateTimeField(default=utcnow)
    email = pw.CharField(max_length=254, null=True)  # for notices, e.g. new follow-ups
    # raised to end every session and remember-me cookie of the user (logout, new password)
    session_version = pw.IntegerField(default=1)
    callbacks_all_teams = pw.BooleanField(default=False)  # a call-back desk for every team
    # the name or code the helpdesk sends as ``agent`` in this person's cases: their own figures
    agent_code = pw.CharField(max_length=100, null=True)

    class Meta:
        table_name = "app_user"
        # save() writes only the fields assigned since loading: an edit never writes back an
        # older session_version (which would bring ended sessions back to life)
        only_save_dirty = True

    # Flask-Login's user protocol
    @property
    def is_active(self) -> bool:
        return self.active

    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    def led_team_ids(self) -> list[int]:
        return [row.team_id for row in TeamLead.select(TeamLead.team).where(TeamLead.user == self)]


class TeamLead(BaseModel):
    team = pw.ForeignKeyField(Team, backref="leads", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, backref="leading", on_delete="CASCADE")

    class Meta:
        primary_key = pw.CompositeKey("team", "user")


class ApiToken(BaseModel):
    name = pw.CharField(max_length=100)
    token_hash = pw.CharField(max_length=64, unique=True)
    created_at = pw.DateTimeField(default=utcnow)
    last_used_at = pw.DateTimeField(null=True)
    revoked_at = pw.DateTimeField(null=True)


class Survey(BaseModel):
    slug = pw.CharField(max_length=64, unique=True)
    # the file the version in use was loaded from; None when it was saved in the browser
    source = pw.CharField(max_length=255, null=True)
    current_version_id = pw.IntegerField(null=True)
    error = pw.TextField(null=True)
    error_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    problems = pw.TextField(null=True)  # the error's problems as JSON (survey_problems)


class SurveyVersion(BaseModel):
    survey = pw.ForeignKeyField(Survey, backref="versions")
    version = pw.IntegerField()
    checksum = pw.CharField(max_length=64)
    definition = pw.TextField()
    created_at = pw.DateTimeField(default=utcnow)
    created_by = pw.ForeignKeyField(User, null=True)  # None: loaded from a file

    class Meta:
        indexes = ((("survey", "version"), True),)


class SurveyDraft(BaseModel):
    """An admin's draft of a survey in the browser editor (``survey_drafts``)."""

    slug = pw.CharField(max_length=64)
    user = pw.ForeignKeyField(User, on_delete="CASCADE")
    base_version = pw.IntegerField(null=True)  # the version number it started from
    data = pw.TextField()  # JSON: the survey as a file would give it, valid or not
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("slug", "user"), True),)


class Case(BaseModel):
    case_ref = pw.CharField(max_length=100, unique=True)
    survey = pw.ForeignKeyField(Survey)
    channel = pw.CharField(max_length=16)
    agent = pw.CharField(max_length=100, null=True)
    team = pw.ForeignKeyField(Team, null=True)
    category = pw.CharField(max_length=100, null=True)
    resolved_at = pw.DateTimeField()
    reopened = pw.BooleanField(default=False)
    customer_ref = pw.CharField(max_length=200, null=True)
    customer_name = pw.CharField(max_length=200, null=True)
    customer_email = pw.CharField(max_length=254, null=True)
    customer_phone = pw.CharField(max_length=50, null=True)  # as the helpdesk wrote it
    # the same number in E.164 (sms.phone_number): what the throttle matches, as it matches the
    # lower-cased email; NULL without a phone
    customer_phone_e164 = pw.CharField(max_length=20, null=True)
    customer_locale = pw.CharField(max_length=8, null=True)
    suppressed_reason = pw.CharField(max_length=200, null=True)
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "service_case"


class Invitation(BaseModel):
    case = pw.ForeignKeyField(Case, unique=True, backref="invitations")
    token = pw.CharField(max_length=64, unique=True)
    status = pw.CharField(max_length=16, default="pending")
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    answered_at = pw.DateTimeField(null=True)
    # The local day, week (Monday) and month it was sent, for response rates by period.
    day = pw.DateField()
    week = pw.DateField()
    month = pw.DateField()
    # Sent by the site (invitations.py): None when the helpdesk sends the link itself; else
    # queued, sent, delivered, failed, bounced or skipped (vocabulary.DELIVERY_STATES).
    delivery = pw.CharField(max_length=16, null=True)
    sent_at = pw.DateTimeField(null=True)  # the invitation accepted by the SMTP server or SMS
    reminded_at = pw.DateTimeField(null=True)  # the first reminder accepted
    # How the site sends it: email or sms (vocabulary.INVITATION_CHANNELS); None with delivery.
    channel = pw.CharField(max_length=8, null=True)
    # The code of its short link /r/<code> (texts only): 10 random base62 characters.
    short_code = pw.CharField(max_length=16, null=True, unique=True)

    def current_status(self, now=None) -> str:
        """pending, answered, expired or cancelled, as of now."""
        if self.status == "pending" and self.expires_at <= (now or utcnow()):
            return "expired"
        return self.status


class Response(BaseModel):
    invitation = pw.ForeignKeyField(Invitation, null=True, unique=True)
    case = pw.ForeignKeyField(Case, backref="responses")
    survey = pw.ForeignKeyField(Survey)
    survey_version = pw.ForeignKeyField(SurveyVersion)
    source = pw.CharField(max_length=16, default="link")
    entered_by = pw.ForeignKeyField(User, null=True)
    locale = pw.CharField(max_length=8)
    submitted_at = pw.DateTimeField()
    # Stored period and slice columns, so that reports group without computing or joining.
    day = pw.DateField()
    week = pw.DateField()
    month = pw.DateField()
    channel = pw.CharField(max_length=16)
    team = pw.ForeignKeyField(Team, null=True)
    agent = pw.CharField(max_length=100, null=True)
    category = pw.CharField(max_length=100, null=True)
    csat = pw.SmallIntegerField(null=True)
    nps = pw.SmallIntegerField(null=True)
    ces = pw.SmallIntegerField(null=True)


class Answer(BaseModel):
    response = pw.ForeignKeyField(Response, backref="answers", on_delete="CASCADE")
    question_id = pw.CharField(max_length=64)
    value_int = pw.IntegerField(null=True)
    value_text = pw.TextField(null=True)
    expectation = pw.IntegerField(null=True)


class CommentTerms(BaseModel):
    """The terms of a response's comments (``themes.terms_of``), cut once and kept."""

    response = pw.ForeignKeyField(Response, primary_key=True, on_delete="CASCADE")
    dictionary = pw.CharField(max_length=16)  # themes.dictionary_stamp they were cut with
    terms = pw.TextField()  # themes.join_terms: " term term "


# --- the suggestion box -------------------------------------------------------------------------


class SuggestionCategory(BaseModel):
    slug = pw.CharField(max_length=40, unique=True)
    name_zh = pw.CharField(max_length=100)
    name_en = pw.CharField(max_length=100)
    position = pw.IntegerField(default=0)
    active = pw.BooleanField(default=True)

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class Suggestion(BaseModel):
    box = pw.CharField(max_length=16)
    category = pw.ForeignKeyField(SuggestionCategory)
    title = pw.CharField(max_length=120)
    body = pw.TextField()
    anonymous = pw.BooleanField()
    # Only for a named submitter; NULL when anonymous.
    name = pw.CharField(max_length=100, null=True)
    email = pw.CharField(max_length=254, null=True)
    user = pw.ForeignKeyField(User, null=True)
    locale = pw.CharField(max_length=8)
    tracking_hash = pw.CharField(max_length=64, unique=True)
    status = pw.CharField(max_length=16, default="new")
    team = pw.ForeignKeyField(Team, null=True)
    owner = pw.ForeignKeyField(User, null=True)
    merged_into = pw.ForeignKeyField("self", null=True)
    public = pw.BooleanField(default=False)
    created_at = pw.DateTimeField(default=utcnow)
    reply_due_at = pw.DateTimeField()
    first_reply_at = pw.DateTimeField(null=True)
    first_reply_days = pw.FloatField(null=True)  # working days to the first public reply
    done_at = pw.DateTimeField(null=True)
    updated_at = pw.DateTimeField(default=utcnow)
    # The local day and month it came in: periods are filtered and grouped without time zones.
    day = pw.DateField()
    month = pw.DateField()


class SuggestionEvent(BaseModel):
    suggestion = pw.ForeignKeyField(Suggestion, backref="events", on_delete="CASCADE")
    author = pw.ForeignKeyField(User, null=True)
    by_submitter = pw.BooleanField(default=False)
    from_status = pw.CharField(max_length=16, null=True)
    to_status = pw.CharField(max_length=16, null=True)
    public_text = pw.TextField(null=True)
    internal_note = pw.TextField(null=True)
    created_at = pw.DateTimeField(default=utcnow)


# --- improvement actions --------------------------------------------------------------------


class ImprovementAction(BaseModel):
    """A planned change aimed at one metric of one slice, with an owner and dates."""

    title = pw.CharField(max_length=200)
    description = pw.TextField(default="")
    metric = pw.CharField(max_length=16)
    survey = pw.ForeignKeyField(Survey)
    channel = pw.CharField(max_length=16, null=True)
    team = pw.ForeignKeyField(Team, null=True)
    agent = pw.CharField(max_length=100, null=True)
    category = pw.CharField(max_length=100, null=True)
    owner = pw.ForeignKeyField(User)
    start_date = pw.DateField()
    due_date = pw.DateField()
    state = pw.CharField(max_length=16, default="planned")
    done_on = pw.DateField(null=True)  # the local day the work was done, as recorded
    done_at = pw.DateTimeField(null=True)  # when it was recorded as done
    evaluated_at = pw.DateTimeField(null=True)
    verdict = pw.CharField(max_length=16, null=True)  # stored when evaluated
    evaluation = pw.TextField(null=True)  # JSON of the before/after figures, when evaluated
    created_by = pw.ForeignKeyField(User)
    created_at = pw.DateTimeField(default=utcnow)
    updated_by = pw.ForeignKeyField(User)
    updated_at = pw.DateTimeField(default=utcnow)


class ActionMilestone(BaseModel):
    action = pw.ForeignKeyField(ImprovementAction, backref="milestones", on_delete="CASCADE")
    title = pw.CharField(max_length=200)
    due_date = pw.DateField()
    state = pw.CharField(max_length=8, default="open")
    done_at = pw.DateTimeField(null=True)
    done_by = pw.ForeignKeyField(User, null=True)
    created_at = pw.DateTimeField(default=utcnow)


class ActionEvent(BaseModel):
    """One state change of an action: who, when, from, to, and why."""

    action = pw.ForeignKeyField(ImprovementAction, backref="events", on_delete="CASCADE")
    user = pw.ForeignKeyField(User)
    at = pw.DateTimeField(default=utcnow)
    from_state = pw.CharField(max_length=16, null=True)
    to_state = pw.CharField(max_length=16)
    note = pw.TextField(default="")


class FollowUp(BaseModel):
    """A response that met its survey's follow-up rule: someone calls the customer back."""

    response = pw.ForeignKeyField(Response, unique=True)
    case = pw.ForeignKeyField(Case)
    survey = pw.ForeignKeyField(Survey)
    team = pw.ForeignKeyField(Team, null=True)
    reasons = pw.CharField(max_length=500)  # the rules met, as written, "; "-separated
    state = pw.CharField(max_length=16, default="open")
    outcome = pw.CharField(max_length=24, null=True)
    created_at = pw.DateTimeField()
    due_at = pw.DateTimeField()
    first_contact_at = pw.DateTimeField(null=True)
    closed_at = pw.DateTimeField(null=True)
    # The local day, week (Monday) and month it was opened, for figures by period.
    day = pw.DateField()
    week = pw.DateField()
    month = pw.DateField()
    overdue_alerted_at = pw.DateTimeField(null=True)  # when the teams' robots were told


class FollowUpEvent(BaseModel):
    """One change of a follow-up: who, when, from which state to which, outcome, note."""

    follow_up = pw.ForeignKeyField(FollowUp, backref="events", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, null=True)
    at = pw.DateTimeField()
    from_state = pw.CharField(max_length=16, null=True)
    to_state = pw.CharField(max_length=16)
    outcome = pw.CharField(max_length=24, null=True)
    note = pw.TextField(default="")


class Outbox(BaseModel):
    """A notification to deliver outside the request that caused it (webhook or email)."""

    kind = pw.CharField(max_length=16)
    event = pw.CharField(max_length=40)
    target = pw.TextField()
    payload = pw.TextField()
    created_at = pw.DateTimeField()
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.DateTimeField(null=True)  # None: given up
    claimed_until = pw.DateTimeField(null=True)
    last_error = pw.TextField(null=True)
    delivered_at = pw.DateTimeField(null=True)


class OptOut(BaseModel):
    """A customer who wants no more surveys: the SHA-256 of the lower-cased email address, or of
    the phone number in E.164 form (``+8613800138000``; an address always holds an @, a number
    never, so the two cannot meet). The column kept its first name."""

    email_hash = pw.CharField(max_length=64, primary_key=True)
    created_at = pw.DateTimeField(default=utcnow)


class Robot(BaseModel):
    """A chat group's robot (WeCom, DingTalk, Feishu or a Slack-compatible webhook) that a
    team's alerts are sent to."""

    team = pw.ForeignKeyField(Team, on_delete="CASCADE")
    platform = pw.CharField(max_length=16)  # vocabulary.ROBOT_PLATFORMS
    name = pw.CharField(max_length=100)
    url = pw.TextField()
    secret = pw.TextField(null=True)  # signs DingTalk's and Feishu's requests
    active = pw.BooleanField(default=True)
    created_at = pw.DateTimeField(default=utcnow)


class ActionSuggestion(BaseModel):
    """A suggestion that led to an improvement action (or that the action answers)."""

    action = pw.ForeignKeyField(ImprovementAction, on_delete="CASCADE")
    suggestion = pw.ForeignKeyField(Suggestion, on_delete="CASCADE")

    class Meta:
        primary_key = pw.CompositeKey("action", "suggestion")


class ActionFollowUp(BaseModel):
    """A follow-up whose customer's problem led to an improvement action."""

    action = pw.ForeignKeyField(ImprovementAction, on_delete="CASCADE")
    follow_up = pw.ForeignKeyField(FollowUp, on_delete="CASCADE")

    class Meta:
        primary_key = pw.CompositeKey("action", "follow_up")


class AuditEntry(BaseModel):
    """One administrative or sensitive action: who, what, when and from where."""

    at = pw.DateTimeField(default=utcnow)
    actor_user = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    actor = pw.CharField(max_length=64)  # the username then, or "cli"/"system"
    action = pw.CharField(max_length=40)
    target = pw.CharField(max_length=200)
    detail = pw.TextField()  # JSON
    address = pw.CharField(max_length=64, null=True)

    class Meta:
        table_name = "audit_log"


class DigestSubscription(BaseModel):
    """A user's weekly or monthly digest email of a survey and slice (feedback/digests.py)."""

    user = pw.ForeignKeyField(User, backref="digests", on_delete="CASCADE")
    survey = pw.ForeignKeyField(Survey, on_delete="CASCADE")
    frequency = pw.CharField(max_length=8)  # one of DIGEST_FREQUENCIES
    channel = pw.CharField(max_length=16, null=True)
    team = pw.ForeignKeyField(Team, null=True, on_delete="CASCADE")
    agent = pw.CharField(max_length=100, null=True)
    category = pw.CharField(max_length=100, null=True)
    last_period = pw.DateField(null=True)  # the first day of the last period sent
    created_at = pw.DateTimeField(default=utcnow)


class SiteSetting(BaseModel):
    """A setting saved on /admin/channels (a name of settings.CHANNEL_SETTINGS): it wins over
    the environment's value (feedback/site_settings.py)."""

    name = pw.CharField(max_length=40, primary_key=True)
    value = pw.TextField()
    changed_at = pw.DateTimeField(default=utcnow)
    changed_by = pw.CharField(max_length=64)


# Every model once, each after the models it references.
ALL_MODELS = (
    Team,
    User,
    TeamLead,
    ApiToken,
    Survey,
    SurveyVersion,
    SurveyDraft,
    Case,
    Invitation,
    Response,
    Answer,
    CommentTerms,
    SuggestionCategory,
    Suggestion,
    SuggestionEvent,
    ImprovementAction,
    ActionMilestone,
    ActionEvent,
    FollowUp,
    FollowUpEvent,
    Outbox,
    OptOut,
    ActionSuggestion,
    ActionFollowUp,
    AuditEntry,
    DigestSubscription,
    Robot,
    SiteSetting,
)
