"""Send due messages: claim a batch, check each against the rules, render, send, record.

Three short transactions per batch, so a crash anywhere loses nothing: (1) the claim; (2) the
rules' verdicts (suppressed and deferred messages are settled before anything is sent); (3) the
providers' answers. Sending happens between (2) and (3), several messages at once on pooled
connections, after the shared rate limiter has made room for the batch.

A transient failure (429, 5xx, a timeout) is retried up to `MAX_ATTEMPTS` times with exponential
backoff and jitter; a permanent one (an invalid address, an unsubscribed number) fails the
message at once and suppresses the address.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import TemplateError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import compliance
from core.campaigns import actions
from core.config import Settings
from core.customers.contact_details import phone_timezone
from core.errors import NotFound
from core.infra import events
from core.messaging import frequency, links, offer_codes, outbox, suppressions, templates
from core.messaging.providers import Outcome, Outgoing, Provider, Sandbox
from core.messaging.ratelimit import RateLimiter
from core.messaging.routing import provider_for, why_held
from core.messaging.templates import Draft
from core.messaging.variables import message_variables, offer_key
from core.models import (
    ABTest,
    ABVariant,
    Action,
    Campaign,
    CampaignStep,
    Channel,
    Customer,
    Message,
    MessageStatus,
    SuppressionReason,
    Template,
)
from core.store_profile import StoreProfile, get_store_profile

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
"""The first try and three retries."""
BACKOFF_SECONDS = 30.0
THREADS = 16
STOP_CODES = frozenset({"21610"})
"""Twilio: the number replied STOP to our sender; treat as the customer's own opt-out."""

UnitOfWork = Callable[[], AbstractContextManager[Session]]


@dataclass
class BatchReport:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    suppressed: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, other: BatchReport) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


PASSED = "every rule passed right before sending: 21+, consent, not suppressed, legal hours, caps"
"""The decision recorded with each message sent (the rules of compliance.decide and frequency)."""


@dataclass
class _Prepared:
    outgoing: list[Outgoing] = field(default_factory=list)
    report: BatchReport = field(default_factory=BatchReport)


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """30 s, 60 s, 120 s … after the 1st, 2nd, 3rd failed attempt, each ±20% so a provider
    that was down is not hit by every retry in the same second."""
    jitter = (rng or random).uniform(0.8, 1.2)
    return timedelta(seconds=BACKOFF_SECONDS * 2 ** (attempt - 1) * jitter)


class Sender:
    def __init__(
        self,
        *,
        unit_of_work: UnitOfWork,
        settings: Settings,
        limiters: dict[Channel, RateLimiter],
        worker: str,
        clock: Callable[[], datetime],
        providers: dict[Channel, Provider] | None = None,
        threads: int = THREADS,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.settings = settings
        self.limiters = limiters
        self.worker = worker
        self.providers = providers or {c: provider_for(c, settings) for c in Channel}
        self.held = {c: why_held(c, settings) for c in Channel}
        self.clock = clock
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="send")

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def send_batch(self, channel: Channel, limit: int) -> BatchReport:
        """Claim, check, render and send up to `limit` due messages of `channel` (none while
        the channel is held: they wait in the outbox, see `routing.why_held`)."""
        if self.held[channel]:
            return BatchReport()
        with self.unit_of_work() as session:
            ids = outbox.claim(
                session=session, worker=self.worker, limit=limit, now=self.clock(), channel=channel
            )
        if not ids:
            return BatchReport()
        with self.unit_of_work() as session:
            prepared = self._prepare(session, ids)
        report = prepared.report
        report.claimed = len(ids)
        if prepared.outgoing:
            self.limiters[channel].acquire(len(prepared.outgoing))
            provider = self.providers[channel]
            outcomes = list(self.pool.map(provider.send, prepared.outgoing))
            with self.unit_of_work() as session:
                self._record(session, provider, prepared.outgoing, outcomes, report)
        log.info("batch sent", extra={"channel": channel.value, **report.__dict__})
        return report

    # --- before sending -----------------------------------------------------------------

    def _prepare(self, session: Session, ids: list[int]) -> _Prepared:
        now = self.clock()
        rows = session.execute(
            select(Message, Customer)
            .outerjoin(Customer, Customer.id == Message.customer_id)
            .where(Message.id.in_(ids))
            .order_by(Message.id)
        ).all()
        context = _SendContext.load(
            session,
            self.settings,
            [m for m, _ in rows],
            [(m.channel, _address(m, c)) for m, c in rows if c is not None and _address(m, c)],
        )
        customer_ids = [c.id for m, c in rows if c is not None and not outbox.is_test(m)]
        frequency.lock_customers(session=session, customer_ids=customer_ids)
        recent = frequency.sent_recently(
            session=session, customer_ids=customer_ids, now=now, leaving_out=ids
        )
        texted = [c.id for m, c in rows if c is not None and m.channel == Channel.SMS]
        subjects = frequency.texts_by_subject(
            session=session, customer_ids=texted, now=now, leaving_out=ids
        )
        prepared = _Prepared()
        for message, customer in rows:
            if outbox.is_test(message):
                # A test to the staff member who asked, not marketing to a customer: no consent
                # to check, rendered with the sample customer.
                self._queue_for_sending(session, prepared, context, message, None)
                continue
            if customer is None:
                self._settle(session, message, MessageStatus.SUPPRESSED, "the customer is gone")
                prepared.report.suppressed += 1
                continue
            address = _address(message, customer)
            decision = compliance.decide(
                customer=customer,
                channel=message.channel,
                now=now,
                policy=context.policy,
                zone=context.zone_of(customer),
                suppressed=context.suppressed.get(suppressions.normalise(message.channel, address)),
            )
            counts = recent.setdefault(customer.id, Counter())
            if decision.verdict == compliance.Verdict.SEND and (
                capped := frequency.over_cap(context.policy, counts, message.channel)
            ):
                decision = compliance.Decision(compliance.Verdict.BLOCK, capped)
            texts = subjects.setdefault((customer.id, message.campaign_id or -1), [])
            if (
                decision.verdict == compliance.Verdict.SEND
                and message.channel == Channel.SMS
                and (
                    waiting := frequency.same_subject_deferral(
                        context.policy,
                        customer,
                        texts,
                        now,
                        (context.zone_of(customer), context.phone_zone_of(customer)),
                    )
                )
            ):
                decision = waiting
            if decision.verdict == compliance.Verdict.BLOCK:
                self._settle(session, message, MessageStatus.SUPPRESSED, decision.reason)
                prepared.report.suppressed += 1
            elif decision.verdict == compliance.Verdict.DEFER:
                assert decision.send_at is not None  # a deferral says until when
                message.status, message.send_after = MessageStatus.QUEUED, decision.send_at
                message.attempts -= 1  # waiting for the legal hours is not a failed try
                message.error, message.claimed_by = decision.reason, None
                events.record(
                    session=session,
                    type="message.deferred",
                    customer_id=message.customer_id,
                    campaign_id=message.campaign_id,
                    message_id=message.id,
                    occurred_at=now,
                    data={"reason": decision.reason, "until": decision.send_at.isoformat()},
                )
                prepared.report.deferred += 1
            else:
                counts[message.channel] += 1
                if message.channel == Channel.SMS:
                    texts.append(now)
                message.provider = self.providers[Channel(message.channel)].name  # on its way
                message.to_address = address
                self._queue_for_sending(session, prepared, context, message, customer)
        return prepared

    def _queue_for_sending(
        self,
        session: Session,
        prepared: _Prepared,
        context: _SendContext,
        message: Message,
        customer: Customer | None,
    ) -> None:
        template = context.templates.get(message.template_id or -1)
        problem = "no template to send" if template is None else None
        if message.channel == Channel.EMAIL and not context.store.is_complete:
            problem = "the store's postal address is not set (Store profile): email needs it"
        if template is None or problem:
            self._settle(session, message, MessageStatus.FAILED, problem or "")
            prepared.report.failed += 1
            return
        message.offer_code = context.offer_code_of(message)
        try:
            outgoing = context.render(message, customer, template)
        except (TemplateError, RecursionError) as exc:
            self._settle(session, message, MessageStatus.FAILED, f"the template failed: {exc}")
            prepared.report.failed += 1
            return
        message.subject = outgoing.subject[:200]
        prepared.outgoing.append(outgoing)

    def _settle(self, session: Session, message: Message, status: MessageStatus, why: str) -> None:
        now = self.clock()
        message.status, message.error, message.failed_at = status, why, now
        events.record(
            session=session,
            type=f"message.{status.value}",
            customer_id=message.customer_id,
            campaign_id=message.campaign_id,
            message_id=message.id,
            occurred_at=now,
            data={"reason": why},
        )

    # --- after sending ------------------------------------------------------------------

    def _record(
        self,
        session: Session,
        provider: Provider,
        outgoing: list[Outgoing],
        outcomes: list[Outcome],
        report: BatchReport,
    ) -> None:
        now = self.clock()
        messages = {
            m.id: m
            for m in session.scalars(
                select(Message).where(Message.id.in_([o.message_id for o in outgoing]))
            )
        }
        for sent, outcome in zip(outgoing, outcomes, strict=True):
            message = messages[sent.message_id]
            message.provider, message.claimed_by = outcome.provider or provider.name, None
            if outcome.accepted:
                message.status, message.sent_at = MessageStatus.SENT, now
                message.provider_message_id = outcome.provider_id
                message.error, message.error_code = "", None
                message.segments, message.cost_cents = self._cost(sent, outcome)
                events.record(
                    session=session,
                    type="message.sent",
                    customer_id=message.customer_id,
                    campaign_id=message.campaign_id,
                    message_id=message.id,
                    occurred_at=now,
                    data={
                        "channel": message.channel,
                        "provider": provider.name,
                        "reason": PASSED,
                    },
                )
                if message.action_id is not None and message.provider == Sandbox.name:
                    actions.record_outcome(
                        session=session,
                        action_id=message.action_id,
                        outcome="sent in test mode",
                        now=now,
                    )
                report.sent += 1
                continue
            message.error, message.error_code = outcome.error, outcome.code
            if outcome.permanent:
                self._settle(session, message, MessageStatus.FAILED, outcome.error)
                self._suppress_after(session, message, outcome)
                report.failed += 1
            elif message.attempts < MAX_ATTEMPTS:
                message.status = MessageStatus.QUEUED
                message.send_after = now + backoff(message.attempts)
                report.retrying += 1
            else:
                why = f"gave up after {message.attempts} tries: {outcome.error}"
                self._settle(session, message, MessageStatus.FAILED, why)
                report.failed += 1

    def _cost(self, sent: Outgoing, outcome: Outcome) -> tuple[int, float]:
        if sent.channel == Channel.EMAIL:
            return 0, self.settings.email_cost_cents
        parts = outcome.segments or templates.sms_length(sent.text).segments
        return parts, parts * self.settings.sms_cost_cents

    def _suppress_after(self, session: Session, message: Message, outcome: Outcome) -> None:
        if message.channel == Channel.SMS and outcome.code in STOP_CODES:
            suppressions.opt_out(
                session=session,
                channel=Channel.SMS,
                address=message.to_address,
                reason=SuppressionReason.STOP,
                source="carrier opt-out",
                message_id=message.id,
                now=self.clock(),
            )
        else:
            suppressions.suppress(
                session=session,
                channel=message.channel,
                address=message.to_address,
                reason=SuppressionReason.INVALID,
                detail=outcome.error,
                message_id=message.id,
            )


def _address(message: Message, customer: Customer) -> str:
    """Where the message goes now: the customer's current address on its channel."""
    return (customer.email if message.channel == Channel.EMAIL else customer.phone) or ""


def render_again(*, session: Session, settings: Settings, message_id: int) -> Outgoing | None:
    """A message as it was (or will be) sent, rendered the way the sender renders it, for its
    detail on the Sends page; None when it has no template left to render."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"There is no message {message_id}.")
    context = _SendContext.load(session, settings, [message])
    template = context.templates.get(message.template_id or -1)
    if template is None:
        return None
    customer = session.get(Customer, message.customer_id) if message.customer_id else None
    try:
        return context.render(message, customer, template)
    except (TemplateError, RecursionError):
        return None


@dataclass
class _SendContext:
    """What rendering and the rules need for one batch, loaded once."""

    settings: Settings
    policy: compliance.Policy
    store: StoreProfile
    link_key: bytes
    offer_key: bytes
    templates: dict[int, Template]
    campaigns: dict[int, Campaign]
    steps: dict[int, CampaignStep]
    actions: dict[int, Action]
    variants: dict[tuple[int, int], ABVariant]
    """The A/B variants of the batch's tested steps, by step and position."""
    suppressed: dict[str, str]
    zones: dict[str | None, ZoneInfo]

    @classmethod
    def load(
        cls,
        session: Session,
        settings: Settings,
        messages: list[Message],
        addresses: Iterable[tuple[str, str]] = (),
    ) -> _SendContext:
        """What sending `messages` needs, read once; `addresses` ((channel, address) pairs: the
        recipients' current ones, whatever the outbox row says) are looked up on the
        suppression list."""

        def by_id(model: Any, ids: set[int | None]) -> dict[int, Any]:
            wanted = {i for i in ids if i is not None}
            rows: Iterable[Any] = (
                session.scalars(select(model).where(model.id.in_(wanted))) if wanted else []
            )
            return {row.id: row for row in rows}

        store = get_store_profile(session=session)
        suppressed: dict[str, str] = {}
        addresses = list(addresses)
        for channel in {channel for channel, _ in addresses}:
            suppressed |= suppressions.reasons_for(
                session=session,
                channel=channel,
                addresses=[address for each, address in addresses if each == channel],
            )
        return cls(
            settings=settings,
            policy=compliance.get_policy(session=session),
            store=store,
            link_key=links.link_key(),
            offer_key=offer_key(),
            templates=by_id(Template, {m.template_id for m in messages}),
            campaigns=by_id(Campaign, {m.campaign_id for m in messages}),
            steps=by_id(CampaignStep, {m.step_id for m in messages}),
            actions=by_id(Action, {m.action_id for m in messages}),
            variants=_variants(session, {m.step_id for m in messages if m.variant is not None}),
            suppressed=suppressed,
            zones={None: store.zone},
        )

    def zone_of(self, customer: Customer) -> ZoneInfo:
        return self._zone_named(customer.timezone)

    def phone_zone_of(self, customer: Customer) -> ZoneInfo | None:
        """The zone of the customer's number's area code, when it has exactly one."""
        name = phone_timezone(customer.phone) if customer.phone else None
        return self._zone_named(name) if name else None

    def _zone_named(self, name: str | None) -> ZoneInfo:
        """The zone called `name` (the store's for none or an unknown name), read once."""
        if name not in self.zones:
            self.zones[name] = outbox.zone_or(name, self.store.zone)
        return self.zones[name]

    def offer_code_of(self, message: Message) -> str:
        """The code the message carries: given once, when it is first rendered for sending."""
        return message.offer_code or offer_codes.offer_code(self.offer_key, message.id)

    def render(
        self, message: Message, customer: Customer | None, template: Template | Draft
    ) -> Outgoing:
        base_url = self.settings.public_base_url or "http://localhost:8501"
        unsubscribe = links.unsubscribe_url(base_url, self.link_key, message.id)
        campaign = self.campaigns.get(message.campaign_id or -1)
        step = self.steps.get(message.step_id or -1)
        variant = self.variants.get((message.step_id or -1, message.variant or 0))
        if variant is not None and variant.subject:
            template = Draft(
                name=template.name,
                channel=Channel(template.channel),
                subject=variant.subject,
                preheader=template.preheader,
                body_html=template.body_html,
                body_text=template.body_text,
            )
        variables = message_variables(
            store=self.store,
            code=self.offer_code_of(message),
            unsubscribe_url=unsubscribe,
            customer=customer,
            step=step,
            offer=self.actions.get(message.action_id or -1) or variant or step,
            campaign=campaign,
        )
        rendered = templates.render(template, variables)
        headers = {}
        if message.channel == Channel.EMAIL:
            mailto = f"mailto:{self.store.email}?subject=unsubscribe" if self.store.email else ""
            headers = {
                "List-Unsubscribe": ", ".join(f"<{u}>" for u in (unsubscribe, mailto) if u),
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
        return Outgoing(
            message_id=message.id,
            key=message.key,
            channel=Channel(message.channel),
            to=message.to_address,
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            sender=self._sender_address(),
            headers=headers,
            tags=(f"campaign-{campaign.id}",) if campaign else (),
        )

    def _sender_address(self) -> str:
        return sender_address(self.store, self.settings)


def _variants(session: Session, step_ids: set[int | None]) -> dict[tuple[int, int], ABVariant]:
    if not step_ids:
        return {}
    rows = session.execute(
        select(ABTest.step_id, ABVariant)
        .join(ABVariant, ABVariant.test_id == ABTest.id)
        .where(ABTest.step_id.in_([s for s in step_ids if s is not None]))
    ).all()
    return {(step_id, variant.position): variant for step_id, variant in rows}


def sender_address(store: StoreProfile, settings: Settings) -> str:
    """The From of the store's email: its name and address (or hello@ its Mailgun domain)."""
    email = store.email or f"hello@{settings.mailgun_domain or 'example.com'}"
    return f"{store.name} <{email}>"
