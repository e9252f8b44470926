"""The campaign planner: a week of sends from an AI model, or from rules when there is none.

`make_plan` asks any OpenAI-compatible endpoint for a Plan as structured JSON (with a timeout and
bounded retries), checks it with core.campaigns.plans.check_plan, and falls back to
`heuristic_plan` when no key is configured, the call fails or times out, or the answer is
unusable. Every outcome records its source and why. AI answers are cached by a hash of the
exact request, so asking again with the same inputs costs nothing; token use and cost are
recorded with the plan.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import compliance
from core.campaigns import retail_calendar
from core.campaigns.plans import (
    MAX_SENDS,
    Audience,
    CheckedPlan,
    OfferKind,
    Plan,
    PlanContext,
    PlannedSend,
    TemplateChoice,
    check_plan,
    reach_by_channel,
)
from core.config import Settings, get_settings
from core.db import UnitOfWork
from core.errors import ValidationError
from core.models import (
    Campaign,
    CampaignStatus,
    Channel,
    Customer,
    Order,
    PlanCache,
    PlanSource,
    Segment,
    SegmentMember,
    Template,
)
from core.segments import playbooks
from core.segments.membership import get_segment
from core.store_profile import get_store_profile

if TYPE_CHECKING:
    from openai import APIError

log = logging.getLogger(__name__)

INVALID_ANSWER_ATTEMPTS = 2
"""How often the model is asked again when its answer is not a valid plan."""
PAST_CAMPAIGNS = 5


@dataclass
class PlanOutcome:
    plan: Plan
    source: PlanSource
    note: str
    """Who made the plan and, for a fallback, why."""
    repairs: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


# --- what the planner is given -------------------------------------------------------------


def build_context(
    *,
    session: Session,
    segment_ids: list[int],
    start: date,
    end: date,
    goal: str = "",
    campaign_type: str = "promotion",
    channels: tuple[str, ...] = (Channel.EMAIL.value,),
    excluded_segment_ids: tuple[int, ...] = (),
    budget_cents: int | None = None,
    max_discount_percent: int | None = None,
    today: date,
) -> PlanContext:
    """Gather the store, the audiences with their reach and make-up, the calendar and the limits
    a plan for these segments and dates is made from."""
    if not segment_ids:
        raise ValidationError("Pick at least one segment to plan for.", field="segments")
    if end < start:
        raise ValidationError("The campaign ends before it starts.", field="dates")
    if not channels:
        raise ValidationError("Pick at least one channel.", field="channels")
    settings = get_settings()
    store = get_store_profile(session=session)
    policy = compliance.get_policy(session=session)
    excluded = tuple(excluded_segment_ids)
    audiences = tuple(
        _audience(session, segment_id, excluded, today) for segment_id in dict.fromkeys(segment_ids)
    )
    moments = [
        (moment.day.isoformat(), moment.name, tuple(str(c) for c in moment.categories))
        for moment in retail_calendar.upcoming(start, days=(end - start).days + 7)
    ]
    return PlanContext(
        store_name=store.name,
        store_state=store.state,
        timezone=store.timezone,
        start=start,
        end=end,
        goal=goal,
        campaign_type=campaign_type,
        channels=tuple(Channel(c).value for c in channels),
        audiences=audiences,
        excluded_segment_ids=excluded,
        budget_cents=budget_cents,
        max_discount_percent=compliance.max_discount_percent(
            policy, store.state, max_discount_percent
        ),
        average_order_cents=_average_order_cents(session, today),
        unit_cost_cents={
            Channel.EMAIL.value: settings.email_cost_cents,
            Channel.SMS.value: settings.sms_cost_cents,
        },
        policy=policy,
        moments=tuple(moments),
        past_results=tuple(_past_results(session)),
        as_of=today,
        templates=tuple(
            TemplateChoice(t.id, t.name, t.channel, t.campaign_type)
            for t in session.scalars(
                select(Template)
                .where(Template.channel.in_(channels))
                .order_by(Template.updated_at.desc(), Template.id.desc())
            )
        ),
    )


def _audience(
    session: Session, segment_id: int, excluded: tuple[int, ...], today: date
) -> Audience:
    segment = get_segment(session=session, segment_id=segment_id)
    members = select(SegmentMember.customer_id).where(SegmentMember.segment_id == segment_id)
    in_segment = Customer.id.in_(members)

    def shares(column: Any) -> dict[str, float]:
        rows = session.execute(
            select(column, func.count()).where(in_segment).group_by(column)
        ).all()
        total = sum(n for _, n in rows) or 1
        ranked = sorted(
            ((str(k), n / total) for k, n in rows if k is not None), key=lambda r: -r[1]
        )
        return {key: round(share, 2) for key, share in ranked[:4]}

    value = session.scalar(select(func.avg(Customer.predicted_clv_cents)).where(in_segment))
    playbook = playbooks.for_segment_name(segment.name)
    return Audience(
        segment_id=segment.id,
        name=segment.name,
        description=segment.description,
        members=segment.member_count,
        reach=reach_by_channel(
            session=session, segment_id=segment.id, excluded=excluded, today=today
        ),
        mix={
            "churn_risk": shares(Customer.churn_risk),
            "rfm": shares(Customer.rfm_segment),
            "favourite_category": shares(Customer.preferred_category),
            "average_predicted_value": round((value or 0) / 100),
        },
        playbook=playbook.key if playbook else None,
    )


def _average_order_cents(session: Session, today: date) -> int:
    since = datetime.combine(today - timedelta(days=90), time.min, UTC)
    average = session.scalar(select(func.avg(Order.total_cents)).where(Order.ordered_at >= since))
    return round(average or 5000)


def _past_results(session: Session) -> list[dict[str, Any]]:
    finished = session.scalars(
        select(Campaign)
        .where(Campaign.status.in_([CampaignStatus.COMPLETED, CampaignStatus.ARCHIVED]))
        .where(Campaign.started_at.is_not(None))
        .order_by(Campaign.started_at.desc())
        .limit(PAST_CAMPAIGNS)
    )
    return [
        {
            "name": c.name,
            "type": c.type,
            "started": c.started_at.date().isoformat() if c.started_at else None,
            "sends": len(c.steps),
            "channels": c.channels,
        }
        for c in finished
    ]


# --- the heuristic planner -----------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    offer_kind: OfferKind
    offer_value: float
    category: str | None
    description: str
    weekday: int | None
    send_time: str
    angle: str


def heuristic_plan(context: PlanContext) -> Plan:
    """A sensible plan from the audiences' make-up, their playbooks, the goal and the calendar:
    each segment's main send on its best day, then a follow-up two days later on each other
    channel the campaign uses (or as near as the dates allow). Most valuable first; the store's
    own template of the campaign's type for each channel when it has one."""
    sends: list[PlannedSend] = []
    reasons: list[str] = []
    audiences = sorted(
        context.audiences,
        key=lambda a: -(a.mix.get("average_predicted_value", 0) * max(a.reach.values(), default=0)),
    )
    goal_category = _category_in(context.goal)
    for audience in audiences:
        recipe = _recipe(audience, context, goal_category)
        day, occasion = _best_day(audience, recipe, context)
        channels = [Channel(c) for c in context.channels if audience.reach.get(c, 0)]
        if not channels:
            continue
        first, *others = channels
        angle = f"{recipe.angle} {occasion}".strip()
        sends.append(_send(audience, recipe, day, recipe.send_time, first, angle, context))
        reasons.append(f"“{audience.name}”: {recipe.description} on {day:%A} ({first}).")
        for channel in others:
            other_day = _second_day(day, context)
            if other_day is None:
                continue
            angle = (
                f"Last chance: {recipe.description.lower()} ends soon."
                if other_day > day
                else f"Coming up: {recipe.description.lower()}."
            )
            at = "16:00" if channel == Channel.SMS else recipe.send_time
            sends.append(_send(audience, recipe, other_day, at, channel, angle, context))
    if not sends:
        raise ValidationError("Nobody in these segments can be reached on the chosen channels.")
    summary = "Built-in planner. " + " ".join(reasons)
    if context.goal:
        summary += (
            f" Goal “{context.goal[:120]}”: offers on {goal_category} where a segment's "
            "playbook names no category."
            if goal_category
            else f" Goal “{context.goal[:120]}”: read for a category, none named, so each "
            "segment's favourite is offered."
        )
    unused = [c for c in context.channels if c not in {s.channel.value for s in sends}]
    if unused:
        summary += f" No {', '.join(unused)} send: nobody in these segments can get one."
    return Plan(summary=summary[:1000], sends=sends[:MAX_SENDS])


CATEGORY_WORDS = {
    "wine": "wine",
    "wines": "wine",
    "red": "wine",
    "rosé": "wine",
    "champagne": "wine",
    "bubbly": "wine",
    "beer": "beer",
    "beers": "beer",
    "ipa": "beer",
    "craft": "beer",
    "cider": "beer",
    "spirits": "spirits",
    "whiskey": "spirits",
    "whisky": "spirits",
    "bourbon": "spirits",
    "tequila": "spirits",
    "gin": "spirits",
    "vodka": "spirits",
    "rum": "spirits",
    "mixers": "mixers",
    "cocktail": "mixers",
}


def _category_in(goal: str) -> str | None:
    """The product category a goal names ("move more bourbon" → spirits), if any."""
    words = "".join(ch if ch.isalpha() or ch == "é" else " " for ch in goal.lower()).split()
    return next((CATEGORY_WORDS[w] for w in words if w in CATEGORY_WORDS), None)


def _second_day(day: date, context: PlanContext) -> date | None:
    """For a send on another channel: a reminder up to two days after the main send, or, when
    the campaign ends first, a teaser the day before it (None for a one-day campaign)."""
    if day < context.end:
        return min(day + timedelta(days=2), context.end)
    return day - timedelta(days=1) if day > context.start else None


def _recipe(audience: Audience, context: PlanContext, goal_category: str | None) -> Recipe:
    """The offer, day and angle for a segment: its playbook's, else by its make-up. The
    category is the playbook's, else the one the goal names, else the segment's favourite."""
    cap = context.max_discount_percent
    favourite = goal_category or next(iter(audience.mix.get("favourite_category", {})), None)
    playbook = playbooks.BY_KEY.get(audience.playbook or "")
    if playbook is not None:
        kind = OfferKind(playbook.offer.kind)
        value = (
            min(playbook.offer.value, cap)
            if kind == OfferKind.PERCENT_OFF
            else playbook.offer.value
        )
        return Recipe(
            kind,
            value,
            playbook.category or favourite,
            playbook.offer.description,
            playbook.weekday,
            playbook.send_time,
            playbook.why,
        )
    churn = audience.mix.get("churn_risk", {})
    rfm = audience.mix.get("rfm", {})
    if churn.get("high", 0) + churn.get("medium", 0) / 2 >= 0.4:
        value = min(20, cap)
        return Recipe(
            OfferKind.PERCENT_OFF,
            value,
            favourite,
            f"{value:g}% off their favourite",
            1,
            "10:30",
            "We miss you: come back to the bottles you love.",
        )
    if rfm.get("Champions", 0) + rfm.get("Loyal", 0) >= 0.5:
        return Recipe(
            OfferKind.EARLY_ACCESS,
            0,
            favourite,
            "first pick of new arrivals",
            3,
            "17:00",
            "Thank you for being a regular: first look before anyone else.",
        )
    if rfm.get("New", 0) + rfm.get("Promising", 0) >= 0.5:
        return Recipe(
            OfferKind.AMOUNT_OFF,
            min(5, round(context.average_order_cents * cap / 10_000)),
            favourite,
            "$5 off the next visit",
            2,
            "11:00",
            "Glad you found us: here is a reason to come back.",
        )
    value = min(10, cap)
    return Recipe(
        OfferKind.PERCENT_OFF,
        value,
        favourite,
        f"{value:g}% off for the weekend",
        3,
        "16:00",
        "Plan the weekend: a deal on what you like.",
    )


def _best_day(audience: Audience, recipe: Recipe, context: PlanContext) -> tuple[date, str]:
    """The day before a matching retail moment in range, else the recipe's weekday, else the
    first day. Returns the day and the occasion to mention."""
    days = context.days()
    playbook = playbooks.BY_KEY.get(audience.playbook or "")
    wanted = set(playbook.moments) if playbook else set()
    for day_text, name, categories in context.moments:
        moment = date.fromisoformat(day_text)
        if name in wanted or (recipe.category and recipe.category in categories):
            lead = moment - timedelta(days=2)
            if context.start <= lead <= context.end:
                return lead, f"Ahead of {name}."
    if recipe.weekday is not None:
        for day in days:
            if day.weekday() == recipe.weekday:
                return day, ""
    return days[0], ""


def _send(
    audience: Audience,
    recipe: Recipe,
    day: date,
    local_time: str,
    channel: Channel,
    angle: str,
    context: PlanContext,
) -> PlannedSend:
    return PlannedSend(
        day=day,
        local_time=local_time,
        segment_id=audience.segment_id,
        channel=channel,
        offer_kind=recipe.offer_kind,
        offer_value=recipe.offer_value,
        offer_category=recipe.category,
        offer_description=recipe.description,
        angle=angle,
        template_id=context.template_for(channel.value),
    )


# --- the AI planner ------------------------------------------------------------------------


SYSTEM_PROMPT = """You plan a week of marketing for an independent liquor store.
Return only JSON that matches the schema. Rules you must follow:
- Plan sends only for the segments given, by their segment_id, on the days given.
- Adults only: every customer is 21 or older; never mention or target students, minors or
  excessive drinking, and make no health claims.
- Texts (sms) go out between {sms_start} and {sms_end}, emails between {email_start} and
  {email_end}, in the recipient's local time.
- At most {cap} messages per customer in the week, across all sends (at most {email_cap}
  emails and {sms_cap} texts).
- Percentage discounts at most {max_discount}%. Dollar offers at most {max_dollars} dollars.
- Stay within the budget when one is given (each email costs {email_cost} cents, each text
  {sms_cost} cents, times the segment's reach on that channel).
- Use the liquor calendar: time sends a day or two before the moments that sell what a segment
  likes. Prefer the favourite category of the segment for offers.
- Use every channel given when its segments can be reached on it, and spread the sends over the
  days. Pick each send's template_id from the templates given for its channel (one made for the
  campaign's type first), or null for the default.
In "summary" explain the plan in two or three sentences for the store's marketer."""


def request_messages(context: PlanContext) -> list[dict[str, str]]:
    """The chat messages for a context: the rules, then the facts as JSON."""
    policy = context.policy
    sms = compliance.strictest_sms_window(policy)
    system = SYSTEM_PROMPT.format(
        sms_start=f"{sms.start:%H:%M}",
        sms_end=f"{sms.end:%H:%M}",
        email_start=f"{policy.email_hours.start:%H:%M}",
        email_end=f"{policy.email_hours.end:%H:%M}",
        cap=policy.frequency_cap_per_week,
        email_cap=policy.cap_for(Channel.EMAIL),
        sms_cap=policy.cap_for(Channel.SMS),
        max_discount=context.max_discount_percent,
        max_dollars=round(context.average_order_cents * context.max_discount_percent / 10_000),
        email_cost=context.unit_cost_cents[Channel.EMAIL.value],
        sms_cost=context.unit_cost_cents[Channel.SMS.value],
    )
    facts = {
        "store": {"name": context.store_name, "state": context.store_state},
        "goal": context.goal or f"A {context.campaign_type.replace('_', ' ')} campaign",
        "days": [f"{day.isoformat()} ({day:%A})" for day in context.days()],
        "channels": list(context.channels),
        "budget_dollars": None if context.budget_cents is None else context.budget_cents / 100,
        "average_order_dollars": round(context.average_order_cents / 100, 2),
        "segments": [
            {
                "segment_id": a.segment_id,
                "name": a.name,
                "about": a.description,
                "members": a.members,
                "reach": a.reach,
                "mix": a.mix,
            }
            for a in context.audiences
        ],
        "liquor_calendar": [
            {"day": day, "moment": name, "sells": list(categories)}
            for day, name, categories in context.moments
        ],
        "past_campaigns": list(context.past_results),
        "templates": [
            {
                "template_id": t.template_id,
                "name": t.name,
                "channel": t.channel,
                "campaign_type": t.campaign_type,
            }
            for t in context.templates
        ],
    }
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": json.dumps(facts, default=str)},
    ]


def cache_key(model: str, messages: list[dict[str, str]]) -> str:
    payload = json.dumps({"model": model, "messages": messages}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class PlannerUnavailable(Exception):
    """The AI could not give a usable plan; the message says why, for the fallback's note."""


def ai_plan(context: PlanContext, settings: Settings) -> tuple[Plan, dict[str, Any]]:
    """Ask the model. Returns the plan and what it cost; raises PlannerUnavailable."""
    import openai  # half a second to import: only where a plan is asked for

    client = openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_seconds,
        max_retries=settings.openai_max_retries,
    )
    messages = request_messages(context)
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    problem = ""
    for _attempt in range(INVALID_ANSWER_ATTEMPTS):
        try:
            response = client.chat.completions.create(  # type: ignore[call-overload]
                model=settings.openai_model,
                messages=messages,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "plan", "schema": Plan.model_json_schema()},
                },
                temperature=0.4,
            )
        except openai.APITimeoutError as exc:
            raise PlannerUnavailable(
                f"the AI did not answer within {settings.openai_timeout_seconds:g} s"
            ) from exc
        except openai.APIError as exc:
            raise PlannerUnavailable(f"the AI service failed ({_describe_error(exc)})") from exc
        if response.usage:
            usage["prompt_tokens"] += response.usage.prompt_tokens
            usage["completion_tokens"] += response.usage.completion_tokens
        content = (response.choices[0].message.content or "") if response.choices else ""
        try:
            return Plan.model_validate_json(content), _costed(usage, settings)
        except PydanticValidationError as exc:
            problem = _first_problem(exc)
            log.warning("planner answer rejected", extra={"problem": problem})
    raise PlannerUnavailable(f"the AI's answer was not a valid plan ({problem})")


def _describe_error(exc: APIError) -> str:
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}" if status else type(exc).__name__


def _first_problem(exc: PydanticValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def _costed(usage: dict[str, int], settings: Settings) -> dict[str, Any]:
    cost = (
        usage["prompt_tokens"] * settings.openai_input_price_per_million
        + usage["completion_tokens"] * settings.openai_output_price_per_million
    ) / 1_000_000
    return {**usage, "cost_usd": round(cost, 6), "model": settings.openai_model}


# --- putting it together -------------------------------------------------------------------


def make_plan(
    *, unit_of_work: UnitOfWork, context: PlanContext, use_ai: bool = True
) -> PlanOutcome:
    """The best plan available: the AI's when configured and usable, else the heuristic's.

    Each database step is a short transaction of its own and none is open while the model
    thinks, so on SQLite a slow answer holds up no writer (a send, a webhook, a cancel)."""
    settings = get_settings()
    if not use_ai or settings.openai_api_key is None:
        why = "as asked" if not use_ai else "no AI key is configured"
        return _fallback(unit_of_work, context, f"Planned by the built-in planner: {why}.")
    key = cache_key(settings.openai_model, request_messages(context))
    with unit_of_work(read_only=True) as session:
        cached = session.get(PlanCache, key)
        answer = (Plan.model_validate(cached.plan), dict(cached.meta)) if cached else None
    if answer is not None:
        plan, meta = answer[0], {**answer[1], "cached": True}
    else:
        try:
            plan, meta = ai_plan(context, settings)
        except PlannerUnavailable as exc:
            return _fallback(unit_of_work, context, f"Planned by the built-in planner: {exc}.")
        with unit_of_work() as session:
            session.merge(PlanCache(key=key, plan=plan.model_dump(mode="json"), meta=meta))
        meta = {**meta, "cached": False}
    try:
        with unit_of_work(read_only=True) as session:
            checked = check_plan(session=session, plan=plan, context=context)
    except ValidationError as exc:
        return _fallback(
            unit_of_work,
            context,
            f"Planned by the built-in planner: the AI's plan broke the rules ({exc}).",
        )
    note = f"Planned by {settings.openai_model}" + (" (from the cache)." if meta["cached"] else ".")
    return PlanOutcome(
        checked.plan, PlanSource.AI, note, checked.repairs, {**meta, "cache_key": key}
    )


def _fallback(unit_of_work: UnitOfWork, context: PlanContext, note: str) -> PlanOutcome:
    with unit_of_work(read_only=True) as session:
        checked: CheckedPlan = check_plan(
            session=session, plan=heuristic_plan(context), context=context
        )
    return PlanOutcome(checked.plan, PlanSource.HEURISTIC, note, checked.repairs, {})


def segment_choices(*, session: Session) -> list[Segment]:
    """Segments worth planning for: those with members, biggest first."""
    return list(
        session.scalars(
            select(Segment).where(Segment.member_count > 0).order_by(Segment.member_count.desc())
        )
    )
