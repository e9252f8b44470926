"""What an alcohol ad may not say: hard rules block, soft ones warn, innocent words pass."""

import pytest

from core.compliance import content
from core.compliance.content import Severity
from core.messaging import templates
from core.messaging.template_defaults import DEFAULTS
from core.messaging.templates import Draft
from core.models import Channel


def said(text: str) -> list[tuple[str, Severity, str]]:
    return [(f.rule, f.severity, f.words) for f in content.lint([("text", text)])]


def test_free_shots_for_college_nights_is_blocked_twice() -> None:
    assert said("Free shots for College nights!") == [
        ("minors", Severity.BLOCK, "College"),
        ("excess", Severity.BLOCK, "Free shots"),
    ]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Spring-break special", "minors"),
        ("Student discount all week", "minors"),
        ("Bottomless mimosas at home", "excess"),
        ("Get  wasted this weekend", "excess"),
        ("Binge drinking season", "excess"),
        ("Red wine is good for your health", "health"),
        ("Hangover-free tequila", "health"),
        ("One for the road?", "driving"),
    ],
)
def test_hard_rules_block(text: str, rule: str) -> None:
    assert [(r, s) for r, s, _ in said(text)] == [(rule, Severity.BLOCK)]


@pytest.mark.parametrize(
    "text",
    [
        "Pair it with your binge-watch",
        "A healthy pour of Malbec",
        "While the kids are asleep",
        "A young Beaujolais, just in",
    ],
)
def test_words_that_are_often_innocent_only_warn(text: str) -> None:
    assert [s for _, s, _ in said(text)] == [Severity.WARN]


@pytest.mark.parametrize(
    "text",
    ["Cured meats and a dry Riesling", "Collected works of Burgundy", "Our studio tasting"],
)
def test_innocent_words_pass(text: str) -> None:
    assert said(text) == []


def test_an_html_body_is_read_as_its_words_not_its_links() -> None:
    html = '<p><a href="https://college.example.com/prom">Shop the new arrivals</a></p>'
    assert content.lint_message(html=html) == []
    assert [f.where for f in content.lint_message(html="<b>Prom</b> night", where="Send 1")] == [
        "Send 1, body"
    ]


def test_a_template_that_breaks_a_hard_rule_cannot_be_saved_and_a_soft_one_warns() -> None:
    text = "{{ store.name }}: free shots for college nights! Reply STOP to opt out."
    problems = templates.check(Draft(name="Bad", channel=Channel.SMS, body_text=text))
    assert problems == [
        'text: "college" appeals to people under 21: not allowed in an alcohol ad.',
        'text: "free shots" encourages drinking to excess: not allowed in an alcohol ad.',
    ]
    kids = Draft(
        name="Ok", channel=Channel.SMS, body_text="{{ store.name }}: kids asleep? Reply STOP."
    )
    assert templates.check(kids) == []
    assert templates.warnings(kids) == [
        'text: "kids" may read as aimed at young people: check that it is not.'
    ]


def test_the_shipped_templates_are_clean() -> None:
    for draft in DEFAULTS:
        assert templates.lint(draft) == [], draft.name
