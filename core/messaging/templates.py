"""Message templates: written once by a marketer, rendered per customer in Jinja2's sandbox.

A template is checked when it is saved, not when it is sent: unknown variables, broken syntax,
and a missing compliance element (an email's postal address and unsubscribe link; a text's
store name and STOP instructions) are refused with the reason.

Templates render in a bounded sandbox (`core.messaging.sandbox`): no way to mark text as safe
HTML, no runaway loops or strings. Every value is HTML-escaped as it is rendered, and the
*rendered* HTML of every message and preview is sanitised again with nh3 (tags, attributes and
link schemes from an allow-list), so neither a template nor a customer's field can put script, a
form or a `javascript:` link into a message.
"""

from __future__ import annotations

import functools
import html
import math
import re
from dataclasses import dataclass
from typing import Any

import nh3
from jinja2 import Template as JinjaTemplate
from jinja2 import TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import SecurityError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.compliance import content
from core.errors import Conflict, NotFound, ValidationError
from core.infra import audit
from core.messaging import sandbox
from core.models import Channel, Template
from core.permissions import Actor, Permission, authorize

VARIABLES: dict[str, str] = {
    "first_name": "The customer's first name ('there' when unknown)",
    "customer.first_name": "First name",
    "customer.last_name": "Last name",
    "customer.city": "City",
    "customer.preferred_category": "Favourite category (wine, beer, spirits…)",
    "offer.description": "The offer in words, e.g. 15% off a mixed case",
    "offer.code": "A code unique to this customer and send",
    "offer.category": "The category the offer is for",
    "campaign.name": "The campaign's name",
    "campaign.angle": "The planner's angle for this send",
    "store.name": "Your store's name",
    "store.address": "Your store's postal address (required in email)",
    "store.phone": "Your store's phone",
    "store.email": "Your store's email",
    "unsubscribe_url": "One-click unsubscribe link (required in email)",
}
"""Every variable a template may use, with what the marketer sees in the picker."""

TOP_LEVEL = frozenset(name.split(".")[0] for name in VARIABLES)

SAMPLE_CONTEXT: dict[str, Any] = {
    "first_name": "Dana",
    "customer": {
        "first_name": "Dana",
        "last_name": "Reyes",
        "city": "Chicago",
        "preferred_category": "wine",
    },
    "offer": {"description": "15% off a mixed case", "code": "LC7QK2MX", "category": "wine"},
    "campaign": {"name": "Holiday wine week", "angle": "Stock up for the holidays"},
    "store": {
        "name": "Last Call Liquor",
        "address": "1200 W Fulton St, Chicago, IL 60607",
        "phone": "(312) 555-0100",
        "email": "hello@example.com",
    },
    "unsubscribe_url": "https://shop.example.com/u/sample-token",
}
"""What a preview shows when no real customer is chosen."""

ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"center", "font", "span", "table", "tbody", "td", "th", "tr"}
ALLOWED_ATTRIBUTES = {
    tag: {"style", "align", "width", "height", "bgcolor", "color", "class"} for tag in ALLOWED_TAGS
} | {"a": {"href", "title", "style"}, "img": {"src", "alt", "width", "height", "style"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

_text_env = sandbox.BoundedSandbox(autoescape=False)
_html_env = sandbox.BoundedSandbox(autoescape=True)

STOP_WORDS_IN_SMS = re.compile(r"\bSTOP\b")


@dataclass(frozen=True)
class Draft:
    """What the editor submits."""

    name: str
    channel: Channel
    subject: str = ""
    preheader: str = ""
    body_html: str = ""
    body_text: str = ""
    campaign_type: str | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    preheader: str
    html: str
    text: str


# --- checking -------------------------------------------------------------------------------


def check(draft: Draft) -> list[str]:
    """Every reason `draft` cannot be saved, in words (empty when it can)."""
    problems = []
    if not draft.name.strip():
        problems.append("Give the template a name.")
    parts = {"text": draft.body_text}
    if draft.channel == Channel.EMAIL:
        parts = {
            "subject": draft.subject,
            "preheader": draft.preheader,
            "HTML": draft.body_html,
            "text": draft.body_text,
        }
        if not draft.subject.strip():
            problems.append("An email needs a subject.")
        if not draft.body_html.strip():
            problems.append("An email needs an HTML body.")
    elif not draft.body_text.strip():
        problems.append("A text message needs a body.")
    for part, source in parts.items():
        problems.extend(f"In the {part}: {p}" for p in _check_source(source))
    if not problems:
        problems.extend(_check_compliance(draft))
    problems.extend(str(finding) for finding in content.blocking(lint(draft)))
    return problems


def warnings(draft: Draft) -> list[str]:
    """What a person should look at before the template is used (it can be saved)."""
    return [str(finding) for finding in lint(draft) if finding.severity == content.Severity.WARN]


def lint(template: Draft | Template) -> list[content.Finding]:
    """What the template says that an alcohol ad may not (core.compliance.content)."""
    return content.lint_message(
        subject=template.subject,
        preheader=template.preheader,
        html=template.body_html,
        text=template.body_text,
    )


def _check_source(source: str) -> list[str]:
    try:
        unknown = sorted(meta.find_undeclared_variables(_text_env.parse(source)) - TOP_LEVEL)
    except TemplateSyntaxError as exc:  # also an unknown filter (TemplateAssertionError)
        return [f"line {exc.lineno}: {(exc.message or '').rstrip('.')}."]
    except sandbox.TooCostly as exc:
        return [f"{exc}; make it shorter."]
    if unknown:
        return [f"unknown variable {', '.join(unknown)} (use one from the list)."]
    try:
        sandbox.render(_compiled(source), SAMPLE_CONTEXT)
    except UndefinedError as exc:
        return [f"{exc.message} (use a variable from the list)."]
    except sandbox.TooCostly as exc:
        return [f"it does too much work: {exc}."]
    except SecurityError:
        return ["that expression is not allowed in a template."]
    except RecursionError:
        return ["a macro calls itself without end."]
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:  # e.g. a bad filter
        return [f"it cannot be rendered: {exc}."]
    return []


def _check_compliance(draft: Draft) -> list[str]:
    """CAN-SPAM for email (postal address, unsubscribe); identification and STOP for texts."""
    if draft.channel == Channel.EMAIL:
        missing = [
            what
            for what, variable in (
                ("your postal address", "store.address"),
                ("an unsubscribe link", "unsubscribe_url"),
            )
            if not re.search(r"{{\s*" + re.escape(variable) + r"\s*}}", draft.body_html)
        ]
        return (
            [
                f"The email must show {' and '.join(missing)} (the law for marketing email): "
                "insert {{ store.address }} and {{ unsubscribe_url }}."
            ]
            if missing
            else []
        )
    problems = []
    if not re.search(r"{{\s*store\.name\s*}}", draft.body_text):
        problems.append("A text must say who it is from: insert {{ store.name }}.")
    if not STOP_WORDS_IN_SMS.search(draft.body_text):
        problems.append("A text must say how to stop them, e.g. 'Reply STOP to opt out'.")
    return problems


# --- rendering ------------------------------------------------------------------------------


def render(template: Template | Draft, context: dict[str, Any]) -> Rendered:
    """The message for one customer. The text part is made from the HTML when left empty.

    Raises:
        jinja2.TemplateError: the template cannot be rendered for this customer (e.g.
            `sandbox.TooCostly` when a long field makes it go over a limit).
    """
    subject = sandbox.render(_compiled(template.subject), context).strip()
    preheader = sandbox.render(_compiled(template.preheader), context).strip()
    body = ""
    if template.body_html:
        body = sanitize_html(sandbox.render(_compiled(template.body_html, html=True), context))
    text = sandbox.render(_compiled(template.body_text), context).strip()
    if Channel(template.channel) == Channel.EMAIL and not text:
        text = html_to_text(body)
    return Rendered(subject=subject, preheader=preheader, html=body, text=text)


@functools.lru_cache(maxsize=512)
def _compiled(source: str, *, html: bool = False) -> JinjaTemplate:
    """Compiled once per process: compiling costs ~100 times what rendering does."""
    return (_html_env if html else _text_env).from_string(source)


def sanitize_html(source: str) -> str:
    return nh3.clean(
        source, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES
    )


_BREAKS = re.compile(r"<\s*(br|/p|/div|/h[1-6]|/li|/tr)\b[^>]*>", re.IGNORECASE)
_LINKS = re.compile(r"<a\b[^>]*href=[\"']([^\"']+)[\"'][^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)


def html_to_text(source: str) -> str:
    """A readable plain-text part: paragraphs become lines, links show their address."""
    marked = _LINKS.sub(lambda m: f"{m.group(2)} ({m.group(1)})", source)
    marked = _BREAKS.sub("\n", marked)
    text = html.unescape(nh3.clean(marked, tags=set()))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- text-message length --------------------------------------------------------------------

GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    encoding: str
    """GSM-7, or UCS-2 when any character is outside it (an emoji halves the room)."""
    characters: int
    segments: int
    per_segment: int


def sms_length(text: str) -> SmsLength:
    if all(c in GSM7 or c in GSM7_EXTENDED for c in text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    per_segment = single if units <= single else multi
    segments = 0 if units == 0 else 1 if units <= single else math.ceil(units / multi)
    return SmsLength(encoding, units, segments, per_segment)


# --- storage --------------------------------------------------------------------------------


def save_template(
    *, session: Session, actor: Actor, draft: Draft, template_id: int | None = None
) -> Template:
    """Create (no id) or update a template after `check`; the HTML is stored sanitised."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    draft = Draft(**{**draft.__dict__, "body_html": sanitize_html(draft.body_html)})
    if problems := check(draft):
        raise ValidationError(" ".join(problems))
    clash = session.scalar(select(Template.id).where(Template.name == draft.name.strip()))
    if clash is not None and clash != template_id:
        raise Conflict(f"A template named '{draft.name.strip()}' already exists.")
    if template_id is None:
        template = Template()
    else:
        template = get_template(session=session, template_id=template_id)
    for field, value in draft.__dict__.items():
        setattr(template, field, value.strip() if field == "name" else value)
    if template_id is None:
        template.created_by = actor.user_id
        session.add(template)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="template.saved",
        entity_type="template",
        entity_id=template.id,
        changes={"name": template.name, "channel": template.channel},
    )
    return template


def get_template(*, session: Session, template_id: int) -> Template:
    template = session.get(Template, template_id)
    if template is None:
        raise NotFound(f"Template {template_id} not found.")
    return template


def list_templates(*, session: Session, channel: Channel | None = None) -> list[Template]:
    query = select(Template).order_by(Template.channel, Template.name)
    if channel is not None:
        query = query.where(Template.channel == channel.value)
    return list(session.scalars(query))


def default_template(
    *, session: Session, campaign_type: str, channel: Channel | str
) -> Template | None:
    """The template for a campaign type and channel, else any default for the channel."""
    rows = session.scalars(
        select(Template)
        .where(Template.channel == Channel(channel).value, Template.campaign_type.is_not(None))
        .order_by(Template.id)
    ).all()
    return next((t for t in rows if t.campaign_type == campaign_type), rows[0] if rows else None)
