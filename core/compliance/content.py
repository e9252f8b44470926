"""What an alcohol ad may not say (COMPLIANCE.md, "Alcohol industry and TTB"): an appeal to
minors, an inducement to drink to excess, a health claim, drink-driving. Read in templates,
A/B test subjects and the AI planner's wording before anything can be scheduled.

A hard rule blocks: the words have no innocent reading in a liquor store's ad ("free shots for
college nights"). A soft rule warns: the words often are innocent ("the kids are asleep") and a
person should look before it goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    BLOCK = "block"
    WARN = "warn"


@dataclass(frozen=True)
class Rule:
    name: str
    severity: Severity
    why: str
    pattern: re.Pattern[str]


def _words(*phrases: str) -> re.Pattern[str]:
    """Whole words or phrases, any case, with any spacing or hyphen between their words."""
    alternatives = (r"[\s\-]+".join(map(re.escape, p.split())) for p in phrases)
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


RULES = (
    Rule(
        "minors",
        Severity.BLOCK,
        "appeals to people under 21",
        _words(
            "college",
            "colleges",
            "spring break",
            "frat",
            "frats",
            "fraternity",
            "sorority",
            "dorm",
            "teen",
            "teens",
            "teenager",
            "teenagers",
            "underage",
            "prom",
            "homecoming",
            "back to school",
            "cartoon",
            "cartoons",
            "student",
            "students",
        ),
    ),
    Rule(
        "excess",
        Severity.BLOCK,
        "encourages drinking to excess",
        _words(
            "free drinks",
            "free shots",
            "free shot",
            "drink all you can",
            "all you can drink",
            "bottomless",
            "unlimited drinks",
            "get wasted",
            "get hammered",
            "get drunk",
            "get smashed",
            "get plastered",
            "binge drinking",
            "chug",
            "chugging",
            "keg stand",
            "drinking game",
            "drinking games",
        ),
    ),
    Rule(
        "health",
        Severity.BLOCK,
        "makes a health claim",
        _words(
            "good for your health",
            "heart healthy",
            "cures",
            "cure",
            "medicinal",
            "immune",
            "hangover free",
            "no hangover",
            "detox",
        ),
    ),
    Rule(
        "driving",
        Severity.BLOCK,
        "links drinking to driving",
        _words("drink and drive", "one for the road", "road soda", "roadie"),
    ),
    Rule(
        "minors_maybe",
        Severity.WARN,
        "may read as aimed at young people",
        _words("kids", "party animal", "young", "youth", "graduation", "grads", "campus"),
    ),
    Rule(
        "health_maybe",
        Severity.WARN,
        "may read as a health claim",
        _words(
            "healthy", "healthier", "good for you", "antioxidant", "antioxidants", "low calorie"
        ),
    ),
    Rule(
        "excess_maybe",
        Severity.WARN,
        "may read as urging heavy drinking",
        _words("bottoms up", "binge", "party hard", "free beer", "free wine", "free bottle"),
    ),
)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    words: str
    """The words as written."""
    why: str
    where: str = ""

    def __str__(self) -> str:
        place = f"{self.where}: " if self.where else ""
        said = f'{place}"{self.words}" {self.why}'
        if self.severity == Severity.BLOCK:
            return f"{said}: not allowed in an alcohol ad."
        return f"{said}: check that it is not."


def lint(parts: Iterable[tuple[str, str]]) -> list[Finding]:
    """Every finding in `parts` ((where, text) pairs, e.g. ("subject", "…")), blocks first,
    each set of words once per place; words a hard rule caught are not warned about again
    ("binge drinking" blocks, it does not also warn of "binge")."""
    found: dict[tuple[str, str, str], Finding] = {}
    for where, text in parts:
        caught: list[tuple[int, int]] = []
        for rule in sorted(RULES, key=lambda r: r.severity != Severity.BLOCK):
            for match in rule.pattern.finditer(text or ""):
                start, end = match.span()
                if any(start < e and s < end for s, e in caught):
                    continue
                caught.append((start, end))
                key = (where, rule.name, match.group(0).lower())
                found.setdefault(
                    key, Finding(rule.name, rule.severity, match.group(0), rule.why, where)
                )
    return sorted(found.values(), key=lambda f: f.severity != Severity.BLOCK)


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == Severity.BLOCK]


_TAG = re.compile(r"<[^>]*>")


def lint_message(
    *, subject: str = "", preheader: str = "", html: str = "", text: str = "", where: str = ""
) -> list[Finding]:
    """Findings in the parts of one message (an HTML body is read as its words, not its tags
    and links)."""
    prefix = f"{where}, " if where else ""
    return lint(
        (f"{prefix}{part}", content)
        for part, content in (
            ("subject", subject),
            ("preheader", preheader),
            ("body", _TAG.sub(" ", html)),
            ("text", text),
        )
        if content
    )
