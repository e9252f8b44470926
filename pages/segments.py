"""Segments: the store's segments, ready-made playbooks, suggestions, and tools to compare them,
find natural clusters and build lookalikes."""

import pandas as pd
import streamlit as st

from core import segments
from core.config import get_settings
from core.db import session_scope, utc_now
from core.errors import DomainError
from core.infra.money import format_cents
from core.permissions import Permission
from core.segments import audiences, playbooks
from ui.calls import attempt, change
from ui.charts import venn_figure
from ui.context import store_zone
from ui.flash import show_flash
from ui.formatting import md, when
from ui.guard import require

actor = require(Permission.VIEW)
can_edit = actor.can(Permission.EDIT_DATA)
st.title("Segments")
show_flash()


zone = store_zone()
with session_scope(read_only=True) as session:
    rows = [
        {
            "id": s.id,
            "Segment": s.name,
            "Kind": "Rule" if s.kind == segments.SegmentKind.DYNAMIC else "Hand-picked",
            "Customers": s.member_count,
            "Refreshed": when(s.refreshed_at, zone, with_time=True),
            "About": s.description,
        }
        for s in segments.list_segments(session=session)
    ]
    taken = playbooks.used(session=session)

if can_edit:
    st.page_link(
        "pages/segment.py", label="New segment", icon=":material/add:", query_params={"new": "1"}
    )


def playbook_list() -> None:
    """Ready-made audiences, created with one click."""
    st.caption("Ready-made liquor-store audiences, each with the offer and timing that suit it.")
    for playbook in playbooks.PLAYBOOKS:
        with st.container(border=True):
            left, right = st.columns([4, 1])
            left.markdown(f"**{playbook.name}** — {playbook.why}")
            left.caption(
                f"Offer: {playbook.offer.description} · When: {playbook.timing} · "
                f"Channels: {', '.join(playbook.channels)}"
            )
            if playbook.key in taken:
                right.markdown(":green-badge[In use]")
            elif can_edit and right.button("Create", key=f"playbook_{playbook.key}"):
                change(
                    lambda s, key=playbook.key: (
                        playbooks.create_from_playbook(
                            session=s, actor=actor, key=key, now=utc_now()
                        ).member_count
                    ),
                    lambda result, name=playbook.name: (
                        f"Created “{name}” with {result:,} customers."
                    ),
                )


def your_segments() -> None:
    """The store's segments, one click from each."""
    if not rows:
        st.info("No segments yet. Start from a playbook below, or build your own.")
        playbook_list()
    else:
        table = pd.DataFrame(rows)
        picked = st.dataframe(
            table.drop(columns="id"),
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode=["single-row", "single-cell"],
            key="segment_table",
            column_config={
                "Segment": st.column_config.TextColumn(help="Click a name to open the segment"),
                "About": st.column_config.TextColumn(width="large"),
            },
        )
        for row, column in picked.selection.cells:
            if column == "Segment":
                opened = str(table.iloc[row]["id"])
                st.switch_page("pages/segment.py", query_params={"id": opened})
        if picked.selection.rows:
            chosen = table.iloc[picked.selection.rows[0]]
            if chosen["About"]:
                st.caption(md(chosen["About"]))
            st.page_link(
                "pages/segment.py",
                label=f"Open “{chosen['Segment']}”",
                icon=":material/open_in_new:",
                query_params={"id": str(chosen["id"])},
            )
        if can_edit and st.button("Refresh all rule-based segments", icon=":material/refresh:"):
            change(
                lambda s: len(segments.refresh_all(session=s, actor=actor, now=utc_now())),
                lambda result: f"Refreshed {result} segments.",
            )


def audience_tools() -> None:
    """Suggestions, natural clusters, overlaps and lookalikes."""
    st.markdown("#### Suggested audiences")
    stamp = repr([(r["id"], r["Customers"], r["Refreshed"]) for r in rows])
    ideas, clustering = audience_analysis(get_settings().database_url, stamp)
    if not ideas:
        st.caption("Nothing new to suggest: score customers first, or you use every playbook.")
    for idea in ideas:
        left, right = st.columns([4, 1])
        value = format_cents(idea.predicted_value_cents, whole=True)
        left.markdown(
            f"**{idea.title}** · {idea.customers:,} customers · {value} predicted next year"
            f"  \n{idea.why}"
        )
        if can_edit and right.button("Create", key=f"idea_{idea.kind}_{idea.key}"):
            if idea.kind == "playbook":
                change(
                    lambda s, key=idea.key: (
                        playbooks.create_from_playbook(
                            session=s, actor=actor, key=key, now=utc_now()
                        ).name
                    ),
                    lambda result: f"Created “{result}”.",
                )
            else:
                change(
                    lambda s, name=idea.key: (
                        audiences.save_cluster(
                            session=s, actor=actor, name=name, now=utc_now()
                        ).name
                    ),
                    lambda result: f"Created “{result}”.",
                )

    st.markdown("#### Natural clusters")
    if isinstance(clustering, str):
        st.caption(clustering)
    else:
        st.caption(
            f"Customers fall into {clustering.k} natural groups by how recently, how often and "
            f"how much they buy (k-means; the groups separate {clustering.silhouette:.2f} on a "
            "scale where 1 is perfectly apart). The same data gives the same groups."
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Cluster": c.name,
                        "Customers": c.customers,
                        "Avg orders": round(c.orders, 1),
                        "Days since last order": round(c.recency_days),
                        "Avg spent": format_cents(c.spent_cents, whole=True),
                        "Predicted value": format_cents(c.predicted_value_cents, whole=True),
                    }
                    for c in clustering.clusters
                ]
            ),
            hide_index=True,
            width="stretch",
        )

    st.markdown("#### Compare segments")
    options = {row["id"]: row["Segment"] for row in rows}
    compared = st.multiselect(
        "Two or three segments", list(options), format_func=options.get, max_selections=3
    )
    if len(compared) >= 2:
        with session_scope(read_only=True) as session:
            result = segments.overlap(session=session, segment_ids=compared)
        st.plotly_chart(venn_figure(result), width="stretch")

    st.markdown("#### Lookalike audience")
    if options:
        seed = st.selectbox("Customers like the members of", list(options), format_func=options.get)
        size = st.number_input("How many (0 = as many as stay 80% alike)", 0, 100_000, 0, 50)
        if st.button("Find lookalikes") and (
            looked := attempt(
                lambda s: audiences.lookalike(
                    session=s, seed_segment_id=seed, size=size or None, now=utc_now()
                ),
                read_only=True,
            )
        ):
            found = looked.value
            st.success(
                f"{len(found.customer_ids):,} customers, {found.similarity:.0%} as seed-like as "
                f"“{found.seed_name}” ({found.seed_size:,}) itself. Up to "
                f"{found.size_at_target:,} stay 80% alike."
            )
            st.session_state["lookalike"] = (seed, size or None)
        if can_edit and st.session_state.get("lookalike") and st.button("Save as a segment"):
            seed_id, wanted = st.session_state.pop("lookalike")
            change(
                lambda s: (
                    audiences.save_lookalike(
                        session=s,
                        actor=actor,
                        seed_segment_id=seed_id,
                        size=wanted,
                        now=utc_now(),
                    ).name
                ),
                lambda result: f"Created “{result}”.",
            )


# Only the open tab runs: clusters and suggestions are the slow part, and wait to be asked for.
mine, ready, advanced = st.tabs(
    ["Your segments", "Playbooks", "Clusters, lookalikes, overlap"],
    key="segments_tab",
    on_change="rerun",
)


@st.cache_data(ttl=600, show_spinner="Looking for audiences…")
def audience_analysis(
    database_url: str, stamp: str
) -> tuple[list[audiences.Suggestion], audiences.Clustering | str]:
    """Suggestions and clusters (k-means over every buying customer), computed again only when
    the segments change — and they change with every rescoring — or after ten minutes."""
    with session_scope(read_only=True) as session:
        try:
            clustering = audiences.rfm_clusters(session=session, now=utc_now())
        except DomainError as exc:
            return audiences.suggestions(session=session, now=utc_now()), str(exc)
        return audiences.suggestions(
            session=session, clustering=clustering, now=utc_now()
        ), clustering


if mine.open:
    with mine:
        your_segments()
if ready.open:
    with ready:
        playbook_list()
if advanced.open:
    with advanced:
        audience_tools()
