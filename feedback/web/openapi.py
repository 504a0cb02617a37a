"""The OpenAPI 3.0 description of /api/v1, served at /api/v1/openapi.json.

Kept beside the views it describes; the suite runs schemathesis against it, so a reply that
strays from this document fails a test.
"""

from __future__ import annotations

from .. import sms
from ..reports import DRIVER_OUTCOMES, GROUP_BY
from ..vocabulary import (
    CHANNELS,
    DELIVERY_STATES,
    EMAIL_STATES,
    INVITATION_CHANNELS,
    INVITATION_STATES,
    REPORTED_STATES,
    RESPONSE_SOURCES,
    SUGGESTION_BOXES,
)
from .filters import PRESETS

_TEXT = {
    "type": "object",
    "required": ["zh-CN", "en"],
    "properties": {"zh-CN": {"type": "string"}, "en": {"type": "string"}},
}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Each bad field with its messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}


# Holds a character that str.strip() keeps (\s alone misses \x1c-\x1f and \x85 in some dialects)
_NOT_BLANK = "[^\\s\\u001c-\\u001f\\u0085]"


def _text(max_length: int, number: bool = False) -> dict:
    """An optional text (null counts as left out); ``number``: an id may be a whole number."""
    text = {"type": "string", "nullable": True, "maxLength": max_length}
    return {"oneOf": [text, {"type": "integer"}]} if number else text


_NUMBER = {"type": "number", "nullable": True}
_ESTIMATE = {
    "type": "object",
    "nullable": True,
    "required": ["value", "low", "high", "n"],
    "description": "A figure with its 95% interval (low and high are null when n is too small "
    "for one) and the number of answers it rests on.",
    "properties": {
        "value": {"type": "number"},
        "low": _NUMBER,
        "high": _NUMBER,
        "n": {"type": "integer"},
    },
}
_FIGURES = {
    "type": "object",
    "required": ["responses", "csat", "nps", "ces", "response_rate"],
    "properties": {
        "responses": {"type": "integer"},
        "csat": {"$ref": "#/components/schemas/Estimate"},
        "nps": {
            "nullable": True,
            "allOf": [
                {"$ref": "#/components/schemas/Estimate"},
                {
                    "type": "object",
                    "required": ["promoters", "passives", "detractors"],
                    "properties": {
                        "promoters": {"type": "integer"},
                        "passives": {"type": "integer"},
                        "detractors": {"type": "integer"},
                    },
                },
            ],
        },
        "ces": {
            "nullable": True,
            "allOf": [
                {"$ref": "#/components/schemas/Estimate"},
                {"type": "object", "properties": {"low_effort": _NUMBER}},
            ],
        },
        "response_rate": {
            "type": "object",
            "nullable": True,
            "required": ["value", "invited", "answered"],
            "properties": {
                "value": {"type": "number"},
                "invited": {"type": "integer"},
                "answered": {"type": "integer"},
            },
        },
    },
}


_DATE_OR_EMPTY = {
    "oneOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}]
}


def _query(name: str, schema: dict, description: str) -> dict:
    """An optional query parameter; an empty value counts as left out (as forms send it)."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": (description + " Empty: left out.").strip(),
    }


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_NULLABLE_INT = {"type": "integer", "nullable": True}
_NULLABLE_TEXT = {"type": "string", "nullable": True}
_STAMP = {"type": "string", "format": "date-time"}
_CASE = {
    "type": "object",
    "properties": {
        "case_id": {"type": "string"},
        "channel": {"type": "string"},
        "agent": _NULLABLE_TEXT,
        "team": _NULLABLE_TEXT,
        "category": _NULLABLE_TEXT,
    },
}
_SCORES = {"csat": _NULLABLE_INT, "nps": _NULLABLE_INT, "ces": _NULLABLE_INT}


def _event(name: str, summary: str, properties: dict) -> dict:
    """One webhook event: a signed POST of this JSON to WEBHOOK_URL (see the README)."""
    return {
        "post": {
            "summary": summary,
            "description": "Sent through the outbox with retries when FEEDBACK_WEBHOOK_EVENTS "
            "names it. Headers: X-Feedback-Delivery (the outbox row's id: a repeat has the "
            "same one) and, with FEEDBACK_WEBHOOK_SECRET, X-Feedback-Signature: "
            "sha256=<hex HMAC-SHA256 of the body>.",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["event", *properties],
                            "properties": {
                                "event": {"type": "string", "enum": [name]},
                                **properties,
                            },
                        }
                    }
                },
            },
            "responses": {"2XX": {"description": "Taken; anything else is retried."}},
        }
    }


WEBHOOKS = {
    "follow_up.created": _event(
        "follow_up.created",
        "A response met its survey's follow-up rules: a follow-up was opened.",
        {
            "follow_up": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "state": {"type": "string"},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                    "created_at": _STAMP,
                    "due_at": _STAMP,
                    "url": {"type": "string"},
                },
            },
            "case": _CASE,
            "response": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "survey": {"type": "string"},
                    "source": {"type": "string"},
                    **_SCORES,
                },
            },
        },
    ),
    "response.created": _event(
        "response.created",
        "A customer (or the call-back desk) answered a survey.",
        {
            "response": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "survey": {"type": "string"},
                    "source": {"type": "string", "enum": list(RESPONSE_SOURCES)},
                    "locale": {"type": "string"},
                    "submitted_at": _STAMP,
                    **_SCORES,
                    "answers": {
                        "type": "object",
                        "description": "By question id: a number, a choice's value, a list "
                        "of values (multi), a text, or {expectation, perception} (servqual).",
                    },
                },
            },
            "case": _CASE,
            "follow_up": {
                "type": "object",
                "nullable": True,
                "description": "The follow-up the response opened, if it opened one.",
                "properties": {"id": {"type": "integer"}, "url": {"type": "string"}},
            },
        },
    ),
    "suggestion.created": _event(
        "suggestion.created",
        "A suggestion arrived in one of the boxes. An anonymous one is sent at the next full "
        "hour and carries nothing about its sender.",
        {
            "suggestion": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "box": {"type": "string", "enum": list(SUGGESTION_BOXES)},
                    "category": {"type": "string"},
                    "title": {"type": "string"},
                    "body": {"type": "string"},
                    "anonymous": {"type": "boolean"},
                    "team": _NULLABLE_TEXT,
                    "status": {"type": "string"},
                    "created_at": {**_STAMP, "description": "To the hour when anonymous."},
                    "reply_due_at": _STAMP,
                    "url": {"type": "string"},
                },
            },
            "submitter": {
                "type": "object",
                "nullable": True,
                "description": "Null for an anonymous suggestion (and a named one without "
                "name or address).",
                "properties": {"name": _NULLABLE_TEXT, "email": _NULLABLE_TEXT},
            },
        },
    ),
    # not an event one subscribes to: an admin's "send a test" on /admin/channels
    "test": _event(
        "test",
        "A test from the channels admin page (/admin/channels), whatever "
        "FEEDBACK_WEBHOOK_EVENTS says; signed and retried like the others. Answer 2xx.",
        {"sent_at": _STAMP, "message": {"type": "string"}},
    ),
}


def _document(base_url: str) -> dict:
    """The API description, with the site's own address as its server."""
    case_reply = {
        "description": "",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseReply"}}},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "feedback API",
            "version": "1",
            "description": "Resolved cases in, survey definitions out. Every call needs "
            "Authorization: Bearer <token> (flask --app feedback "
            "create-token NAME).",
        },
        "servers": [{"url": base_url.rstrip("/")}],
        "security": [{"bearer": []}],
        # OpenAPI 3.1 calls this "webhooks"; the document is 3.0.3, where "x-webhooks" is the
        # same shape (read by Redoc and others) and no 3.0 validator refuses it
        "x-webhooks": WEBHOOKS,
        "paths": {
            "/api/v1/cases": {
                "post": {
                    "summary": "Tell feedback that a case was resolved; get its survey invitation.",
                    "description": "The same case_id again returns the same invitation (200), never "
                    "a second one. A customer surveyed within the throttle window "
                    "gets suppressed: true and a reason. reopened: true cancels a "
                    "pending invitation; resolving the case again restores it.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Case"}}
                        },
                    },
                    "responses": {
                        "201": {**case_reply, "description": "A new case was stored."},
                        "200": {**case_reply, "description": "The case was known already."},
                        "400": _error("Bad fields, each named in errors."),
                        "401": _error("Missing or wrong token."),
                        "404": _error("Unknown survey."),
                    },
                }
            },
            "/api/v1/invitations/{token}/delivery": {
                "post": {
                    "summary": "A mail or SMS provider's delivery report of an invitation.",
                    "description": "For invitations the site sends (FEEDBACK_SEND_INVITATIONS), "
                    "by email or text: SMTP and the SMS provider's answer tell only that a "
                    "message was accepted; a provider's report that it was delivered, bounced "
                    "or failed later is recorded here and shown with the invitation (a bounced "
                    "or failed one leaves the response rate). The token is the invitation's (in "
                    "its link), or for a text its short code (the OutId of Aliyun's report).",
                    "parameters": [
                        {
                            "name": "token",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "The invitation's token, or the short code of the "
                            "short link /r/<code> a text carries.",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["state"],
                                    "properties": {
                                        "state": {
                                            "type": "string",
                                            "enum": list(REPORTED_STATES),
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Recorded.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["token", "delivery"],
                                        "properties": {
                                            "token": {"type": "string"},
                                            "delivery": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        },
                        "400": _error("state is not delivered, bounced or failed."),
                        "401": _error("Missing or wrong token."),
                        "404": _error("Unknown invitation."),
                        "409": _error("The site does not send this invitation."),
                    },
                }
            },
            "/api/v1/surveys/{slug}": {
                "get": {
                    "summary": "The version of a survey now in use.",
                    "parameters": [
                        {
                            "name": "slug",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Survey"}
                                }
                            },
                        },
                        "401": _error("Missing or wrong token."),
                        "404": _error("Unknown survey."),
                    },
                }
            },
            "/api/v1/metrics": {
                "get": {
                    "summary": "CSAT, NPS, CES and response rate for a period and slice.",
                    "description": "Periods count by the day a response was submitted, in the "
                    "site's time zone; from and to are inclusive (default: the last "
                    "28 days), from must not come after to, and neither may come "
                    "after 9998-12-31. Each figure has its 95% interval and the number of "
                    "answers it rests on; a figure without answers is null. Also "
                    "open to a logged-in manager or admin; a team lead sees only "
                    "their teams.",
                    "parameters": _report_parameters(),
                    "responses": {
                        "200": {
                            "description": "",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Metrics"}
                                }
                            },
                        },
                        "400": _error("Bad parameters, each named in errors."),
                        "401": _error("Missing or wrong token."),
                        "403": _error("Logged in without a role that sees reports."),
                        "404": _error("Unknown survey or team."),
                    },
                }
            },
            "/api/v1/drivers": _DRIVERS_PATH,
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": _ERROR,
                "Estimate": _ESTIMATE,
                "Figures": _FIGURES,
                "Drivers": _DRIVERS,
                "Metrics": {
                    "type": "object",
                    "required": [
                        "survey",
                        "from",
                        "to",
                        "group_by",
                        "min_sample",
                        "overall",
                        "groups",
                    ],
                    "properties": {
                        "survey": {"type": "string"},
                        "from": {"type": "string", "format": "date"},
                        "to": {"type": "string", "format": "date"},
                        "group_by": {"type": "string", "nullable": True},
                        "min_sample": {"type": "integer"},
                        "overall": {"$ref": "#/components/schemas/Figures"},
                        "groups": {
                            "type": "array",
                            "items": {
                                "allOf": [
                                    {"$ref": "#/components/schemas/Figures"},
                                    {
                                        "type": "object",
                                        "required": ["key"],
                                        "properties": {"key": {"type": "string", "nullable": True}},
                                    },
                                ]
                            },
                        },
                    },
                },
                "Case": {
                    "type": "object",
                    "required": ["case_id", "resolved_at", "channel"],
                    "description": "Texts are trimmed of surrounding blanks (a blank optional "
                    "one counts as left out); none may contain a NUL character.",
                    "properties": {
                        "case_id": {
                            "description": "Not blank; a whole number is taken as its digits.",
                            "oneOf": [
                                {
                                    "type": "string",
                                    "minLength": 1,
                                    "maxLength": 100,
                                    "pattern": _NOT_BLANK,
                                },
                                {"type": "integer"},
                            ],
                        },
                        "survey": {
                            **_text(64),
                            "description": "Survey slug; the site's default survey when left out.",
                        },
                        "resolved_at": {
                            "type": "string",
                            "format": "date-time",
                            "description": "ISO 8601; without an offset, the site's time zone. "
                            "From 0001-01-01 UTC to a day from now.",
                        },
                        "channel": {"type": "string", "enum": list(CHANNELS)},
                        "agent": _text(100),
                        "team": _text(100),
                        "category": _text(100),
                        "reopened": {"type": "boolean", "nullable": True, "default": False},
                        "customer": {
                            "type": "object",
                            "nullable": True,
                            "properties": {
                                "id": _text(200, number=True),
                                "name": _text(200),
                                "email": {
                                    **_text(254),
                                    "description": "Blank counts as left out.",
                                    "anyOf": [{"format": "email"}, {"pattern": "^\\s*$"}],
                                },
                                "phone": sms.PHONE_SCHEMA,
                                "locale": {
                                    **_text(35),
                                    "example": "zh-CN",
                                    "description": "zh-CN or en (any variant); others are ignored.",
                                },
                            },
                        },
                    },
                },
                "CaseReply": {
                    "type": "object",
                    "required": ["case_id", "invitation", "suppressed"],
                    "properties": {
                        "case_id": {"type": "string"},
                        "invitation": {
                            "nullable": True,
                            "allOf": [{"$ref": "#/components/schemas/Invitation"}],
                        },
                        "suppressed": {"type": "boolean"},
                        "reason": {"type": "string"},
                    },
                },
                "Invitation": {
                    "type": "object",
                    "required": ["token", "url", "expires_at", "status", "delivery", "channel"],
                    "properties": {
                        "token": {"type": "string"},
                        "url": {"type": "string", "format": "uri"},
                        "expires_at": {"type": "string", "format": "date-time"},
                        "status": {
                            "type": "string",
                            "enum": list(INVITATION_STATES),
                        },
                        "delivery": {
                            "type": "string",
                            "nullable": True,
                            "enum": list(DELIVERY_STATES),
                            "description": "How far the site's invitation (email or text) got; "
                            "null when the site does not send this invitation (the helpdesk "
                            "sends the link).",
                        },
                        "channel": {
                            "type": "string",
                            "nullable": True,
                            "enum": list(INVITATION_CHANNELS),
                            "description": "How the site sends it: email, or sms (a text with "
                            "the short link BASE_URL/r/<code>) to a customer with a mobile "
                            "number and no email address; null when the helpdesk sends it.",
                        },
                        "emails": {
                            "type": "array",
                            "description": "Only when the site sends the invitation: the "
                            "invitation and each reminder, in order, by its channel (texts too, "
                            "despite the name).",
                            "items": {
                                "type": "object",
                                "required": ["email", "state", "sent_at", "due_at"],
                                "properties": {
                                    "email": {"type": "string", "enum": ["invitation", "reminder"]},
                                    "state": {"type": "string", "enum": list(EMAIL_STATES)},
                                    "sent_at": {
                                        "type": "string",
                                        "format": "date-time",
                                        "nullable": True,
                                    },
                                    "due_at": {
                                        "type": "string",
                                        "format": "date-time",
                                        "nullable": True,
                                    },
                                },
                            },
                        },
                    },
                },
                "Survey": {
                    "type": "object",
                    "required": ["slug", "version", "title", "questions"],
                    "properties": {
                        "slug": {"type": "string"},
                        "version": {"type": "integer"},
                        "title": _TEXT,
                        "questions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["id", "type", "required", "min", "max", "choices"],
                                "properties": {
                                    "id": {"type": "string"},
                                    "type": {"type": "string"},
                                    "required": {"type": "boolean"},
                                    "min": {"type": "integer", "nullable": True},
                                    "max": {"type": "integer", "nullable": True},
                                    "choices": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["value", "label"],
                                            "properties": {
                                                "value": {"type": "string"},
                                                "label": _TEXT,
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    }


def _report_parameters() -> list[dict]:
    """The report filters that /metrics and /drivers share."""
    return [
        _query("survey", {"type": "string"}, "Survey slug (default: the site's)."),
        _query("from", _DATE_OR_EMPTY, "First day."),
        _query("to", _DATE_OR_EMPTY, "Last day."),
        _query(
            "period",
            {"type": "string"},
            "A period ending today (in the site's time zone): "
            + ", ".join(f"{key} (the last {days} days)" for key, days in PRESETS.items())
            + ". It wins over from and to; any other value is ignored, and from and to apply.",
        ),
        _query(
            "group_by",
            {"type": "string", "enum": ["", *GROUP_BY]},
            "Figures per group as well as overall.",
        ),
        _query("channel", {"type": "string", "enum": ["", *CHANNELS]}, ""),
        _query("team", {"type": "string"}, "Team name."),
        _query("agent", {"type": "string"}, ""),
        _query("category", {"type": "string"}, ""),
        _query(
            "source",
            {"type": "string", "enum": ["", *RESPONSE_SOURCES]},
            "link: customers' own answers; callback: recorded on call-backs.",
        ),
    ]


_DRIVER_FIGURE = {
    "type": "object",
    "nullable": True,
    "required": ["value", "low", "high"],
    "properties": {"value": {"type": "number"}, "low": _NUMBER, "high": _NUMBER},
}
_DRIVERS = {
    "type": "object",
    "required": ["outcome", "drivers"],
    "properties": {
        "outcome": {"type": "string", "enum": list(DRIVER_OUTCOMES)},
        "drivers": {
            "type": "array",
            "description": "Ranked drivers first, by correlation, highest first; then those "
            "with fewer than min_sample pairs (rank null).",
            "items": {
                "type": "object",
                "required": [
                    "question",
                    "n",
                    "correlation",
                    "performance",
                    "relative_weight",
                    "rank",
                ],
                "properties": {
                    "question": {"type": "string", "description": "The question's id."},
                    "n": {
                        "type": "integer",
                        "description": "Responses that answered both the driver and the outcome.",
                    },
                    "correlation": {
                        **_DRIVER_FIGURE,
                        "description": "Pearson's r of driver and outcome, 95% interval by "
                        "Fisher's z; null below 3 pairs or when either is constant.",
                    },
                    "performance": {
                        **_DRIVER_FIGURE,
                        "description": "Top-two-box share of all the driver's answers, in "
                        "percent (4-5 on 1-5, 6-7 on 1-7), Wilson interval.",
                    },
                    "relative_weight": {
                        "type": "object",
                        "nullable": True,
                        "description": "Johnson's relative weight: the share of the outcome's "
                        "variance due to the driver among the ranked drivers (0-1; the weights "
                        "add up to R²), over the n complete cases, with a bootstrap 95% "
                        "interval; null for unranked drivers or too few complete cases.",
                        "required": ["value", "low", "high", "n"],
                        "properties": {
                            "value": {"type": "number"},
                            "low": _NUMBER,
                            "high": _NUMBER,
                            "n": {"type": "integer"},
                        },
                    },
                    "rank": {"type": "integer", "nullable": True},
                },
            },
        },
    },
}
_DRIVERS_PATH = {
    "get": {
        "summary": "Key drivers of CSAT or NPS for a period and slice.",
        "description": "Each rating question of the survey (and each SERVQUAL perception) "
        "as a driver of the outcome: its correlation with the outcome, its top-two-box "
        "performance and its relative weight. Same filters and access as /api/v1/metrics.",
        "parameters": [
            _query(
                "outcome",
                {"type": "string", "enum": ["", *DRIVER_OUTCOMES], "default": "csat"},
                "csat (1-5) or nps (0-10).",
            ),
            *(p for p in _report_parameters() if p["name"] != "group_by"),
        ],
        "responses": {
            "200": {
                "description": "",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Drivers"}}
                },
            },
            "400": _error("Bad parameters, each named in errors (outcome too)."),
            "401": _error("Missing or wrong token."),
            "403": _error("Logged in without a role that sees reports."),
            "404": _error("Unknown survey or team."),
        },
    }
}


def openapi_document(base_url: str) -> dict:
    """The OpenAPI document of /api/v1."""
    return _with_themes(_document(base_url))


_TERM = {
    "type": "object",
    "required": ["term", "count", "z"],
    "properties": {
        "term": {"type": "string", "description": "A word, as cut (English lower-cased)."},
        "count": {
            "type": "integer",
            "minimum": 1,
            "description": "Comments of this side that hold the term.",
        },
        "z": {
            "type": "number",
            "description": "The weighted log-odds ratio of the term in this side's comments "
            "against all the other comments, divided by its standard error (Monroe, Colaresi "
            "and Quinn 2008): how distinctive and how sure.",
        },
    },
}


def _with_themes(document: dict) -> dict:
    """/api/v1/themes, with the filters of /api/v1/metrics (but group_by)."""
    metrics = document["paths"]["/api/v1/metrics"]["get"]
    side = {"type": "array", "items": {"$ref": "#/components/schemas/Term"}}
    document["components"]["schemas"]["Term"] = _TERM
    document["components"]["schemas"]["Themes"] = {
        "type": "object",
        "required": ["unhappy", "happy"],
        "properties": {"unhappy": side, "happy": side},
    }
    document["paths"]["/api/v1/themes"] = {
        "get": {
            "summary": "What unhappy and happy customers write about: the terms that set "
            "their comments apart.",
            "description": "The comments of the period and slice are cut into words (Chinese "
            "with jieba and the site's categories, channels and THEME_WORDS as a user "
            "dictionary; English by words, lower-cased; stop words left out). Unhappy: CSAT 1-2 "
            "(NPS 0-6 on a survey without CSAT); happy: CSAT 5 (NPS 9-10). Each side's terms "
            "held by at least 3 of its comments, with z above 0, the 15 highest z first. The "
            "same filters as /api/v1/metrics; a team lead sees only their teams.",
            "parameters": [p for p in metrics["parameters"] if p["name"] != "group_by"],
            "responses": {
                **metrics["responses"],
                "200": {
                    "description": "",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Themes"}}
                    },
                },
            },
        }
    }
    return document
