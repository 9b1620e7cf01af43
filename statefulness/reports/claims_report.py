"""The claims report (``pytest --claims-report PATH``, ``statefulness spec``): one type, written by the spec's
plugin (``statefulness/pytest_plugin.py``) and read by ``statefulness matrix``, ``statefulness spec-doc``,
the matrix page and the generated documents.

A report holds the environment (Python, Keras, backend, TensorFlow/JAX/PyTorch versions), the commit and
time of its run, and one ``ClaimEntry`` per claim (a spec test's case): its stable id, the test that
states it, its verdict, the figures it was judged on, its chapter and docstring and, for a known
deviation, the diagnosis.

A claim's id is stable: ``<chapter>/<claim>[<params>]``, from the test's ``@pytest.mark.claim("<chapter>/
<claim>")`` marker, so that a test renamed keeps its claim. The test is its node id,
``spec/<file>::<test>[<params>]`` (the reproduction: ``pytest "spec/<file>::<test>[<params>]"``).

The format is ``statefulness-claims/2``. ``ClaimsReport.load`` also reads the reports written before it
(no ``"format"``; each claim named by its test's node id): the ids of their claims are mapped to the
stable ones by ``claim_ids_before.json`` (``{"spec/<file>::<test function>": "<chapter>/<claim>"}``, the
parameters carried over), made once from the spec as it stood at the change (``scripts/claim_ids_before.py``);
an id that maps to nothing is kept as it is.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from statefulness.verdict import CLAIM_VERDICTS, Verdict

FORMAT = "statefulness-claims/2"
"""The ``"format"`` of the reports written now. The reports before it have no such key."""

CLAIM_IDS_BEFORE = Path(__file__).with_name("claim_ids_before.json")
"""The stable id of each claim as named before ``FORMAT`` (a spec test's node id, without parameters)."""


@cache
def claim_ids_before() -> dict[str, str]:
    """``claim_ids_before.json``: ``{"spec/<file>::<test function>": "<chapter>/<claim>"}`` (empty where the
    file is missing: the old ids are then kept as they are)."""
    try:
        return dict(json.loads(CLAIM_IDS_BEFORE.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}


def stable_id(old: str) -> str:
    """The stable id of a claim named the way reports before ``FORMAT`` name it (``spec/<file>::<test>
    [<params>]``), its parameters carried over; ``old`` itself where the mapping has no such test."""
    mapping = claim_ids_before()
    if old in mapping:  # a case whose parameters were renamed too
        return mapping[old]
    test, bracket, params = old.partition("[")
    found = mapping.get(test)
    return old if found is None else found + bracket + params


_ENTRY_KEYS = ("claim", "test", "verdict", "observed", "markers", "chapter", "doc")
_OPTIONAL_KEYS = ("deviation", "deviation_id", "consequence", "duration_s")


@dataclass
class ClaimEntry:
    """One claim (a spec test's case) in one environment."""

    claim: str
    """The stable id: ``<chapter>/<claim>[<params>]``."""
    test: str
    """The spec test's node id: ``spec/<file>::<test>[<params>]``."""
    verdict: Verdict
    observed: dict[str, Any] = field(default_factory=dict)
    """The figures the claim was judged on, by name."""
    markers: list[str] = field(default_factory=list)
    """The spec's markers on the test (``learning``, ``wide``, ``full``)."""
    chapter: str = ""
    """The chapter's docstring (its test module's)."""
    doc: str = ""
    """The test's docstring."""
    deviation: str | None = None
    """For a known deviation: its cause (the registry's words)."""
    deviation_id: str | None = None
    consequence: str | None = None
    duration_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys of the entry that this type does not know, kept (and written back) as they are."""

    @property
    def spec_claim(self) -> str:
        """The claim without its parameters: one row of the matrix, its cases folded."""
        return self.claim.partition("[")[0]

    @property
    def case(self) -> str:
        """The parameters of the claim's case (``""`` for a test without any)."""
        return self.claim.partition("[")[2].removesuffix("]")

    @property
    def test_file(self) -> str:
        """The spec test's file (``spec/test_05_reset.py``), which orders the chapters."""
        return self.test.partition("::")[0]

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, before: bool = False) -> ClaimEntry:
        """An entry from its JSON; ``before``: of a report before ``FORMAT`` (its ``claim`` the node id)."""
        if not isinstance(data, dict) or not isinstance(data.get("claim"), str):
            raise ValueError("each claim must be an object with a 'claim' id")
        claim = data["claim"]
        test = data.get("test", claim if before else None)
        if not isinstance(test, str):
            raise ValueError(f"claim {claim!r} has no 'test'")
        verdict = data.get("verdict")
        if not isinstance(verdict, str) or verdict not in CLAIM_VERDICTS:
            expected = ", ".join(v.value for v in CLAIM_VERDICTS)
            raise ValueError(f"claim {claim!r} has verdict {verdict!r}; expected one of {expected}")
        known = {k: data[k] for k in (*_ENTRY_KEYS[3:], *_OPTIONAL_KEYS) if k in data}
        extra = {k: v for k, v in data.items() if k not in _ENTRY_KEYS and k not in _OPTIONAL_KEYS}
        return cls(
            claim=stable_id(claim) if before else claim, test=test, verdict=Verdict(verdict), extra=extra, **known
        )

    def to_dict(self) -> dict[str, Any]:
        """The entry's JSON: every key of ``_ENTRY_KEYS``, the optional ones where set, then ``extra``."""
        data = {key: getattr(self, key) for key in _ENTRY_KEYS}
        data.update((key, getattr(self, key)) for key in _OPTIONAL_KEYS if getattr(self, key) is not None)
        return data | self.extra


_WORST_FIRST = (Verdict.FAIL, Verdict.KNOWN_DEVIATION, Verdict.PASS, Verdict.SKIPPED)


def _merged(claims: list[ClaimEntry]) -> list[ClaimEntry]:
    """An old report's cases that the mapping makes one case (a parameter dropped: the state rules run
    both calls in one case), as one entry with the worst of their verdicts."""
    by_id: dict[str, ClaimEntry] = {}
    for entry in claims:
        kept = by_id.setdefault(entry.claim, entry)
        if _WORST_FIRST.index(entry.verdict) < _WORST_FIRST.index(kept.verdict):
            by_id[entry.claim] = entry
    return list(by_id.values())


@dataclass
class ClaimsReport:
    """A run of the spec in one environment: ``load`` one, ``dump`` one."""

    environment: dict[str, Any]
    claims: list[ClaimEntry] = field(default_factory=list)
    commit: str | None = None
    created: str | None = None
    """When the run ended, ``YYYY-MM-DDTHH:MM:SSZ``."""
    wall_s: float | None = None
    """pytest's session, in seconds."""
    path: str | None = field(default=None, compare=False)
    """Where the report was loaded from (not written)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Top-level keys that this type does not know, kept as they are."""

    @classmethod
    def from_dict(cls, data: Any, path: str | os.PathLike[str] | None = None) -> ClaimsReport:
        """A report from its JSON, of ``FORMAT`` or of the format before it (``ValueError`` otherwise)."""
        where = f"{path}: " if path is not None else ""
        if not isinstance(data, dict) or not isinstance(data.get("claims"), list) or "environment" not in data:
            raise ValueError(f"{where}not a claims report (expected 'environment' and 'claims')")
        if not isinstance(data["environment"], dict):
            raise ValueError(f"{where}not a claims report ('environment' is no object)")
        version = data.get("format")
        if version is not None and version != FORMAT:
            raise ValueError(f"{where}a claims report of format {version!r}; this statefulness reads {FORMAT!r}")
        try:
            claims = [ClaimEntry.from_dict(entry, before=version is None) for entry in data["claims"]]
        except ValueError as error:
            raise ValueError(f"{where}not a claims report ({error})") from None
        if version is None:
            claims = _merged(claims)
        known = {"format", "environment", "claims", "commit", "created", "wall_s"}
        return cls(
            environment=data["environment"],
            claims=claims,
            commit=data.get("commit"),
            created=data.get("created"),
            wall_s=data.get("wall_s"),
            path=None if path is None else str(path),
            extra={k: v for k, v in data.items() if k not in known},
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ClaimsReport:
        """The report at ``path``. ``OSError`` where it cannot be read; ``ValueError`` naming ``path`` where
        it is no claims report (not JSON, no ``environment`` and ``claims``, an unknown verdict or format)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: not a claims report (invalid JSON: {error})") from None
        return cls.from_dict(data, path)

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON, of ``FORMAT``."""
        return {
            "format": FORMAT,
            "environment": self.environment,
            "commit": self.commit,
            "created": self.created,
            "wall_s": self.wall_s,
            "claims": [entry.to_dict() for entry in self.claims],
        } | self.extra

    def dump(self, path: str | os.PathLike[str]) -> None:
        """Write the report to ``path`` (its folder created) as JSON, indented by 2: to ``PATH.partial``, then
        renamed over ``path``, so that a failure leaves the previous report, or none, and never half of one."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        partial = Path(f"{path}.partial")
        try:
            partial.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
