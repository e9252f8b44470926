"""Jinja2's sandbox, bounded: a template reaches neither Python's internals nor the server's
time and memory.

Jinja's own sandbox stops attribute tricks (`__class__`, `mro`) but not cost: the optimiser folds
`{{ 'x' * 100000 * 100000 }}` into a 10 GB string at compile time, and two nested loops run for
hours. Templates here are written by marketers and rendered inside the app and its workers, so
every render is held to limits it cannot talk its way around:

- a source of at most `MAX_SOURCE_CHARS`, and no `{% autoescape %}` blocks;
- no globals (`range`, `namespace`, `lipsum`, …), only the filters in `FILTERS` (no `safe`, so
  no way to mark text as trusted HTML), and only the harmless string methods in `STR_METHODS`;
- `*`, `**` and `%` checked before they run: no string, list or number larger than a message;
- every loop counted (`MAX_LOOP_TURNS` in all per render) and the whole render under a time
  limit (`MAX_SECONDS`), checked at each loop turn, call, operator and piece of output;
- at most `MAX_OUTPUT_CHARS` of output.

A template that goes over a limit fails with `TooCostly`, which says which limit.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2 import Template as JinjaTemplate
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_SOURCE_CHARS = 100_000
MAX_OUTPUT_CHARS = 200_000
"""Twice what Gmail shows before it clips a message; a text is far shorter."""
MAX_LOOP_TURNS = 10_000
MAX_SECONDS = 0.25
MAX_CALL_DEPTH = 50
MAX_EXPONENT = 64

FILTERS = frozenset(
    {
        "abs",
        "capitalize",
        "count",
        "d",
        "default",
        "e",
        "escape",
        "first",
        "float",
        "int",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "max",
        "min",
        "replace",
        "round",
        "sort",
        "string",
        "striptags",
        "sum",
        "title",
        "trim",
        "truncate",
        "unique",
        "upper",
        "urlencode",
        "wordcount",
    }
)
"""Jinja's filters that a message may use: none marks text as safe HTML (`safe`, `tojson`,
`urlize`, …) and none pads or repeats text (`center`, `indent`, `format`)."""
STR_METHODS = frozenset(
    {
        "capitalize",
        "endswith",
        "lower",
        "lstrip",
        "replace",
        "rstrip",
        "split",
        "startswith",
        "strip",
        "title",
        "upper",
    }
)


class TooCostly(SecurityError):
    """A template asked for more time, loop turns or output than a message may take."""


@dataclass
class _Budget:
    deadline: float
    turns: int = 0
    depth: int = 0
    """Calls in progress, one inside another (a macro calling itself)."""

    def spend(self, turns: int = 0) -> None:
        self.turns += turns
        if self.turns > MAX_LOOP_TURNS:
            raise TooCostly(f"its loops run more than {MAX_LOOP_TURNS:,} times")
        if time.monotonic() > self.deadline:
            raise TooCostly(f"it takes more than {MAX_SECONDS} s to render")


_budget: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _spend(turns: int = 0) -> None:
    budget = _budget.get()
    if budget is None:
        raise SecurityError("templates render through core.messaging.sandbox.render only")
    budget.spend(turns)


def _check_length(length: int) -> None:
    if length > MAX_OUTPUT_CHARS:
        raise TooCostly(f"it makes a value longer than {MAX_OUTPUT_CHARS:,} characters")


def _check_size(value: Any) -> Any:
    if isinstance(value, str | list | tuple):
        _check_length(len(value))
    return value


def _check_replace(text: str, old: str, new: str) -> None:
    occurrences = len(text) + 1 if old == "" else text.count(old)
    _check_length(len(text) + occurrences * (len(new) - len(old)))


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` with the budget spent before and the size checked after (the `replace`
    filter's size before too). `wraps` keeps Jinja's pass_context/pass_eval_context marks."""

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _spend()
        if name == "replace":
            strings = [a for a in args if isinstance(a, str)]
            if len(strings) >= 3:
                _check_replace(*strings[:3])
        return _check_size(function(*args, **kwargs))

    return bounded


class BoundedSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})
    """Operators that go through `call_binop` (and so are never folded at compile time)."""

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=autoescape)
        self.globals.clear()
        self.filters = {
            name: _bounded_filter(name, function)
            for name, function in self.filters.items()
            if name in FILTERS
        }

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Refuse long sources and autoescape blocks; wrap every loop's iterable in `counted`.
        (Jinja has no public hook between parsing and compiling; `_parse` is where
        `from_string` and `parse` both pass.)"""
        if len(source) > MAX_SOURCE_CHARS:
            raise TooCostly(f"it is longer than {MAX_SOURCE_CHARS:,} characters")
        tree = super()._parse(source, name, filename)
        for modifier in tree.find_all(nodes.EvalContextModifier):
            raise TemplateSyntaxError("autoescape blocks are not allowed", modifier.lineno)
        for loop in list(tree.find_all(nodes.For)):
            loop.iter = nodes.Call(
                nodes.EnvironmentAttribute("counted"), [loop.iter], [], None, None
            ).set_lineno(loop.lineno)
        return tree

    def counted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            _spend(turns=1)
            yield item

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr not in STR_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        owner = getattr(__obj, "__self__", None)
        is_replace = getattr(__obj, "__name__", "") == "replace"
        if isinstance(owner, str) and is_replace and len(args) >= 2:
            _check_replace(owner, str(args[0]), str(args[1]))
        budget = _budget.get()
        assert budget is not None  # `_spend` refused a render without one
        if budget.depth >= MAX_CALL_DEPTH:
            # Said as Python would, long before Python would say it (and however busy the
            # machine is, before the time limit).
            raise RecursionError(f"calls nest more than {MAX_CALL_DEPTH} deep")
        budget.depth += 1
        try:
            return _check_size(super().call(__context, __obj, *args, **kwargs))
        finally:
            budget.depth -= 1

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _spend()
        if operator == "%" and isinstance(left, str):
            raise SecurityError("use filters, not % formatting")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                    _check_length(len(sequence) * times)
        numbers = isinstance(left, int) and isinstance(right, int)
        if operator == "**" and numbers and abs(left) > 1 and right > MAX_EXPONENT:
            raise TooCostly(f"it raises a number to a power over {MAX_EXPONENT}")
        return super().call_binop(context, operator, left, right)


def render(template: JinjaTemplate, context: dict[str, Any]) -> str:
    """`template` rendered within the limits in the module's docstring.

    Raises:
        TooCostly: a limit was reached.
        jinja2.TemplateError: anything else the template got wrong.
    """
    token = _budget.set(_Budget(deadline=time.monotonic() + MAX_SECONDS))
    try:
        pieces, size = [], 0
        for piece in template.generate(context):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise TooCostly(f"its output is longer than {MAX_OUTPUT_CHARS:,} characters")
            _spend()
            pieces.append(piece)
        return "".join(pieces)
    finally:
        _budget.reset(token)
