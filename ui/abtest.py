"""A/B tests on screen: set one up on a draft's send (the builder's strategy step), and follow
each test's variants side by side with their verdict (the campaign's A/B tests tab)."""

from __future__ import annotations

from datetime import datetime, time

import pandas as pd
import streamlit as st

from core import abtests
from core.campaigns.plans import describe_offer
from core.db import session_scope, utc_now
from core.errors import DomainError
from core.infra.money import format_cents
from core.messaging import templates
from core.models import ABTest, ABVariant, Campaign, CampaignStep, Channel, Metric, TestStatus
from core.permissions import Actor
from jobs import flows
from ui.calls import ask_before, attempt_flow, change, confirmed
from ui.flash import flash
from ui.formatting import md

METRIC_LABELS = {
    Metric.CLICK_RATE: "Click rate",
    Metric.CONVERSION_RATE: "Conversion rate (bought within the click window)",
    Metric.REVENUE_PER_RECIPIENT: "Revenue per recipient",
}
SHARES = [10, 20, 30, 50, 100]
AS_A = "As A"


def step_label(step: CampaignStep) -> str:
    return f"Send {step.position} · {step.day:%a %b %d} {step.local_time} · {step.channel}"


# --- setting a test up ---------------------------------------------------------------------


def test_editor(actor: Actor, campaign: Campaign) -> None:
    """Pick a send, say what B (and C) change, see what the test needs, save it."""
    st.markdown("**A/B test a send**")
    st.caption(
        "Variant A is the send as planned; B (and C) change its subject, template, offer, send "
        "time or channel. Each customer gets the variant a hash of the test and their id draws, "
        "the same on every retry. The control group stays apart."
    )
    steps = {step_label(s): s for s in campaign.steps}
    picked = st.selectbox("Send to test", list(steps), key=f"abtest_step_{campaign.id}")
    if picked is None:
        return
    step = steps[picked]
    with session_scope(read_only=True) as session:
        saved = abtests.test_of_step(session=session, step_id=step.id)
        current = abtests.spec_of(saved) if saved else abtests.TestSpec()
        usable = [
            t for t in templates.list_templates(session=session) if t.channel in campaign.channels
        ]
    key = f"abtest_{step.id}"
    metric = st.selectbox(
        "Judge it by",
        list(METRIC_LABELS),
        index=list(METRIC_LABELS).index(current.metric),
        format_func=METRIC_LABELS.get,
        key=f"{key}_metric",
    )
    count = st.radio(
        "Variants",
        [2, 3],
        index=len(current.variants) - 2 if len(current.variants) <= 3 else 0,
        horizontal=True,
        format_func=lambda n: "A and B" if n == 2 else "A, B and C",
        key=f"{key}_count",
    )
    columns = st.columns(count)
    variants = [_variant_a(columns[0], step, key, current)]
    for position in range(1, count):
        before = current.variants[position] if position < len(current.variants) else None
        variants.append(_variant_form(columns[position], campaign, step, usable, position, before))
    left, middle, right, last = st.columns(4)
    share = left.select_slider(
        "Test on",
        SHARES,
        value=current.test_percent if current.test_percent in SHARES else 100,
        format_func=lambda p: f"{p} %",
        key=f"{key}_share",
        help="Under 100 %: the winner is sent to the rest of the audience once it is known.",
    )
    effect = middle.number_input(
        "Smallest change worth finding (pts)",
        min_value=0.1,
        max_value=50.0,
        value=round(current.min_effect * 100, 1),
        step=0.5,
        key=f"{key}_effect",
        help="Of the rate judged (click or conversion rate; conversion for revenue).",
    )
    confidence = right.select_slider(
        "Confidence",
        [0.9, 0.95, 0.99],
        value=current.confidence if current.confidence in (0.9, 0.95, 0.99) else 0.95,
        format_func=lambda c: f"{c:.0%}",
        key=f"{key}_confidence",
    )
    wait = last.number_input(
        "Judge after (hours)",
        min_value=1,
        max_value=24 * 14,
        value=current.wait_hours,
        key=f"{key}_wait",
        help="After the last test message, time for clicks and purchases to come in.",
    )
    with session_scope(read_only=True) as session:
        baseline, basis = abtests.baseline_from_history(
            session=session, metric=metric, channel=step.channel, now=utc_now()
        )
        spec = abtests.TestSpec(
            variants=tuple(variants),
            wait_hours=int(wait),
            metric=metric,
            confidence=confidence,
            baseline_rate=baseline,  # looked up once, for the sizing and the save
            min_effect=effect / 100,
            test_percent=share,
        )
        try:
            sizing = abtests.step_sizing(session=session, step_id=step.id, spec=spec, now=utc_now())
        except DomainError as exc:
            sizing = None
            st.warning(str(exc))
    if sizing is not None:
        show = st.success if sizing.enough else st.warning
        show(f"{sizing.sentence} Baseline: {basis}.")
        if share < 100:
            st.caption(
                f"The test runs on {share} % of the send's audience; the other {100 - share} % "
                "get the winner once it is declared or chosen."
            )
    save, remove = st.columns(2)
    if save.button("Save the test", type="primary", icon=":material/science:", key=f"{key}_save"):
        change(
            lambda s: abtests.save_test(
                session=s, actor=actor, step_id=step.id, spec=spec, now=utc_now()
            ),
            f"A/B test saved on {picked}.",
        )
    if saved is not None and remove.button("Remove the test", key=f"{key}_remove"):
        change(
            lambda s: abtests.remove_test(session=s, actor=actor, step_id=step.id),
            f"The test on {picked} was removed.",
        )
    st.caption(f"Rates start from {baseline:.1%}. Re-planning the campaign removes its tests.")


def _variant_a(
    column: st.delta_generator.DeltaGenerator,
    step: CampaignStep,
    key: str,
    current: abtests.TestSpec,
) -> abtests.VariantSpec:
    column.markdown("**A** · as planned")
    column.caption(
        f"{step.channel} at {step.local_time} · "
        f"{step.offer_description or describe_offer(step.offer_kind, step.offer_value, None)}"
    )
    weight = column.number_input(
        "Weight", 1, 100, current.variants[0].weight, key=f"{key}_weight_0"
    )
    return abtests.VariantSpec(weight=int(weight))


def _variant_form(
    column: st.delta_generator.DeltaGenerator,
    campaign: Campaign,
    step: CampaignStep,
    usable: list[templates.Template],
    position: int,
    before: abtests.VariantSpec | None,
) -> abtests.VariantSpec:
    name = chr(ord("A") + position)
    key = f"abtest_{step.id}_{position}"
    column.markdown(f"**{name}** · what it changes (blank: as A)")
    channels = [AS_A, *campaign.channels]
    channel = column.selectbox(
        "Channel",
        channels,
        index=channels.index(before.channel) if before and before.channel in channels else 0,
        key=f"{key}_channel",
    )
    sends_by = step.channel if channel == AS_A else channel
    subject = ""
    if sends_by == Channel.EMAIL:
        subject = column.text_input(
            "Subject",
            before.subject if before else "",
            key=f"{key}_subject",
            placeholder="e.g. {{ first_name }}, 20% off wine this week",
        )
    names = {f"{t.name}": t.id for t in usable if t.channel == sends_by}
    chosen = [AS_A, *names]
    template_now = next((n for n, i in names.items() if before and i == before.template_id), AS_A)
    template = column.selectbox(
        "Template", chosen, index=chosen.index(template_now), key=f"{key}_template"
    )
    value = column.number_input(
        "Offer value (blank: as A)",
        min_value=0.0,
        max_value=100.0,
        value=before.offer_value if before and before.offer_value is not None else None,
        key=f"{key}_offer",
        help="Percent for % off, dollars for $ off: the kind of offer stays A's.",
    )
    at = column.time_input(
        "Send time (blank: as A)",
        time.fromisoformat(before.local_time) if before and before.local_time else None,
        step=900,
        key=f"{key}_time",
    )
    weight = column.number_input("Weight", 1, 100, before.weight if before else 50, key=f"{key}_w")
    return abtests.VariantSpec(
        weight=int(weight),
        subject=subject,
        template_id=names.get(template),
        channel=None if channel == AS_A else channel,
        local_time=at.strftime("%H:%M") if at else None,
        offer_value=value,
    )


def tests_in_review(campaign: Campaign) -> None:
    """The review step's word on the draft's tests."""
    steps = {s.id: s for s in campaign.steps}
    with session_scope(read_only=True) as session:
        said = [
            (
                test,
                abtests.step_sizing(
                    session=session, step_id=test.step_id, spec=abtests.spec_of(test), now=utc_now()
                ),
            )
            for test in abtests.tests_of_campaign(session=session, campaign_id=campaign.id)
        ]
    for test, sizing in said:
        st.caption(
            f"A/B test on {step_label(steps[test.step_id])}: {len(test.variants)} variants by "
            f"{test.metric.words}, on {test.test_percent} % of its audience. {sizing.sentence}"
        )


# --- following a test ----------------------------------------------------------------------


def tests_tab(actor: Actor, campaign_id: int, can_run: bool) -> None:
    with session_scope(read_only=True) as session:
        tests = abtests.tests_of_campaign(session=session, campaign_id=campaign_id)
        shown = [
            (
                test,
                session.get_one(CampaignStep, test.step_id),
                abtests.test_results(session=session, test=test),
            )
            for test in tests
        ]
        names = {t.id: t.name for t in templates.list_templates(session=session)}
        ended = session.get_one(Campaign, campaign_id).status in abtests.ENDED
    if not shown:
        st.info("No send of this campaign is A/B tested.")
        return
    now = utc_now()
    for test, step, results in shown:
        with st.container(border=True):
            _test_panel(actor, test, step, results, names, now, can_run and not ended)


def _test_panel(
    actor: Actor,
    test: ABTest,
    step: CampaignStep,
    results: abtests.TestResults,
    names: dict[int, str],
    now: datetime,
    can_choose: bool,
) -> None:
    st.markdown(
        f"**{md(step_label(step))}** · judged by {test.metric.words} at {test.confidence:.0%} "
        f"confidence · needs {test.sample_per_variant:,} recipients per variant"
    )
    st.table(_side_by_side(test, results, names))
    decided = test.status in (TestStatus.DECIDED, TestStatus.ROLLED_OUT)
    verdict = test.decision if test.status != TestStatus.RUNNING else results.verdict(now)
    (st.success if decided else st.info)(verdict)
    if test.test_percent < 100:
        rest = 100 - test.test_percent
        if test.status == TestStatus.ROLLED_OUT and test.rolled_out_at:
            st.caption(f"The winner was written to the other {rest} % of the audience.")
        elif test.status == TestStatus.DECIDED:
            st.caption(f"The winner is being written to the other {rest} % of the audience.")
        else:
            st.caption(f"The other {rest} % of the audience get the winner once it is known.")
    open_choice = test.status in (TestStatus.RUNNING, TestStatus.INCONCLUSIVE)
    overrule = test.status == TestStatus.DECIDED and test.test_percent < 100
    if can_choose and (open_choice or overrule):
        _choose(actor, test)


def _side_by_side(
    test: ABTest, results: abtests.TestResults, names: dict[int, str]
) -> pd.DataFrame:
    """The variants as columns, what they sent and how they did as rows; B's figures with
    their difference from A's."""
    control = results.variants[0]

    def rate(found: abtests.VariantResult, metric: Metric) -> str:
        mine, theirs = found.rate(metric), control.rate(metric)
        if mine is None:
            return "—"
        said = f"{mine:.1%}"
        if found.position and theirs is not None:
            said += f" ({(mine - theirs) * 100:+.1f} pts)"
        return said

    def revenue(found: abtests.VariantResult) -> str:
        mine, theirs = found.per_recipient_cents, control.per_recipient_cents
        if mine is None:
            return "—"
        said = format_cents(round(mine))
        if found.position and theirs is not None:
            change = round(mine - theirs)
            said += f" ({'+' if change >= 0 else ''}{format_cents(change)})"
        return said

    best = results.chance_best or [None] * len(results.variants)
    columns = {}
    for variant, found, chance in zip(test.variants, results.variants, best, strict=True):
        title = variant.name + (" · winner" if test.winner == variant.position else "")
        columns[title] = [
            _describe(variant, names),
            f"{found.recipients:,}",
            rate(found, Metric.CLICK_RATE),
            rate(found, Metric.CONVERSION_RATE),
            revenue(found),
            "—" if chance is None else f"{chance:.0%}",
        ]
    rows = [
        "Sends",
        "Sent to",
        "Click rate",
        "Conversion rate",
        "Revenue per recipient",
        "Chance of the best click rate"
        if test.metric == Metric.CLICK_RATE
        else "Chance of the best conversion rate",
    ]
    return pd.DataFrame(columns, index=rows)


def _choose(actor: Actor, test: ABTest) -> None:
    action = f"abtest_choose_{test.id}"
    buttons = st.container(horizontal=True)
    for variant in test.variants:
        if variant.position == test.winner:
            continue
        if buttons.button(
            f"Choose {variant.name} as the winner", key=f"{action}_{variant.position}"
        ):
            ask_before(action, variant.position)
    position = confirmed(
        action,
        lambda p: (
            f"Make {chr(ord('A') + p)} the winner"
            + (
                f" and send it to the other {100 - test.test_percent} % of the audience?"
                if test.test_percent < 100
                else "?"
            )
        ),
        yes="Yes, choose it",
    )
    if position is not None:
        started = attempt_flow(
            lambda: flows.choose_winner(actor=actor, test_id=test.id, position=position)
        )
        if started is not None:
            flash(f"{chr(ord('A') + position)} is the winner.")
            st.rerun()


def _describe(variant: ABVariant, names: dict[int, str]) -> str:
    parts = [
        f"{variant.channel} at {variant.local_time}",
        variant.offer_description
        or describe_offer(variant.offer_kind, variant.offer_value, variant.offer_category),
    ]
    if variant.template_id:
        parts.append(f"template “{names.get(variant.template_id, '?')}”")
    if variant.subject:
        parts.append(f"subject “{variant.subject}”")
    return " · ".join(parts)
