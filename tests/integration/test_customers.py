import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import customers, segments
from core.compliance.consent import Channel
from core.customers import ChurnRisk, ConsentFilter, CustomerFilter, SortKey
from core.customers.totals import refresh_customer_totals
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.models import AuditEntry, ConsentRecord, Customer, Event, Order, OrderItem
from core.permissions import SYSTEM, Actor, Role
from tests.moments import NOW

VIEWER = Actor(user_id=None, email="v@example.com", role=Role.VIEWER)
ADULT = date(1980, 5, 17)
TODAY = NOW.date()


def add(session: Session, **fields: object) -> Customer:
    return customers.create_customer(session=session, actor=SYSTEM, now=NOW, **fields)


@pytest.mark.both_databases
def test_create_validates_and_normalises(session: Session) -> None:
    ana = add(
        session,
        first_name="Ana",
        last_name="Lopez",
        email="Ana@Example.com",
        phone="(312) 555-0123",
        zip="60622",
        birth_date="1980-05-17",
        email_opt_in=True,
    )
    assert (ana.email, ana.phone, ana.timezone, ana.birth_date) == (
        "ana@example.com",
        "+13125550123",
        "America/Chicago",
        ADULT,
    )
    assert ana.email_opt_in and ana.email_consent_source == "manual"
    with pytest.raises(ValidationError, match="email, a phone number or a customer ID"):
        add(session, first_name="Nobody")
    with pytest.raises(ValidationError) as error:
        add(session, email="x@example.com", birth_date="2999-01-01")
    assert error.value.field == "birth_date"
    with pytest.raises(ValidationError, match="21 or older"):
        add(
            session,
            phone="3125550199",
            birth_date="2015-01-01",
            sms_opt_in=True,
        )
    with pytest.raises(PermissionDenied):
        customers.create_customer(session=session, actor=VIEWER, email="v@example.com", now=NOW)


@pytest.mark.both_databases
def test_get_unknown_and_deleted(session: Session) -> None:
    with pytest.raises(NotFound, match="no customer #999"):
        customers.get_customer(session=session, customer_id=999)
    bob = add(session, email="bob@example.com")
    assert customers.soft_delete(session=session, actor=SYSTEM, customer_ids=[bob.id], now=NOW) == 1
    with pytest.raises(NotFound):
        customers.get_customer(session=session, customer_id=bob.id)
    assert customers.get_customer(session=session, customer_id=bob.id, include_deleted=True)
    customers.restore(session=session, actor=SYSTEM, customer_id=bob.id)
    assert customers.get_customer(session=session, customer_id=bob.id).deleted_at is None


@pytest.mark.both_databases
def test_update_is_audited_and_moves_the_time_zone(session: Session) -> None:
    cy = add(session, email="cy@example.com", zip="60622", email_opt_in=True)
    assert (cy.city, cy.state) == ("Chicago", "IL"), "filled from the ZIP code"
    with pytest.raises(ValidationError, match="not a 5-digit US ZIP code"):
        customers.update_customer(
            session=session, actor=SYSTEM, customer_id=cy.id, zip="1234", now=NOW
        )
    customers.update_customer(
        session=session, actor=SYSTEM, customer_id=cy.id, zip="98101", first_name="Cy", now=NOW
    )
    assert cy.timezone == "America/Los_Angeles"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.update")).one()
    assert entry.changes["zip"] == ["60622", "98101"]
    assert entry.changes["timezone"] == ["America/Chicago", "America/Los_Angeles"]
    customers.update_customer(
        session=session, actor=SYSTEM, customer_id=cy.id, email="new@example.com", now=NOW
    )
    assert not cy.email_opt_in, "consent belongs to the old address"
    other = add(session, external_id="POS-1", email="d@example.com")
    with pytest.raises(Conflict, match="already belongs"):
        customers.update_customer(
            session=session, actor=SYSTEM, customer_id=cy.id, external_id="POS-1", now=NOW
        )
    with pytest.raises(ValidationError, match="cannot be edited"):
        customers.update_customer(
            session=session, actor=SYSTEM, customer_id=other.id, total_spent_cents=1, now=NOW
        )
    with pytest.raises(PermissionDenied):
        customers.update_customer(
            session=session, actor=VIEWER, customer_id=other.id, first_name="X", now=NOW
        )


def grant_sms(session: Session, customer: Customer, now: datetime = NOW) -> ConsentRecord | None:
    return customers.change_consent(
        session=session,
        actor=SYSTEM,
        customer_id=customer.id,
        channel=Channel.SMS,
        granted=True,
        now=now,
    )


def test_sms_consent_counts_21_by_the_stores_day(session: Session) -> None:
    """At 9 p.m. in Chicago (the store's zone) it is already tomorrow in UTC: consent from
    someone whose 21st birthday is tomorrow is refused until the store's day comes."""
    evening = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 2026-12-01 21:00 in Chicago
    eve = add(session, phone="3125550112", birth_date="2005-12-02")
    with pytest.raises(ValidationError, match="21 or older"):
        grant_sms(session, eve, evening)
    assert grant_sms(session, eve, evening + timedelta(hours=4))  # 1 a.m. on the birthday


@pytest.mark.both_databases
def test_consent_needs_an_address_and_proof_of_age(session: Session) -> None:
    dee = add(session, email="dee@example.com")
    with pytest.raises(ValidationError, match="no sms address"):
        grant_sms(session, dee)
    customers.update_customer(
        session=session, actor=SYSTEM, customer_id=dee.id, phone="3125550111", now=NOW
    )
    with pytest.raises(ValidationError, match="date of birth"):
        grant_sms(session, dee)
    customers.update_customer(
        session=session, actor=SYSTEM, customer_id=dee.id, birth_date=ADULT, now=NOW
    )
    record = grant_sms(session, dee)
    assert record.address == "+13125550111" and dee.sms_opt_in
    assert grant_sms(session, dee) is None


def seed(session: Session) -> dict[str, Customer]:
    people = {
        "ana": add(
            session,
            first_name="Ana",
            last_name="Smith",
            email="ana@example.com",
            phone="3125550101",
            zip="60622",
            email_opt_in=True,
        ),
        "anabel": add(
            session, first_name="Anabel", last_name="Jones", email="aj@example.com", zip="60614"
        ),
        "sam": add(
            session,
            first_name="Sam",
            last_name="Anderson",
            email="sam@example.com",
            phone="7735550102",
            zip="10001",
            birth_date=ADULT,
            sms_opt_in=True,
        ),
        "zoe": add(session, first_name="Zoë", last_name="Smithers", email="zoe@example.com"),
    }
    people["ana"].city, people["sam"].city = "Chicago", "New York"
    people["ana"].total_spent_cents, people["sam"].total_spent_cents = 5000, 9000
    people["ana"].churn_risk, people["sam"].churn_risk = "high", "low"
    base = datetime(2026, 11, 1, tzinfo=UTC)
    for offset, key in enumerate(("ana", "anabel", "sam", "zoe")):
        people[key].created_at = base + timedelta(days=offset)
    people["sam"].last_order_at = base
    session.flush()
    return people


def names(page: customers.CustomerPage) -> list[str]:
    return [c.first_name for c in page.customers]


@pytest.mark.both_databases
def test_list_filters_sorts_and_pages(session: Session) -> None:
    people = seed(session)
    listed = customers.list_customers(session=session, today=TODAY)
    assert names(listed) == ["Zoë", "Sam", "Anabel", "Ana"] and listed.total == 4
    # Who marketing may reach comes with the page, by the campaigns' rule.
    assert listed.reach[people["sam"].id] == [Channel.SMS], "21+ and opted in to texts"
    assert listed.reach[people["ana"].id] == [], "opted in, but nothing shows she is 21"
    by_spend = customers.list_customers(session=session, today=TODAY, sort=SortKey.SPENT)
    assert names(by_spend)[:2] == ["Sam", "Ana"]
    by_last = customers.list_customers(session=session, today=TODAY, sort=SortKey.LAST_ORDER)
    assert names(by_last)[0] == "Sam", "customers who never ordered come last"

    def only(**kwargs: object) -> list[str]:
        return sorted(
            names(
                customers.list_customers(
                    session=session, today=TODAY, filters=CustomerFilter(**kwargs)
                )
            )
        )

    assert only(churn_risk=(ChurnRisk.HIGH,)) == ["Ana"]
    assert only(churn_risk=(ChurnRisk.UNSCORED, ChurnRisk.LOW)) == ["Anabel", "Sam", "Zoë"]
    assert only(consent=ConsentFilter.EMAIL) == ["Ana"]
    assert only(consent=ConsentFilter.SMS) == ["Sam"]
    assert only(consent=ConsentFilter.NONE) == ["Anabel", "Zoë"]
    assert only(city="chicago") == ["Ana", "Anabel"]  # Anabel's city comes from her ZIP
    assert only(zip_prefix="606") == ["Ana", "Anabel"]
    segment = segments.create_static_segment(session=session, actor=SYSTEM, name="VIP")
    segments.add_members(
        session=session,
        actor=SYSTEM,
        segment_id=segment.id,
        customer_ids=[people["sam"].id, people["zoe"].id],
        now=NOW,
    )
    assert only(segment_id=segment.id) == ["Sam", "Zoë"]
    customers.soft_delete(session=session, actor=SYSTEM, customer_ids=[people["zoe"].id], now=NOW)
    assert only(segment_id=segment.id) == ["Sam"]
    assert only(deleted=True) == ["Zoë"]

    paged = customers.list_customers(session=session, today=TODAY, page=2, page_size=2)
    assert (paged.page, paged.pages, names(paged)) == (2, 2, ["Ana"])  # Zoë is deleted
    beyond = customers.list_customers(session=session, today=TODAY, page=99, page_size=2)
    assert beyond.page == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ana", ["Ana", "Anabel"]),
        ("an", ["Ana", "Anabel", "Sam"]),  # Sam Anderson
        ("smi", ["Ana", "Zoë"]),
        ("ana smi", ["Ana"]),
        ("sam@example.com", ["Sam"]),
        ("(312) 555-01", ["Ana"]),
        ("7735550102", ["Sam"]),
        ("nobody", []),
    ],
)
@pytest.mark.both_databases
def test_search_finds_names_emails_and_phones(
    session: Session, query: str, expected: list[str]
) -> None:
    seed(session)
    found = customers.list_customers(
        session=session, today=TODAY, filters=CustomerFilter(search=query)
    )
    assert sorted(names(found)) == sorted(expected)


@pytest.mark.both_databases
@pytest.mark.parametrize(
    "query", ["a b c d e f g", "x" * 101, " ".join(["lopez"] * 30)], ids=["words", "chars", "paste"]
)
def test_a_search_longer_than_any_name_is_refused_with_the_reason(
    session: Session, query: str
) -> None:
    """Each word is another index scan: a pasted paragraph kept the database busy for 39 s."""
    seed(session)
    with pytest.raises(ValidationError, match="at most 6 words and 100 characters") as error:
        customers.list_customers(session=session, today=TODAY, filters=CustomerFilter(search=query))
    assert error.value.field == "search"
    found = customers.list_customers(
        session=session, today=TODAY, filters=CustomerFilter(search="a b c d e f")
    )
    assert names(found) == []


@pytest.mark.both_databases
def test_search_ranks_exact_and_last_name_hits_first(session: Session) -> None:
    seed(session)
    found = customers.list_customers(
        session=session, today=TODAY, filters=CustomerFilter(search="and")
    )
    assert names(found) == ["Sam"]
    exact = customers.list_customers(
        session=session, today=TODAY, filters=CustomerFilter(search="ana@example.com")
    )
    assert names(exact) == ["Ana"]
    ranked = customers.list_customers(
        session=session, today=TODAY, filters=CustomerFilter(search="an")
    )
    assert names(ranked)[0] == "Sam", "Anderson: a last name starting with the query ranks first"


@pytest.mark.both_databases
def test_history_timeline_and_duplicates(session: Session) -> None:
    people = seed(session)
    ana = people["ana"]
    for day, cents in ((1, 1000), (5, 2500)):
        order = Order(
            customer_id=ana.id,
            ordered_at=datetime(2026, 11, day, tzinfo=UTC),
            total_cents=cents,
            external_id=f"O{day}",
        )
        order.items = [
            OrderItem(
                sku="W-1",
                category="wine",
                quantity=1,
                unit_price_cents=cents,
                line_total_cents=cents,
            )
        ]
        session.add(order)
    session.add(
        Event(
            type="email_opened",
            customer_id=ana.id,
            occurred_at=datetime(2026, 11, 6, tzinfo=UTC),
            data={"campaign": "Fall"},
        )
    )
    customers.update_customer(
        session=session, actor=SYSTEM, customer_id=ana.id, city="Evanston", now=NOW
    )
    session.flush()
    history = customers.purchase_history(session=session, customer_id=ana.id)
    assert [p.external_id for p in history] == ["O5", "O1"]
    assert history[0].lines[0].sku == "W-1"
    kinds = [entry.kind for entry in customers.timeline(session=session, customer_id=ana.id)]
    assert kinds[:1] == ["edit"] and {"order", "event", "consent", "edit"} <= set(kinds)

    twin = add(session, first_name="Ann", email="ana@example.com")
    assert [c.id for c in customers.possible_duplicates(session=session, customer_id=ana.id)] == [
        twin.id
    ]
    assert ("ana@example.com", [ana.id, twin.id]) in customers.duplicate_groups(session=session)


@pytest.mark.both_databases
def test_big_lists_count_up_to_a_limit(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(customers.search, "COUNT_LIMIT", 3)
    seed(session)
    add(session, email="e@example.com")
    first = customers.list_customers(session=session, today=TODAY, page_size=2)
    assert (first.total, first.exact, first.pages, first.has_next) == (3, False, 2, True)
    last = customers.list_customers(session=session, today=TODAY, page=3, page_size=2)
    assert (len(last.customers), last.has_next) == (1, False)


@pytest.mark.both_databases
def test_exports_need_the_permission_leave_deleted_customers_and_are_audited(
    database: str,
) -> None:
    from core.customers.exports import export_customers
    from core.db import session_scope

    with session_scope() as session:
        made = seed(session)
        customers.soft_delete(session=session, actor=SYSTEM, customer_ids=[made["zoe"].id], now=NOW)
    viewer = Actor(user_id=None, email="v@example.com", role=Role.VIEWER)
    marketer = Actor(user_id=None, email="m@example.com", role=Role.MARKETER)
    out = io.StringIO()
    with pytest.raises(PermissionDenied):
        export_customers(unit_of_work=session_scope, actor=viewer, out=out, today=NOW.date())
    with pytest.raises(ValidationError, match="Deleted customers are not exported"):
        export_customers(
            unit_of_work=session_scope,
            actor=marketer,
            out=out,
            filters=CustomerFilter(deleted=True),
            today=NOW.date(),
        )
    assert out.getvalue() == ""
    rows = export_customers(
        unit_of_work=session_scope,
        actor=marketer,
        out=out,
        filters=CustomerFilter(search="smith"),
        today=NOW.date(),
    )
    exported = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows == len(exported) == 1 and exported[0]["first_name"] == "Ana"  # not deleted Zoë
    with session_scope(read_only=True) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "customers.exported")
        ).all()
    assert [(e.actor, e.changes["rows"], e.changes["filters"]) for e in entries] == [
        ("m@example.com", 1, {"search": "smith"})
    ]


@pytest.mark.both_databases
def test_a_save_from_an_outdated_form_is_refused_with_who_changed_it(database: str) -> None:
    """Two people open the same customer; the second save must not quietly undo the first."""
    from core.db import session_scope

    with session_scope() as session:
        ana = seed(session)["ana"]
        opened, ana_id = ana.version, ana.id
    first = Actor(user_id=None, email="first@example.com", role=Role.MARKETER)
    second = Actor(user_id=None, email="second@example.com", role=Role.MARKETER)
    with session_scope() as session:
        customers.update_customer(
            session=session,
            actor=first,
            customer_id=ana_id,
            now=NOW,
            expected_version=opened,
            city="Evanston",
        )
    refused = pytest.raises(Conflict, match=r"changed by first@example\.com at \d{4}-\d\d-\d\d")
    with refused, session_scope() as session:
        customers.update_customer(
            session=session,
            actor=second,
            customer_id=ana_id,
            now=NOW,
            expected_version=opened,
            city="Oak Park",
        )
    with session_scope() as session:
        saved = session.get(Customer, ana_id)
        assert (saved.city, saved.version) == ("Evanston", opened + 1)
        customers.update_customer(  # from the version now shown, the edit goes in
            session=session,
            actor=second,
            customer_id=ana_id,
            now=NOW,
            expected_version=saved.version,
            city="Oak Park",
        )
    with session_scope(read_only=True) as session:
        assert session.get(Customer, ana_id).city == "Oak Park"


@pytest.mark.both_databases
def test_totals_follow_the_orders_and_fall_to_zero_without_them(session: Session) -> None:
    ana, ben = add(session, email="ana@example.com"), add(session, email="ben@example.com")
    first, last = NOW - timedelta(days=30), NOW - timedelta(days=2)
    session.add_all(
        Order(customer_id=ana.id, ordered_at=at, total_cents=cents, channel="in_store")
        for at, cents in ((first, 2500), (last, 4000))
    )
    session.add(Order(customer_id=ben.id, ordered_at=last, total_cents=999, channel="in_store"))
    session.flush()
    assert refresh_customer_totals(session=session, customer_ids=[ana.id, ben.id]) == 2
    session.expire_all()
    assert (ana.order_count, ana.total_spent_cents) == (2, 6500)
    assert (ana.first_order_at, ana.last_order_at) == (first, last)
    assert refresh_customer_totals(session=session, customer_ids=[ana.id, ben.id]) == 0, (
        "totals that stand are not rewritten"
    )
    session.execute(delete(Order).where(Order.customer_id == ben.id))
    assert refresh_customer_totals(session=session, customer_ids=[ana.id, ben.id]) == 1
    session.expire_all()
    assert (ben.order_count, ben.total_spent_cents, ben.first_order_at, ben.last_order_at) == (
        0,
        0,
        None,
        None,
    )
    assert ana.order_count == 2
