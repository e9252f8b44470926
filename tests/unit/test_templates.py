"""Templates: checked on save, rendered in a sandbox, sanitised, and texts measured."""

from __future__ import annotations

import pytest

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
