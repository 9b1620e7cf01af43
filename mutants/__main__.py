"""Meta-test: run the exact claims of the spec against each mutant; every mutant must be caught.

    python -m mutants                  # all mutants, plus a clean baseline run that must pass
    python -m mutants rows_leak ...    # some of them

Prints, per mutant, the claims that caught it, and the mutation score; exits 1 if a mutant survived
or the baseline failed. ``statefulness.check_model`` runs against every mutant too (``mutants/check.py``):
each of its rules must fail against at least one, and none may fail on the unmutated Keras.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from statefulness.reports.claims_report import ClaimsReport
from statefulness.verdict import Verdict

from . import MUTANTS
from .check import NEVER_FAILS_ON_KERAS_3

SPEC = [
    "spec",
    "-m",
    "not learning",
    "-p",
    "mutants.plugin",
    "-q",
    "-p",
    "no:cacheprovider",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
]


def run(name: str | None) -> tuple[int, list[str], float]:
    """Run the exact spec with mutant ``name`` (None: unmutated); return exit code and failed claims."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "claims.json"
        env = dict(os.environ, STATEFULNESS_MUTANT=name or "", CI="1", HYPOTHESIS_PROFILE="mutants")
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", *SPEC, "--claims-report", str(report)],
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        failed = []
        if report.exists():
            failed = [entry.claim for entry in ClaimsReport.load(report).claims if entry.verdict == Verdict.FAIL]
        if proc.returncode not in (0, 1):
            print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
    return proc.returncode, failed, wall


def verdict(code: int, failed: list[str]) -> str:
    """CAUGHT (claims failed), SURVIVED (the spec passed), or ERROR (pytest stopped otherwise: a mutant
    whose patch target is missing in the installed Keras is a usage error, exit code 4, not a survivor)."""
    if code == 1 and failed:
        return "CAUGHT"
    return "SURVIVED" if code == 0 else "ERROR"


def run_check(name: str | None) -> dict[str, list[str]]:
    """The rules of check_model that fail with mutant ``name`` (None: unmutated), from a fresh process."""
    proc = subprocess.run(
        [sys.executable, "-m", "mutants.check", *([name] if name else [])],
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
        return {"(check_model crashed)": []}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def never_seen_failing(seen: set[str]) -> tuple[list[str], list[str]]:
    """Every rule of ``check_model``, and those that failed against no mutant (of the rules ``seen`` failing),
    but for the rules that cannot fail on the Keras the mutants patch (``NEVER_FAILS_ON_KERAS_3``)."""
    from statefulness.check import RULES

    return list(RULES), [rule for rule in RULES if rule not in seen and rule not in NEVER_FAILS_ON_KERAS_3]


def main(argv: list[str]) -> int:
    names = argv or list(MUTANTS)
    unknown = [n for n in names if n not in MUTANTS]
    if unknown:
        print(f"mutants: error: unknown mutant {unknown[0]!r}; expected any of {', '.join(MUTANTS)}", file=sys.stderr)
        return 2
    code, failed, wall = run(None)
    print(f"baseline (no mutant): exit {code}, {len(failed)} claims failed, {wall:.0f} s", flush=True)
    if code != 0:
        print("  the unmutated spec must pass first: " + ", ".join(failed))
        return 1
    clean = run_check(None)
    if clean:
        print(f"  check_model must pass on the unmutated Keras first: {clean}")
        return 1
    caught, seen, errors = 0, set(), []
    for name in names:
        code, failed, wall = run(name)
        outcome = verdict(code, failed)
        caught += outcome == "CAUGHT"
        errors += [name] if outcome == "ERROR" else []
        print(f"\n{outcome:<8} {name}: {MUTANTS[name][0]} ({wall:.0f} s)", flush=True)
        for claim in failed:
            print(f"    caught by {claim}")
        if outcome == "SURVIVED":
            print(f"    exit code {code}: no claim failed")
        elif outcome == "ERROR":
            print(f"    exit code {code}: the mutant could not be applied or the spec did not run")
        rules = run_check(name)
        seen |= set(rules)
        print(
            "    check_model: "
            + (
                "; ".join(f"{rule} failed on {', '.join(models)}" for rule, models in rules.items()) or "no rule failed"
            ),
            flush=True,
        )
    print(f"\nmutation score: {caught}/{len(names)} = {100 * caught / len(names):.0f} %")
    if errors:
        print(f"mutants that could not run (an error, not a survivor): {', '.join(errors)}")
        return 1
    if set(names) != set(MUTANTS):
        return 0 if caught == len(names) else 1
    checked, never = never_seen_failing(seen)
    print(
        f"check_model rules seen failing against a mutant: {len(seen & set(checked))} of {len(checked)}"
        + (f"; never: {', '.join(never)}" if never else "")
        + "".join(f"\n    {rule}: cannot fail here: {why}" for rule, why in NEVER_FAILS_ON_KERAS_3.items())
    )
    return 0 if caught == len(names) and not never else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
