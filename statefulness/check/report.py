"""What ``check_model`` returns: a ``Report`` of one ``Result`` per rule, and the exceptions a rule raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TypedDict

from statefulness.verdict import RULE_VERDICTS, Verdict


class _Tolerance(TypedDict):
    rtol: float
    atol: float


VERDICTS = RULE_VERDICTS
EXPECTED_TO_FAIL = (Verdict.FAIL, Verdict.ERROR, Verdict.KNOWN_DEVIATION)
"""What a rule that the user expects to fail may show for its verdict to be ``expected``; ``pass``
makes it an ``unexpected pass``, and ``not applicable`` stays."""


@dataclass
class Result:
    rule: str
    statement: str
    verdict: str
    detail: str = ""
    driver: str | None = None
    difference: float | None = None
    """For a failure: the largest absolute difference between what was computed and what was expected."""
    deviation: str | None = None
    """For a known deviation: its id in ``statefulness/deviations/registry.py``."""
    expected: str | None = None
    """The user's reason for expecting the rule to fail (``check_model(expected=...)``, ``--expect``)."""
    measured: str | None = None
    """Where that expectation made the verdict ``expected`` or ``unexpected pass``: the verdict the rule
    showed (``fail``, ``error``, ``known deviation``; ``pass``)."""


@dataclass
class Report:
    model: str
    environment: dict
    seed: int
    results: list[Result] = field(default_factory=list)

    def __getitem__(self, rule: str) -> Result:
        for result in self.results:
            if result.rule == rule:
                return result
        raise KeyError(rule)

    @property
    def verdicts(self) -> dict[str, str]:
        return {result.rule: result.verdict for result in self.results}

    @property
    def measured(self) -> dict[str, str]:
        """Rule id -> the verdict the rule showed, before the user's expectations: what a record stores and
        ``compare_with_record`` compares."""
        return {result.rule: result.measured or result.verdict for result in self.results}

    def passed(self, allow_known: bool = False) -> bool:
        """No rule failed, errored or passed against the user's expectation (``unexpected pass``), and,
        unless ``allow_known``, none showed a known deviation that the user did not expect."""
        bad = {Verdict.FAIL, Verdict.ERROR, Verdict.UNEXPECTED_PASS} | (
            set() if allow_known else {Verdict.KNOWN_DEVIATION}
        )
        return not any(result.verdict in bad for result in self.results)

    def to_dict(self) -> dict:
        return asdict(self)

    def table(self) -> str:
        """The report as plain text: a header naming the environment, then one line per rule."""
        env = self.environment
        backend_lib = env.get({"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(env["backend"], ""))
        lines = [
            f"statefulness check: Keras {env['keras']} ({env['keras_package']}), backend {env['backend']}"
            + (f" {backend_lib}" if backend_lib else "")
            + f", Python {env['python']}, NumPy {env['numpy']}",
            f"model: {self.model}",
            "",
        ]
        width = max(len(result.rule) for result in self.results)
        for result in self.results:
            lines.append(f"{result.rule:<{width}}  {result.verdict:<15}  {result.detail}")
        counts = {v: sum(r.verdict == v for r in self.results) for v in VERDICTS}
        lines += ["", ", ".join(f"{n} {v}" for v, n in counts.items() if n)]
        return "\n".join(lines)


class RuleFailed(AssertionError):
    """A state rule does not hold: ``detail`` says what was measured, ``difference`` the largest absolute
    difference where outputs were compared."""

    def __init__(self, detail: str, difference: float | None = None):
        super().__init__(detail)
        self.detail, self.difference = detail, difference


class NotApplicable(Exception):
    """A state rule does not apply to the model (its make-up), with why."""


@dataclass(frozen=True)
class Rule:
    id: str
    statement: str
    run: Callable
    driver: str | None = None


def _qualname(cls) -> str:
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _short(error: BaseException, limit: int = 160) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
