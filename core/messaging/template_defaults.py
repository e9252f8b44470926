"""The templates a store starts with: one email and one text per playbook, compliant as
shipped (the store's name and postal address, an unsubscribe link, STOP instructions)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.messaging.templates import Draft, sanitize_html
from core.models import CampaignType, Channel, Template
from core.permissions import Actor, Permission, authorize

_FOOTER = """
<hr>
<p style="font-size:12px;color:#555">This is an advertisement from {{ store.name }},
{{ store.address }}. Please enjoy responsibly; for adults 21 and over.<br>
<a href="{{ unsubscribe_url }}">Unsubscribe</a> from these emails at any time.</p>"""

_STOP = " Reply STOP to opt out."


def _email(name: str, kind: CampaignType, subject: str, preheader: str, body: str) -> Draft:
    return Draft(
        name=name,
        channel=Channel.EMAIL,
        campaign_type=kind.value,
        subject=subject,
        preheader=preheader,
        body_html=f"<p>Hi {{{{ first_name }}}},</p>\n{body}\n{_FOOTER}",
    )


def _sms(name: str, kind: CampaignType, text: str) -> Draft:
    return Draft(
        name=name,
        channel=Channel.SMS,
        campaign_type=kind.value,
        body_text=f"{{{{ store.name }}}}: {text}{_STOP}",
    )


DEFAULTS: tuple[Draft, ...] = (
    _email(
        "Win-back email",
        CampaignType.WIN_BACK,
        "We saved you something, {{ first_name }}",
        "{{ offer.description }} — just for coming back",
        "<p>It has been a while. Come see what is new on our shelves: "
        "<strong>{{ offer.description }}</strong> with code <strong>{{ offer.code }}</strong>.</p>",
    ),
    _email(
        "Holiday email",
        CampaignType.HOLIDAY,
        "Your holiday table, sorted",
        "{{ offer.description }} for the season",
        "<p>{{ campaign.angle }}. Stock up for the holidays: <strong>{{ offer.description }}"
        "</strong>. Show code <strong>{{ offer.code }}</strong> at the till.</p>",
    ),
    _email(
        "New arrival email",
        CampaignType.NEW_PRODUCT,
        "Just in at {{ store.name }}",
        "New on the shelf this week",
        "<p>Something new just arrived and we thought of you. {{ campaign.angle }}.</p>"
        "<p><strong>{{ offer.description }}</strong> — code {{ offer.code }}.</p>",
    ),
    _email(
        "Birthday email",
        CampaignType.EVENT,
        "Happy birthday, {{ first_name }}!",
        "A treat from us",
        "<p>Celebrate with something special: <strong>{{ offer.description }}"
        "</strong>, code <strong>{{ offer.code }}</strong>.</p>",
    ),
    _email(
        "Weekend deal email",
        CampaignType.PROMOTION,
        "This weekend: {{ offer.description }}",
        "Friday to Sunday only",
        "<p>{{ campaign.angle }}. This weekend only: <strong>"
        "{{ offer.description }}</strong> with code <strong>{{ offer.code }}</strong>.</p>",
    ),
    _sms(
        "Win-back text",
        CampaignType.WIN_BACK,
        "we miss you, {{ first_name }}! {{ offer.description }} with code {{ offer.code }}.",
    ),
    _sms(
        "Holiday text",
        CampaignType.HOLIDAY,
        "holiday stock-up: {{ offer.description }}, code {{ offer.code }}.",
    ),
    _sms(
        "New arrival text",
        CampaignType.NEW_PRODUCT,
        "new on the shelf! {{ offer.description }}, code {{ offer.code }}.",
    ),
    _sms(
        "Weekend deal text",
        CampaignType.PROMOTION,
        "this weekend only, {{ offer.description }}. Code {{ offer.code }}.",
    ),
)


def install_default_templates(*, session: Session, actor: Actor) -> int:
    """Add the defaults a store does not have yet (by name). Returns how many were added."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    have = set(session.scalars(select(Template.name)))
    added = [
        Template(**{**draft.__dict__, "body_html": sanitize_html(draft.body_html)})
        for draft in DEFAULTS
        if draft.name not in have
    ]
    session.add_all(added)
    session.flush()
    return len(added)
