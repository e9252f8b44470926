"""Templates: checked on save, rendered in a sandbox, sanitised, and texts measured."""

from __future__ import annotations

import pytest

from core.messaging import sandbox
from core.messaging.template_defaults import DEFAULTS
from core.messaging.templates import SAMPLE_CONTEXT, Draft, check, render, sanitize_html, sms_length
from core.models import Channel

FOOTER = "<p>{{ store.address }} <a href='{{ unsubscribe_url }}'>Unsubscribe</a></p>"


def email(body: str = "<p>Hi {{ first_name }}</p>", **fields: str) -> Draft:
    return Draft(
        **{
            "name": "Test",
            "channel": Channel.EMAIL,
            "subject": "Hello",
            "body_html": body + FOOTER,
            **fields,
        }
    )


def text(body: str) -> Draft:
    return Draft(name="Text", channel=Channel.SMS, body_text=body)


def test_every_default_template_passes_its_own_checks() -> None:
    assert len(DEFAULTS) >= 9
    for draft in DEFAULTS:
        assert check(draft) == [], draft.name
        rendered = render(draft, SAMPLE_CONTEXT)
        assert "Last Call Liquor" in rendered.text or "Last Call Liquor" in rendered.html


@pytest.mark.parametrize(
    ("draft", "problem"),
    [
        (email("<p>Hi {{ frist_name }}</p>"), "In the HTML: unknown variable frist_name"),
        (email(subject="{{ offer.discount }} off"), "'dict object' has no attribute 'discount'"),
        (email("<p>{% if first_name %}Hi</p>"), "In the HTML: line 1: Unexpected end of template"),
        (email(subject=""), "An email needs a subject."),
        (
            Draft(name="x", channel=Channel.EMAIL, subject="s", body_html="<p>Hi</p>"),
            "must show your postal address and an unsubscribe link",
        ),
        (text("Big sale today! Reply STOP to opt out."), "insert {{ store.name }}"),
        (text("{{ store.name }}: big sale today!"), "how to stop them"),
        (email("{{ ''.__class__.__mro__ }}"), "not allowed"),
    ],
)
def test_a_bad_template_is_refused_with_the_reason(draft: Draft, problem: str) -> None:
    problems = check(draft)
    assert any(problem in p for p in problems), problems


def test_values_are_escaped_and_template_html_is_sanitised() -> None:
    draft = email("<p>Hi {{ customer.first_name }}</p>")
    hostile = {
        **SAMPLE_CONTEXT,
        "customer": {**SAMPLE_CONTEXT["customer"], "first_name": "<script>x()</script>"},
    }
    assert "<script>" not in render(draft, hostile).html
    assert "&lt;script&gt;" in render(draft, hostile).html
    hostile_html = (
        "<p onclick='x()'>Hi</p><script>alert(1)</script>"
        "<a href='javascript:alert(1)'>x</a><a href='{{ unsubscribe_url }}'>u</a>"
    )
    cleaned = sanitize_html(hostile_html)
    assert "script" not in cleaned and "onclick" not in cleaned and "javascript" not in cleaned
    assert 'href="{{ unsubscribe_url }}"' in cleaned


def with_customer(**fields: str) -> dict[str, object]:
    return {**SAMPLE_CONTEXT, "customer": {**SAMPLE_CONTEXT["customer"], **fields}}


def test_the_rendered_html_is_sanitised_not_only_the_source() -> None:
    """Attribute contexts escape quotes but not schemes: the rendered message is cleaned again."""
    draft = email(
        "<p><a href='{{ customer.city }}' style='color:red'>{{ customer.first_name }}</a></p>"
    )
    rendered = render(draft, with_customer(city="javascript:alert(document.cookie)"))
    assert "javascript" not in rendered.html
    assert ">Dana</a>" in rendered.html and 'style="color:red"' in rendered.html
    rendered = render(draft, with_customer(city="https://shop.example.com/wine"))
    assert 'href="https://shop.example.com/wine"' in rendered.html


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{{ customer.city|safe }}", "No filter named 'safe'"),
        ("{{ customer.city|tojson }}", "No filter named 'tojson'"),
        ("{% autoescape false %}{{ customer.city }}{% endautoescape %}", "autoescape blocks"),
        ("{{ 'x' * 100000 * 100000 }}", "longer than 200,000 characters"),
        ("{{ [1] * 10**9 }}", "longer than 200,000 characters"),
        ("{{ 2 ** 100000000 }}", "a power over 64"),
        ("{{ '%0999999999d' % 1 }}", "not allowed"),
        ("{{ customer.city.center(1000000000) }}", "not allowed"),
        ("{{ customer.city.replace('', customer.city * 10000) }}", "longer than 200,000"),
        ("{{ (customer.city * 1000)|replace('', customer.city * 1000) }}", "longer than 200,000"),
        (
            "{% for a in customer.city * 1000 %}{% for b in customer.city * 1000 %}"
            "{% endfor %}{% endfor %}",
            "loops run more than 10,000 times",
        ),
        ("{% for c in customer.city * 10000 %}{{ customer.city * 20 }}{% endfor %}", "output is"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "calls itself without end"),
        ("{% for i in range(3) %}x{% endfor %}", "unknown variable range"),
        ("{{ lipsum(1000) }}", "unknown variable lipsum"),
        ("x" * 100_001, "longer than 100,000 characters"),
    ],
)
def test_a_template_cannot_mark_html_safe_or_run_away(source: str, problem: str) -> None:
    problems = check(email(f"<p>{source}</p>"))
    assert any(problem in p for p in problems), problems


def test_a_render_has_a_time_limit() -> None:
    """Each turn is cheap enough for the turn limit but slow in all: the clock stops it."""
    slow = "{% for c in customer.city %}{{ (customer.city|replace('a', 'b'))|length }}{% endfor %}"
    with pytest.raises(sandbox.TooCostly, match=r"more than 0\.25 s"):
        render(email(slow), with_customer(city="a" * 190_000))


def test_a_long_field_fails_the_render_that_a_sample_passes() -> None:
    draft = email("<p>{{ customer.city * 1000 }}</p>")
    assert check(draft) == []
    with pytest.raises(sandbox.TooCostly, match="longer than 200,000"):
        render(draft, with_customer(city="x" * 1000))


def test_everyday_template_features_still_work() -> None:
    draft = email(
        "<p>{{ customer.first_name|title }}, {{ offer.description|default('a treat')|upper }}"
        "{% for word in customer.city.split() %} [{{ loop.index }} {{ word }}]{% endfor %}</p>"
    )
    assert check(draft) == []
    assert "Dana, 15% OFF A MIXED CASE [1 Chicago]" in render(draft, SAMPLE_CONTEXT).html


def test_the_text_part_is_made_from_the_html() -> None:
    rendered = render(
        email("<h1>Sale</h1><p>Hi {{ first_name }},<br>15% off &amp; more.</p>"), SAMPLE_CONTEXT
    )
    lines = rendered.text.splitlines()
    assert lines[:3] == ["Sale", "Hi Dana,", "15% off & more."]
    assert "Unsubscribe (https://shop.example.com/u/sample-token)" in rendered.text


@pytest.mark.parametrize(
    ("body", "encoding", "characters", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("€" * 80, "GSM-7", 160, 1),  # the extension table costs two
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("Cheers 🍷", "UCS-2", 9, 1),  # an emoji is two UTF-16 units
        ("é" * 70, "GSM-7", 70, 1),
        ("ę" * 70, "UCS-2", 70, 1),
        ("ę" * 71, "UCS-2", 71, 2),
    ],
)
def test_text_length_counts_segments_like_the_carriers(
    body: str, encoding: str, characters: int, segments: int
) -> None:
    length = sms_length(body)
    assert (length.encoding, length.characters, length.segments) == (encoding, characters, segments)
