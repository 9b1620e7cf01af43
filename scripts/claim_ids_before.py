"""Write statefulness/claim_ids_before.json: the stable id of every claim of the spec as claims reports
named it before the format ``statefulness-claims/2`` (by its test's node id, ``spec/<file>::<test
function>``), from the ``@pytest.mark.claim`` markers of the spec collected now. Run in a checkout's root:

    python scripts/claim_ids_before.py            # write it (once: it refuses to overwrite it)
    python scripts/claim_ids_before.py --force    # write it again

It was made once, when the spec's tests got their ``claim`` markers, and ``ClaimsReport.load`` maps the
claims of the reports before that through it. Do not regenerate it after renaming a test: the mapping is
of the names the old reports use, which a renamed test no longer has (its marker keeps its claim's id).
When the breadth claims became the state rules of ``statefulness.check``, two of them renamed their
cases' parameters (chapter 5's resets are named as the rules name them; chapter 7's refusal runs both
calls in one case; chapter 8's format comes after the kind): ``--renamed-cases`` adds those cases, in
full, as ``renamed_cases`` says.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from statefulness.pytest_plugin import claim_id, spec_node_id  # noqa: E402
from statefulness.reports.claims_report import CLAIM_IDS_BEFORE  # noqa: E402


class _Collector:
    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items) -> None:
        for item in items:
            test, claim = spec_node_id(item), claim_id(item)
            if test is not None and claim is not None:
                self.ids[test.partition("[")[0]] = claim.partition("[")[0]


_RESET = "spec/test_05_reset.py::test_every_reset_returns_every_state_of_every_shape_to_zeros_and_outputs_repeat"
_REFUSE = "spec/test_07_batch_size.py::test_every_shape_refuses_one_batch_of_another_size"
_LOAD = (
    "spec/test_08_save_and_load.py::"
    "test_every_shape_loads_back_with_its_weights_its_batch_size_and_stateful_layers_from_zero_state"
)


def renamed_cases(ids: dict[str, str]) -> dict[str, str]:
    """Old case id -> stable case id, for the breadth claims whose parameters were renamed."""
    from statefulness.check.kinds import BREADTH

    cases = {}
    for kind in BREADTH:
        for old, new in (
            ("each layer's reset_states()", "layer.reset_states()"),
            ("statefulness.reset_states", "statefulness.reset_states()"),
        ):
            cases[f"{_RESET}[{kind}-{old}]"] = f"{ids[_RESET]}[{kind}-{new}]"
        for call in ("direct call", "predict_on_batch"):
            for rows in ("fewer rows", "more rows"):
                cases[f"{_REFUSE}[{kind}-{call}-{rows}]"] = f"{ids[_REFUSE]}[{kind}-{rows}]"
        for fmt in (".keras", ".h5"):  # the format was a fixture's parameter, ahead of the kind
            cases[f"{_LOAD}[{fmt}-{kind}]"] = f"{ids[_LOAD]}[{kind}-{fmt}]"
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help=f"overwrite {CLAIM_IDS_BEFORE.name}")
    parser.add_argument("--renamed-cases", action="store_true", help="add the renamed cases to the mapping there")
    args = parser.parse_args(argv)
    if args.renamed_cases:
        ids = json.loads(CLAIM_IDS_BEFORE.read_text(encoding="utf-8"))
        ids.update(renamed_cases(ids))
        CLAIM_IDS_BEFORE.write_text(json.dumps(ids, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {CLAIM_IDS_BEFORE.relative_to(ROOT)}: {len(ids)} ids")
        return 0
    if CLAIM_IDS_BEFORE.exists() and not args.force:
        parser.error(f"{CLAIM_IDS_BEFORE} exists (it maps the old reports' names: --force to write it again)")
    collector = _Collector()
    quiet = ["-qq", "-W", "ignore::pytest.PytestAssertRewriteWarning", "-p", "no:randomly", "-n", "0"]
    code = pytest.main(["--collect-only", *quiet, str(ROOT / "spec")], plugins=[collector])
    if code != 0 or not collector.ids:
        print(f"collecting the spec failed (exit {code}): {CLAIM_IDS_BEFORE.name} not written", file=sys.stderr)
        return 1
    partial = CLAIM_IDS_BEFORE.with_name(CLAIM_IDS_BEFORE.name + ".partial")
    partial.write_text(json.dumps(dict(sorted(collector.ids.items())), indent=2) + "\n", encoding="utf-8")
    partial.replace(CLAIM_IDS_BEFORE)
    print(f"wrote {CLAIM_IDS_BEFORE.relative_to(ROOT)}: {len(collector.ids)} tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
