"""Setting up a test on a draft campaign's step: its variants, its metric, and the sample it
needs, said before anything is sent ("needs 1,850 per variant; this step reaches 1,200 — the
test can only detect a change of 4 pts or more")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.abtests.stats import detectable_effect, sample_size
from core.campaigns.details import _require_editable, get_campaign
from core.compliance import content
from core.errors import NotFound, ValidationError
from core.infra import audit
from core.models import (
    ABTest,
    ABVariant,
    CampaignStep,
    Channel,
    Message,
    Metric,
    Order,
    Template,
)
from core.permissions import Actor, Permission, authorize

MAX_VARIANTS = 4
DEFAULT_BASELINE = {Metric.CLICK_RATE: 0.03, Metric.CONVERSION_RATE: 0.05}
"""Assumed when the store has no sends of its own to learn from (typical retail figures)."""
HISTORY_DAYS = 90
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class VariantSpec:
    """One variant: what it changes from the step's send (None: as the step)."""

    weight: int = 50
    subject: str = ""
    template_id: int | None = None
    channel: str | None = None
    local_time: str | None = None
    offer_kind: str | None = None
    offer_value: float | None = None
    offer_category: str | None = None
    offer_description: str | None = None


@dataclass(frozen=True)
class TestSpec:
    variants: tuple[VariantSpec, ...] = field(default=(VariantSpec(), VariantSpec()))
    metric: Metric = Metric.CLICK_RATE
    confidence: float = 0.95
    baseline_rate: float | None = None
    """None: the store's own rate over the last 90 days (or a typical one without history)."""
    min_effect: float = 0.02
    test_percent: int = 100
    wait_hours: int = 48

    __test__ = False  # not a pytest class


@dataclass(frozen=True)
class Sizing:
    needed: int
    """Recipients per variant the test needs (the fixed horizon)."""
    available: int
    """Recipients the smallest variant will get from this step, as far as the plan knows."""
    baseline: float
    min_effect: float
    detectable: float | None
    """The smallest change this audience can detect, when it is short of the sample."""

    @property
    def enough(self) -> bool:
        return self.available >= self.needed

    @property
    def sentence(self) -> str:
        needs = f"Needs {self.needed:,} recipients per variant"
        if self.enough:
            return f"{needs}; this step reaches about {self.available:,} each."
        if self.detectable is None or self.available < 2:
            return f"{needs}; this step reaches too few to test."
        return (
            f"{needs}; this step reaches about {self.available:,} each — the test can only "
            f"detect a change of {self.detectable * 100:.1f} pts or more."
        )


def baseline_from_history(
    *, session: Session, metric: Metric, channel: str, now: datetime
) -> tuple[float, str]:
    """The store's own rate for `metric` on `channel` over the last 90 days, and where it came
    from; a typical rate when there is too little history (under 200 sends)."""
    since = now - timedelta(days=HISTORY_DAYS)
    sent = select(Message).where(
        Message.channel == channel, Message.sent_at >= since, Message.campaign_id.is_not(None)
    )
    total = session.scalar(select(func.count()).select_from(sent.subquery())) or 0
    rate_metric = Metric.CLICK_RATE if metric == Metric.CLICK_RATE else Metric.CONVERSION_RATE
    if total < 200:
        typical = DEFAULT_BASELINE[rate_metric]
        return (
            typical,
            f"a typical {rate_metric.words} ({typical:.0%}): too few sends to learn from",
        )
    if rate_metric == Metric.CLICK_RATE:
        hits = session.scalar(
            select(func.count()).select_from(sent.where(Message.clicked_at.is_not(None)).subquery())
        )
    else:
        hits = session.scalar(
            select(func.count(func.distinct(Message.id)))
            .select_from(Message)
            .join(Order, Order.customer_id == Message.customer_id)
            .where(
                Message.channel == channel,
                Message.sent_at >= since,
                Message.campaign_id.is_not(None),
                Order.ordered_at >= Message.sent_at,
                Order.ordered_at >= since,
            )
        )
    rate = min(max((hits or 0) / total, 0.001), 0.9)
    return rate, f"your {rate_metric.words} over the last {HISTORY_DAYS} days ({total:,} sends)"


def size_test(*, baseline: float, min_effect: float, confidence: float, per_variant: int) -> Sizing:
    needed = sample_size(baseline, min_effect, confidence)
    detectable = None
    if per_variant < needed and per_variant >= 2:
        detectable = detectable_effect(baseline, per_variant, confidence)
    return Sizing(needed, per_variant, baseline, min_effect, detectable)


def step_sizing(*, session: Session, step_id: int, spec: TestSpec, now: datetime) -> Sizing:
    """How the spec's test fits the step's planned reach (less the control group and the share
    left for the winner), split by the weights."""
    step = _step(session, step_id)
    baseline = spec.baseline_rate
    if baseline is None:
        baseline, _ = baseline_from_history(
            session=session, metric=spec.metric, channel=step.channel, now=now
        )
    reach = step.expected_reach * (100 - step.campaign.control_percent) / 100
    reach *= spec.test_percent / 100
    weights = [v.weight for v in spec.variants]
    smallest = int(reach * min(weights) / sum(weights)) if weights and sum(weights) else 0
    return size_test(
        baseline=baseline,
        min_effect=spec.min_effect,
        confidence=spec.confidence,
        per_variant=smallest,
    )


def _step(session: Session, step_id: int) -> CampaignStep:
    step = session.get(CampaignStep, step_id)
    if step is None:
        raise NotFound(f"There is no campaign step #{step_id}.")
    return step


def test_of_step(*, session: Session, step_id: int) -> ABTest | None:
    return session.scalar(select(ABTest).where(ABTest.step_id == step_id))


def tests_of_campaign(*, session: Session, campaign_id: int) -> list[ABTest]:
    return list(
        session.scalars(
            select(ABTest).where(ABTest.campaign_id == campaign_id).order_by(ABTest.step_id)
        )
    )


def get_test(*, session: Session, test_id: int) -> ABTest:
    test = session.get(ABTest, test_id)
    if test is None:
        raise NotFound(f"There is no A/B test #{test_id}.")
    return test


def locked_test(*, session: Session, test_id: int) -> ABTest:
    """The test as it is in the database, its row locked until the transaction ends (one
    decision or rollout at a time); what this transaction changed is written first."""
    session.flush()
    test = get_test(session=session, test_id=test_id)
    session.refresh(test, with_for_update=True)
    return test


def save_test(
    *, session: Session, actor: Actor, step_id: int, spec: TestSpec, now: datetime
) -> ABTest:
    """Test a draft's step with `spec`'s variants (replacing the step's test, if it had one)."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    step = _step(session, step_id)
    _require_editable(get_campaign(session=session, campaign_id=step.campaign_id))
    variants = [_variant(session, step, position, v) for position, v in enumerate(spec.variants)]
    _check(spec, variants, step)
    sizing = step_sizing(session=session, step_id=step.id, spec=spec, now=now)
    test = test_of_step(session=session, step_id=step_id) or ABTest(
        campaign_id=step.campaign_id, step_id=step.id
    )
    test.metric, test.confidence = spec.metric, spec.confidence
    test.baseline_rate, test.min_effect = sizing.baseline, spec.min_effect
    test.sample_per_variant = sizing.needed
    test.test_percent, test.wait_hours = spec.test_percent, spec.wait_hours
    test.decision = ""
    test.variants.clear()
    session.add(test)
    session.flush()
    test.variants.extend(variants)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="abtest.save",
        entity_type="campaign",
        entity_id=step.campaign_id,
        changes={
            "step": step.position,
            "variants": len(variants),
            "metric": spec.metric.value,
            "needed_per_variant": sizing.needed,
        },
    )
    return test


def remove_test(*, session: Session, actor: Actor, step_id: int) -> None:
    authorize(actor, Permission.RUN_CAMPAIGNS)
    test = test_of_step(session=session, step_id=step_id)
    if test is None:
        return
    _require_editable(get_campaign(session=session, campaign_id=test.campaign_id))
    session.delete(test)
    audit.record(
        session=session,
        actor=actor,
        action="abtest.remove",
        entity_type="campaign",
        entity_id=test.campaign_id,
        changes={"step_id": step_id},
    )


def _variant(session: Session, step: CampaignStep, position: int, spec: VariantSpec) -> ABVariant:
    def pick(name: str) -> object:
        value = getattr(spec, name)
        return getattr(step, name) if value is None else value

    template_id = spec.template_id if spec.template_id is not None else step.template_id
    channel = str(pick("channel"))
    if template_id is not None:
        template = session.get(Template, template_id)
        if template is None:
            raise ValidationError(
                f"Variant {_name(position)}: there is no template #{template_id}."
            )
        if template.channel != channel:
            raise ValidationError(
                f"Variant {_name(position)}: the template “{template.name}” is for "
                f"{template.channel}, the variant sends by {channel}."
            )
    kind_changed = spec.offer_kind is not None and spec.offer_kind != step.offer_kind
    description = spec.offer_description
    if description is None:  # the step's words describe the step's offer only
        description = "" if kind_changed or spec.offer_value is not None else step.offer_description
    return ABVariant(
        position=position,
        weight=spec.weight,
        subject=spec.subject.strip(),
        template_id=template_id,
        channel=channel,
        local_time=str(pick("local_time")),
        offer_kind=str(pick("offer_kind")),
        offer_value=float(pick("offer_value")),  # type: ignore[arg-type]
        offer_category=spec.offer_category or step.offer_category,
        offer_description=description,
    )


def _name(position: int) -> str:
    return chr(ord("A") + position)


SENDS = ("subject", "template_id", "channel", "local_time", "offer_kind", "offer_value")


def _check(spec: TestSpec, variants: list[ABVariant], step: CampaignStep) -> None:
    if not 2 <= len(variants) <= MAX_VARIANTS:
        raise ValidationError(f"A test has 2 to {MAX_VARIANTS} variants (got {len(variants)}).")
    for variant in variants:
        label = f"Variant {variant.name}"
        if not 1 <= variant.weight <= 100:
            raise ValidationError(f"{label}: its weight must be 1 to 100 (got {variant.weight}).")
        if variant.channel not in step.campaign.channels:
            raise ValidationError(
                f"{label}: the campaign does not send by {variant.channel}; add the channel "
                "to its details first."
            )
        if not _TIME.match(variant.local_time):
            raise ValidationError(
                f"{label}: the send time must be HH:MM (got {variant.local_time})."
            )
        if variant.channel == Channel.SMS and variant.subject:
            raise ValidationError(f"{label}: a text message has no subject.")
        if barred := content.blocking(content.lint_message(subject=variant.subject, where=label)):
            raise ValidationError(" ".join(map(str, barred)))
    seen: dict[tuple[object, ...], str] = {}
    for variant in variants:
        sends = tuple(getattr(variant, name) for name in SENDS)
        if sends in seen:
            raise ValidationError(
                f"Variant {variant.name} sends the same as {seen[sends]}: change its subject, "
                "template, offer, send time or channel."
            )
        seen[sends] = variant.name
    if not 0.8 <= spec.confidence <= 0.99:
        raise ValidationError(f"Confidence must be 80 % to 99 % (got {spec.confidence:.0%}).")
    if not 10 <= spec.test_percent <= 100:
        raise ValidationError(
            f"The test's share of the audience must be 10 % to 100 % (got {spec.test_percent} %)."
        )
    if not 1 <= spec.wait_hours <= 24 * 14:
        raise ValidationError("Results are judged 1 hour to 14 days after the last test send.")
    if not 0 < spec.min_effect < 1:
        raise ValidationError(
            f"The smallest change worth detecting must be above 0 (got {spec.min_effect:.1%})."
        )


def spec_of(test: ABTest) -> TestSpec:
    """A saved test as a spec to edit: A as the step, the others by what they change from A
    (None where they send as A does)."""
    control = test.variants[0]
    names = [f.name for f in fields(VariantSpec) if f.name not in ("weight", "subject")]

    def changes(variant: ABVariant) -> VariantSpec:
        if variant.position == 0:
            return VariantSpec(weight=variant.weight)
        differ = {
            name: getattr(variant, name)
            for name in names
            if getattr(variant, name) != getattr(control, name)
        }
        return VariantSpec(weight=variant.weight, subject=variant.subject, **differ)

    return TestSpec(
        variants=tuple(changes(v) for v in test.variants),
        metric=test.metric,
        confidence=test.confidence,
        baseline_rate=test.baseline_rate,
        min_effect=test.min_effect,
        test_percent=test.test_percent,
        wait_hours=test.wait_hours,
    )
