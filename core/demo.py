"""A seeded demo liquor store: customers, products and a year of orders that look like a real shop.

Everything is drawn from one seeded generator, so the same seed and day give the same store. The
shape follows how liquor retail behaves: Friday/Saturday peaks, a dry January, Super Bowl beer,
Thanksgiving wine, a December rush, and a customer base of loyal regulars, monthly shoppers,
occasional buyers, lapsed regulars and one-time visitors.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import exists, func, insert, literal, select
from sqlalchemy.orm import Session

from core import demo_history, maintenance
from core.campaigns.retail_calendar import demand_by_day, retail_moments
from core.config import DATA_DIR
from core.customers.totals import refresh_customer_totals
from core.db import UnitOfWork, table_of
from core.infra import audit, bulk, events
from core.infra.job_rows import Progress, no_progress, scaled
from core.messaging import simulation
from core.messaging.template_defaults import install_default_templates
from core.models import (
    Category,
    Channel,
    ConsentRecord,
    Customer,
    Order,
    OrderItem,
    Product,
    Setting,
)
from core.permissions import SYSTEM, Actor, Permission, authorize
from core.segments import playbooks
from core.store_profile import fill_in_profile, get_store_profile

log = logging.getLogger(__name__)

DEMO_SOURCE = "demo"
DEFAULT_SEED = 42
HISTORY_DAYS = 365
PRODUCTS_CSV = DATA_DIR / "demo_products.csv"
DEMO_MARKER = "demo_store"
"""Settings row written when the demo finished loading."""
DEMO_STORE_PROFILE = {
    "address": "1200 W Fulton Market",
    "city": "Chicago",
    "state": "IL",
    "zip": "60607",
    "phone": "(312) 555-0100",
    "email": "hello@example.com",
}
"""Where the demo store is: every marketing email shows it (CAN-SPAM). example.com, so nothing
the demo sends through a real provider can reach anyone."""
ORDER_CHUNK = 5000
"""Orders per transaction: small enough that a SQLite reader never waits long."""

"""Called with (percent done, what is happening)."""


@dataclass(frozen=True)
class Region:
    city: str
    state: str
    zips: tuple[str, ...]
    timezone: str
    area_codes: tuple[str, ...]
    share: float
    local: bool
    """Local shoppers come to the store; the others order online for delivery."""


CHICAGO, NEW_YORK, DENVER, PACIFIC = (
    "America/Chicago",
    "America/New_York",
    "America/Denver",
    "America/Los_Angeles",
)
REGIONS = (
    Region(
        "Chicago",
        "IL",
        ("60601", "60607", "60610", "60614", "60618", "60622", "60657"),
        CHICAGO,
        ("312", "773", "872"),
        0.70,
        True,
    ),
    Region("Evanston", "IL", ("60201", "60202"), CHICAGO, ("847", "224"), 0.10, True),
    Region(
        "New York",
        "NY",
        ("10001", "10011", "10014", "10024"),
        NEW_YORK,
        ("212", "646", "917"),
        0.06,
        False,
    ),
    Region("Miami", "FL", ("33130", "33131", "33139"), NEW_YORK, ("305", "786"), 0.05, False),
    Region("Denver", "CO", ("80202", "80205", "80218"), DENVER, ("303", "720"), 0.04, False),
    Region("Los Angeles", "CA", ("90012", "90026", "90046"), PACIFIC, ("213", "323"), 0.03, False),
    Region("Seattle", "WA", ("98101", "98103", "98122"), PACIFIC, ("206",), 0.02, False),
)


@dataclass(frozen=True)
class Persona:
    """A kind of shopper: orders a year, and how many of them there are."""

    name: str
    share: float
    orders_per_year: float


PERSONAS = (
    Persona("loyal", 0.14, 28.0),
    Persona("regular", 0.24, 11.0),
    Persona("occasional", 0.26, 4.8),
    Persona("lapsed", 0.18, 7.0),
    Persona("one_time", 0.12, 1.0),
    Persona("new", 0.06, 8.0),
)

CATEGORY_TASTES = {
    # Dirichlet concentration over (wine, beer, spirits, mixers, accessories) per taste profile.
    "wine lover": (8.0, 1.0, 1.5, 0.6, 0.5),
    "beer drinker": (0.8, 8.0, 1.2, 0.5, 0.6),
    "spirits fan": (1.0, 1.2, 7.0, 2.0, 0.4),
    "mixed basket": (3.0, 3.0, 3.0, 1.0, 0.6),
}
TASTE_SHARES = (0.32, 0.30, 0.18, 0.20)
BASKET_CATEGORIES = (
    Category.WINE,
    Category.BEER,
    Category.SPIRITS,
    Category.MIXERS,
    Category.ACCESSORIES,
)
QUANTITY_ODDS: dict[Category, tuple[list[int], list[float]]] = {
    Category.WINE: ([1, 2, 3, 6, 12], [0.55, 0.25, 0.1, 0.07, 0.03]),
    Category.BEER: ([1, 2, 3], [0.6, 0.3, 0.1]),
    Category.SPIRITS: ([1, 2], [0.85, 0.15]),
    Category.MIXERS: ([1, 2, 3], [0.6, 0.3, 0.1]),
    Category.ACCESSORIES: ([1], [1.0]),
}
HOUR_WEIGHTS = {
    10: 2,
    11: 3,
    12: 5,
    13: 5,
    14: 5,
    15: 7,
    16: 10,
    17: 14,
    18: 15,
    19: 12,
    20: 8,
    21: 4,
}
"""When shoppers come in, by local hour (the store is open 10:00–22:00)."""


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    customers: int
    products: int
    orders: int
    order_items: int
    revenue_cents: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def demo_loaded(*, session: Session) -> bool:
    return session.get(Setting, DEMO_MARKER) is not None


def load_demo(
    *,
    unit_of_work: UnitOfWork,
    actor: Actor,
    now: datetime,
    today: date | None = None,
    customers: int,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> DemoSummary:
    """Fill the database with the demo store, once. A second call changes nothing.

    The store is generated in memory, then written in steps, one transaction each, so progress
    can be reported between them and SQLite readers are never held up for long. Every step
    skips rows already present (by SKU or external id), so a load that was interrupted resumes
    where it stopped, without duplicates.

    Args:
        unit_of_work: opens one transaction (`core.db.session_scope`).
        now: when the load happens (rows are stamped with it).
        today: the last day of order history (default: `now`'s day in the store's time zone).
        customers: how many customers to create (about 8 orders each).
        seed: the random seed; the same seed and `today` give the same store.
    """
    authorize(actor, Permission.EDIT_DATA)
    report = progress or no_progress
    with unit_of_work() as session:
        if demo_loaded(session=session):
            return _summary(session, created=False)
        today = today or get_store_profile(session=session).today(now)

    report(2, f"Imagining {customers:,} customers and a year of shopping")
    store = generate(today=today, customers=customers, seed=seed, now=now)
    with unit_of_work() as session:
        _insert_missing(session, Product, store.products, key="sku")
        _insert_missing(session, Customer, store.customers, key="external_id")
        _record_consents(session)
    report(20, f"Writing {len(store.orders):,} orders")
    for start in range(0, len(store.orders), ORDER_CHUNK):
        with unit_of_work() as session:
            _write_orders(session, store, start, start + ORDER_CHUNK)
        done = min(start + ORDER_CHUNK, len(store.orders)) / len(store.orders)
        report(20 + int(70 * done), f"Writing orders ({done:.0%})")

    report(92, "Totalling each customer")
    with unit_of_work() as session:
        # The totals and the summary below read tables this load filled: planned by statistics
        # taken before it, they are planned for tables unlike the ones they read.
        bulk.keep_statistics(session, *(table_of(m) for m in (Customer, Order, OrderItem)))
        demo_customers = select(Customer.id).where(Customer.source == DEMO_SOURCE)
        refresh_customer_totals(session=session, customer_ids=session.scalars(demo_customers))
        summary = _summary(session, created=True)
        session.add(Setting(key=DEMO_MARKER, value={"seed": seed, "today": today.isoformat()}))
        fill_in_profile(session=session, fields=DEMO_STORE_PROFILE)
        install_default_templates(session=session, actor=SYSTEM)
        events.record(
            session=session,
            type="demo_loaded",
            user_id=actor.user_id,
            occurred_at=now,
            data=summary.as_dict(),
        )
        audit.record(
            session=session,
            actor=actor,
            action="demo.load",
            entity_type="store",
            changes=summary.as_dict(),
        )
    report(100, "Demo store ready")
    log.info("demo store loaded", extra={"demo": summary.as_dict()})
    return summary


DEMO_PLAYBOOKS = ("lapsed-wine", "weekend-craft-beer", "win-back", "champions")


def load_demo_store(
    *,
    unit_of_work: UnitOfWork,
    actor: Actor,
    now: datetime,
    customers: int,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The demo data, scored, with a few playbook segments: what a first visit should show."""
    report = progress or no_progress
    summary = load_demo(
        unit_of_work=unit_of_work,
        actor=actor,
        now=now,
        customers=customers,
        seed=seed,
        progress=scaled(report, 0, 80),
    )
    result = summary.as_dict()
    if not summary.created:
        return result
    result["scoring"] = maintenance.rescore(
        unit_of_work=unit_of_work,
        actor=actor,
        now=now,
        progress=scaled(report, 80, 18),
    )
    with unit_of_work() as session:
        taken = playbooks.used(session=session)
        for key in DEMO_PLAYBOOKS:
            if key not in taken:
                playbooks.create_from_playbook(session=session, actor=actor, key=key, now=now)
    with unit_of_work() as session:
        today = get_store_profile(session=session).today(now)
        result["campaign_history_messages"] = demo_history.add_campaign_history(
            session=session, seed=seed, today=today, now=now
        )
        simulation.simulate_engagement(session=session)
    report(100, "Demo store ready")
    return result


def _summary(session: Session, *, created: bool) -> DemoSummary:
    demo_customers = select(Customer.id).where(Customer.source == DEMO_SOURCE)
    demo_orders = select(Order.id).where(Order.customer_id.in_(demo_customers))
    counts = session.execute(
        select(
            select(func.count()).select_from(demo_customers.subquery()).scalar_subquery(),
            select(func.count(Product.id)).scalar_subquery(),
            select(func.count()).select_from(demo_orders.subquery()).scalar_subquery(),
            select(func.count(OrderItem.id))
            .where(OrderItem.order_id.in_(demo_orders))
            .scalar_subquery(),
            select(func.coalesce(func.sum(Order.total_cents), 0))
            .where(Order.id.in_(demo_orders))
            .scalar_subquery(),
        )
    ).one()
    customers, products, orders, items, revenue = (int(value) for value in counts)
    return DemoSummary(created, customers, products, orders, items, revenue)


def _ids_by_key(session: Session, column: Any, keys: list[str]) -> dict[str, int]:
    """Map natural keys (SKU, external id) to row ids, a few thousand keys per query."""
    ids: dict[str, int] = {}
    id_column = column.table.c.id
    for start in range(0, len(keys), 5000):
        found = select(column, id_column).where(column.in_(keys[start : start + 5000]))
        ids |= dict(session.execute(found).all())
    return ids


DEMO_CONSENT = {
    "form": "demo store sign-up at the till",
    "disclosure": "Yes, send me offers from Last Call Liquor. Not a condition of purchase.",
    "version": "demo-1",
}


def _record_consents(session: Session) -> None:
    """A consent record for every demo opt-in, as a real sign-up would leave (once)."""
    c = table_of(Customer).c
    log = table_of(ConsentRecord)
    for channel, address, opted, at in (
        (Channel.EMAIL, c.email, c.email_opt_in, c.email_opt_in_at),
        (Channel.SMS, c.phone, c.sms_opt_in, c.sms_opt_in_at),
    ):
        recorded = exists().where(
            log.c.customer_id == c.id, log.c.channel == channel.value, log.c.granted.is_(True)
        )
        session.execute(
            insert(log).from_select(
                [
                    "customer_id",
                    "channel",
                    "granted",
                    "address",
                    "source",
                    "recorded_at",
                    "details",
                ],
                select(
                    c.id,
                    literal(channel.value),
                    literal(True),
                    address,
                    literal(DEMO_SOURCE),
                    at,
                    literal(DEMO_CONSENT, type_=log.c.details.type),
                ).where(c.source == DEMO_SOURCE, opted.is_(True), ~recorded),
            )
        )


def _insert_missing(session: Session, model: type, rows: list[dict[str, Any]], *, key: str) -> int:
    """Insert the rows whose natural key is not in the table yet (executemany, in chunks)."""
    column = table_of(model).c[key]
    existing = _ids_by_key(session, column, [row[key] for row in rows])
    missing = [row for row in rows if row[key] not in existing]
    for start in range(0, len(missing), 10_000):
        session.execute(insert(table_of(model)), missing[start : start + 10_000])
    return len(missing)


def _write_orders(session: Session, store: DemoStore, start: int, stop: int) -> None:
    orders = store.orders[start:stop]
    customer_ids = _ids_by_key(
        session, Customer.external_id, sorted({o["customer"] for o in orders})
    )
    fresh = [
        {k: v for k, v in order.items() if k != "customer"}
        | {"customer_id": customer_ids[order["customer"]]}
        for order in orders
    ]
    keys = [order["external_id"] for order in orders]
    if _insert_missing(session, Order, fresh, key="external_id") == 0:
        return
    order_ids = _ids_by_key(session, Order.external_id, keys)
    product_ids = _ids_by_key(session, Product.sku, sorted({i["sku"] for i in store.items}))
    first, last = np.searchsorted(store.item_order, [start, stop])
    existing_items = set(
        session.scalars(
            select(OrderItem.order_id).where(OrderItem.order_id.in_(list(order_ids.values())))
        )
    )
    items = [
        item | {"order_id": order_ids[keys[index - start]], "product_id": product_ids[item["sku"]]}
        for index, item in zip(store.item_order[first:last], store.items[first:last], strict=True)
        if order_ids[keys[index - start]] not in existing_items
    ]
    for chunk in range(0, len(items), 20_000):
        session.execute(insert(table_of(OrderItem)), items[chunk : chunk + 20_000])


def _catalog() -> list[dict[str, Any]]:
    with PRODUCTS_CSV.open(newline="") as f:
        return [
            {
                "sku": row["sku"],
                "name": row["name"],
                "category": row["category"],
                "subcategory": row["subcategory"],
                "price_cents": _cents(row["price"]),
                "cost_cents": _cents(row["cost"]),
            }
            for row in csv.DictReader(f)
        ]


def _cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


@dataclass(frozen=True)
class DemoStore:
    """The generated store, rows keyed by natural keys (SKU, external ids) rather than row ids."""

    products: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    """Chronological; `customer` is the customer's external id."""
    items: list[dict[str, Any]]
    item_order: np.ndarray
    """For each item, the index of its order in `orders` (ascending)."""


def generate(*, today: date, customers: int, seed: int, now: datetime) -> DemoStore:
    """Draw the whole store from one seeded generator; touches no database. Rows are stamped
    as written at `now`."""
    rng = np.random.default_rng(seed)
    from faker import Faker  # slow to import, and only the demo needs it

    faker = Faker("en_US")
    faker.seed_instance(seed)
    products = _catalog()
    people = _make_customers(rng, faker, customers, today, now)
    orders, items, item_order = _make_orders(rng, people, products, today, now)
    return DemoStore(products, people.rows, orders, items, item_order)


@dataclass(frozen=True)
class Population:
    """Customer rows plus the hidden traits that drive their orders."""

    rows: list[dict[str, Any]]
    persona: np.ndarray
    preferences: np.ndarray
    """Per customer, the share of each of BASKET_CATEGORIES in their baskets."""
    region: np.ndarray
    tenure_days: np.ndarray


def _make_customers(
    rng: np.random.Generator, faker: Any, n: int, today: date, now: datetime
) -> Population:
    region_idx = rng.choice(len(REGIONS), size=n, p=[r.share for r in REGIONS])
    persona_idx = rng.choice(len(PERSONAS), size=n, p=[p.share for p in PERSONAS])
    taste_idx = rng.choice(len(CATEGORY_TASTES), size=n, p=TASTE_SHARES)
    tastes = np.array(list(CATEGORY_TASTES.values()))
    preferences = np.vstack([rng.dirichlet(tastes[t]) for t in taste_idx])

    # Sign-up day: "new" customers joined in the last two months, the rest over three years.
    tenure_days = np.where(
        [PERSONAS[p].name == "new" for p in persona_idx],
        rng.integers(3, 60, size=n),
        rng.integers(60, 3 * 365, size=n),
    )
    ages = np.clip(21 + rng.gamma(shape=3.2, scale=7.5, size=n), 21.05, 86).astype(float)
    has_email = rng.random(n) < 0.93
    has_phone = rng.random(n) < 0.86
    email_opt_in = has_email & (rng.random(n) < 0.72)
    sms_opt_in = has_phone & (rng.random(n) < 0.41)
    verified = rng.random(n) > 0.025
    moved = rng.random(n) < 0.09  # kept the phone number from where they used to live

    rows: list[dict[str, Any]] = []
    for i in range(n):
        region = REGIONS[region_idx[i]]
        first, last = faker.first_name(), faker.last_name()
        born = today - timedelta(days=int(ages[i] * 365.25))
        joined = datetime.combine(today - timedelta(days=int(tenure_days[i])), time(17), UTC)
        phone_region = REGIONS[rng.integers(len(REGIONS))] if moved[i] else region
        phone = None
        if has_phone[i]:
            area = phone_region.area_codes[rng.integers(len(phone_region.area_codes))]
            phone = f"+1{area}{rng.integers(200, 1000)}{rng.integers(0, 10000):04d}"
        rows.append(
            {
                "external_id": f"DEMO-{i + 1:05d}",
                "first_name": first,
                "last_name": last,
                "email": _demo_email(first, last, i + 1) if has_email[i] else None,
                "phone": phone,
                "birth_date": born,
                "age_verified": bool(verified[i]),
                "address": faker.street_address(),
                "city": region.city,
                "state": region.state,
                "zip": region.zips[rng.integers(len(region.zips))],
                "timezone": region.timezone,
                "email_opt_in": bool(email_opt_in[i]),
                "email_opt_in_at": joined if email_opt_in[i] else None,
                "email_consent_source": DEMO_SOURCE if email_opt_in[i] else None,
                "sms_opt_in": bool(sms_opt_in[i]),
                "sms_opt_in_at": joined if sms_opt_in[i] else None,
                "sms_consent_source": DEMO_SOURCE if sms_opt_in[i] else None,
                "source": DEMO_SOURCE,
                "created_at": joined,
                "updated_at": now,
            }
        )
    return Population(rows, persona_idx, preferences, region_idx, np.asarray(tenure_days))


def _demo_email(first: str, last: str, number: int) -> str:
    """Addresses on example.com (reserved by RFC 2606), so a demo send can never reach a person."""
    local = re.sub(r"[^a-z0-9.]", "", f"{first}.{last}".lower())
    return f"{local}{number}@example.com"


def _make_orders(
    rng: np.random.Generator,
    people: Population,
    products: list[dict[str, Any]],
    today: date,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], np.ndarray]:
    first_day = today - timedelta(days=HISTORY_DAYS - 1)
    demand = demand_by_day(first_day, today)
    days = list(demand)
    cumulative = np.cumsum(list(demand.values()))
    cumulative /= cumulative[-1]
    moment_categories = _moment_categories(first_day, today)

    # Each customer's active window within the last year, as indexes into `days`.
    n = len(people.rows)
    start = np.maximum(0, HISTORY_DAYS - 1 - people.tenure_days)
    end = np.full(n, HISTORY_DAYS - 1)
    persona_names = np.array([PERSONAS[p].name for p in people.persona])
    lapsed = persona_names == "lapsed"
    end[lapsed] = HISTORY_DAYS - 1 - rng.integers(110, 280, size=int(lapsed.sum()))
    start = np.minimum(start, end)
    rate = np.array([PERSONAS[p].orders_per_year for p in people.persona])
    rate *= rng.lognormal(0.0, 0.35, size=n)
    counts = rng.poisson(rate * (end - start + 1) / 365.0)
    counts[persona_names == "one_time"] = 1
    counts = np.maximum(counts, np.where(persona_names == "loyal", 1, 0))

    owner = np.repeat(np.arange(n), counts)
    # Sample days inside each window in proportion to demand: inverse CDF on the window's slice.
    low = np.where(start[owner] > 0, cumulative[start[owner] - 1], 0.0)
    high = cumulative[end[owner]]
    day_idx = np.searchsorted(cumulative, low + rng.random(len(owner)) * (high - low))
    day_idx = np.clip(day_idx, start[owner], end[owner])

    hours = np.array(list(HOUR_WEIGHTS))
    hour_p = np.array(list(HOUR_WEIGHTS.values()), dtype=float)
    order_hours = rng.choice(hours, size=len(owner), p=hour_p / hour_p.sum())
    order_minutes = rng.integers(0, 60, size=len(owner))
    online = ~np.array([REGIONS[r].local for r in people.region])[owner] | (
        rng.random(len(owner)) < 0.12
    )

    # Sort by time so order ids follow the calendar, as a real till's would.
    chrono = np.lexsort((order_minutes, order_hours, day_idx))
    owner, day_idx = owner[chrono], day_idx[chrono]
    order_hours, order_minutes, online = order_hours[chrono], order_minutes[chrono], online[chrono]

    busy_day = np.array([demand[d] > 1.8 for d in days])[day_idx]
    basket = 1 + np.minimum(rng.poisson(np.where(busy_day, 2.0, 1.2)), 6)
    item_order = np.repeat(np.arange(len(owner)), basket)
    item_category = _choose_categories(rng, people.preferences, owner[item_order])
    for day, cats in moment_categories.items():
        on_day = (day_idx[item_order] == days.index(day)) & (rng.random(len(item_order)) < 0.45)
        choices = np.array([BASKET_CATEGORIES.index(c) for c in cats])
        item_category[on_day] = choices[rng.integers(len(choices), size=int(on_day.sum()))]
    item_product = np.empty(len(item_order), dtype=int)
    item_quantity = np.empty(len(item_order), dtype=int)
    for c, category in enumerate(BASKET_CATEGORIES):
        mask = item_category == c
        stocked = [i for i, p in enumerate(products) if p["category"] == category]
        weights = 1.0 / np.arange(1, len(stocked) + 1) ** 0.8  # a few bestsellers, a long tail
        item_product[mask] = rng.choice(stocked, size=int(mask.sum()), p=weights / weights.sum())
        quantities, odds = QUANTITY_ODDS[category]
        item_quantity[mask] = rng.choice(quantities, size=int(mask.sum()), p=odds)

    prices = np.array([p["price_cents"] for p in products])[item_product]
    line_totals = prices * item_quantity
    subtotal = np.bincount(item_order, weights=line_totals, minlength=len(owner)).astype(np.int64)
    wine_bottles = np.bincount(
        item_order, weights=item_quantity * (item_category == 0), minlength=len(owner)
    )
    discount = np.where(wine_bottles >= 6, subtotal // 10, 0)  # the usual mixed-case discount

    zones = [ZoneInfo(r.timezone) for r in REGIONS]
    orders = [
        {
            "external_id": f"DEMO-T{i + 1:07d}",
            "customer": people.rows[owner[i]]["external_id"],
            "ordered_at": _not_after(
                datetime.combine(
                    days[day_idx[i]],
                    time(int(order_hours[i]), int(order_minutes[i])),
                    zones[people.region[owner[i]]],
                ).astimezone(UTC),
                now,
            ),
            "total_cents": int(subtotal[i] - discount[i]),
            "discount_cents": int(discount[i]),
            "channel": "online" if online[i] else "in_store",
            "created_at": now,
        }
        for i in range(len(owner))
    ]
    items = [
        {
            "sku": products[item_product[j]]["sku"],
            "category": products[item_product[j]]["category"],
            "quantity": int(item_quantity[j]),
            "unit_price_cents": int(prices[j]),
            "line_total_cents": int(line_totals[j]),
        }
        for j in range(len(item_order))
    ]
    return orders, items, item_order


def _not_after(moment: datetime, now: datetime) -> datetime:
    """An order drawn for later today took place the day before: the history ends at `now`."""
    return moment - timedelta(days=1) if moment > now else moment


def _choose_categories(
    rng: np.random.Generator, preferences: np.ndarray, customers: np.ndarray
) -> np.ndarray:
    """One basket category per item, drawn from each item's customer's taste (inverse CDF)."""
    cumulative = np.cumsum(preferences, axis=1)[customers]
    draws = rng.random(len(customers))[:, None]
    return np.minimum((draws > cumulative).sum(axis=1), len(BASKET_CATEGORIES) - 1)


def _moment_categories(first: date, last: date) -> dict[date, tuple[Category, ...]]:
    return {
        moment.day: moment.categories
        for year in range(first.year, last.year + 1)
        for moment in retail_moments(year)
        if first <= moment.day <= last and moment.categories
    }
