"""How a learning claim is written: a comparison on a figure of an experiment, stated once.

A threshold is written once, as a comparison that gives both the check and its text::

    below("accuracy", 1.0)                       # accuracy < 1.0
    at_least("accuracy", {"full": 0.9, "default": 0.75})   # per tier
    at_most("no_reset", fig("with_reset") - 0.05)           # against another figure
    at_least("right", 1.0) & equal("random_right", fig("random"))   # both

The experiments (``statefulness/experiments/catalogue.py``) declare their claims with these, and the spec,
``statefulness run`` and the calibration table read them from there. Nothing here loads Keras.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

TIERS = ("full", "default")
"""The schedules a figure can come from: the tutorial's (``full``) and the spec's default tier."""


@dataclass(frozen=True)
class Figures:
    """The typed record of what one run of an experiment measured; each experiment extends it.
    Indexing by name (``figures["accuracy"]``) reads a field, as on a row of the calibration table."""

    epochs: int
    tier: str

    def __getitem__(self, name: str):
        return getattr(self, name)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Ref:
    """Another figure of the same run as a bound: ``fig("subsequences")``, scaled and shifted."""

    name: str
    scale: float = 1.0
    offset: float = 0.0

    def value(self, figures):
        return figures[self.name] * self.scale + self.offset

    def __sub__(self, other: float) -> Ref:
        return dataclasses.replace(self, offset=self.offset - other)

    def __rmul__(self, other: float) -> Ref:
        return dataclasses.replace(self, scale=self.scale * other, offset=self.offset * other)

    def __str__(self) -> str:
        text = self.name if self.scale == 1 else f"{self.scale:g} × {self.name}"
        return text if not self.offset else f"{text} {'-' if self.offset < 0 else '+'} {abs(self.offset):g}"


def fig(name: str) -> Ref:
    """A bound read from another figure of the same run."""
    return Ref(name)


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Comparison:
    """``figure op bound``; ``bound`` is a value, a :class:`Ref`, or a mapping from tier to either."""

    figure: str
    op: str
    bound: object

    def holds(self, figures) -> bool:
        value = figures[self.figure]
        bound = self.bound[figures["tier"]] if isinstance(self.bound, Mapping) else self.bound
        bound = bound.value(figures) if isinstance(bound, Ref) else bound
        return value is not None and bound is not None and bool(_OPS[self.op](value, bound))

    @property
    def text(self) -> str:
        if isinstance(self.bound, Mapping):
            return "; ".join(f"{tier} tier: {self.figure} {self.op} {_show(b)}" for tier, b in self.bound.items())
        return f"{self.figure} {self.op} {_show(self.bound)}"

    def figures(self) -> set[str]:
        bounds = self.bound.values() if isinstance(self.bound, Mapping) else [self.bound]
        return {self.figure} | {b.name for b in bounds if isinstance(b, Ref)}

    def __and__(self, other: Comparison | Both) -> Both:
        return Both((self, other))


@dataclass(frozen=True)
class Both:
    """Every one of several comparisons (``a & b``)."""

    parts: tuple

    def holds(self, figures) -> bool:
        return all(part.holds(figures) for part in self.parts)

    @property
    def text(self) -> str:
        return " and ".join(part.text for part in self.parts)

    def figures(self) -> set[str]:
        return set().union(*(part.figures() for part in self.parts))

    def __and__(self, other: Comparison | Both) -> Both:
        return Both((*self.parts, other))


def _show(bound) -> str:
    return repr(bound) if isinstance(bound, str) else str(bound)


def below(figure: str, bound) -> Comparison:
    return Comparison(figure, "<", bound)


def at_most(figure: str, bound) -> Comparison:
    return Comparison(figure, "<=", bound)


def at_least(figure: str, bound) -> Comparison:
    return Comparison(figure, ">=", bound)


def equal(figure: str, bound) -> Comparison:
    return Comparison(figure, "==", bound)


def differs(figure: str, bound) -> Comparison:
    return Comparison(figure, "!=", bound)


@dataclass(frozen=True)
class Claim:
    """One learning claim: its id, what the tutorial reported, the comparison it is judged on, and how
    the figures behind the verdict are shown. ``experiment`` is filled in when its experiment is
    registered."""

    id: str
    statement: str
    tutorial: str
    check: Comparison | Both
    observe: Callable[[Figures], str]
    experiment: str = ""

    @property
    def threshold_text(self) -> str:
        return self.check.text

    def holds_for(self, figures) -> bool:
        """Judged on a :class:`Figures` record or a row of the calibration table (a dict)."""
        return self.check.holds(figures)
