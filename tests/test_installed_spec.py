"""The spec ships in the wheel: built, installed into a fresh virtual environment outside the checkout with
nothing but the Keras under test, and run from an empty directory by ``statefulness spec``, it states the
same claims as the checkout's ``spec/`` and passes its exact tier (every claim a pass or a known deviation).

Slow (it builds the wheel and installs the backend into a new environment), so it runs only with
``--installed``; ``.ci/run`` runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from statefulness.reports.claims_report import ClaimsReport

ROOT = Path(__file__).resolve().parent.parent

BACKEND_PACKAGES = ("tensorflow-cpu", "tensorflow", "tf-keras", "keras", "keras-nightly", "jax", "jaxlib", "torch")
"""The distributions that make up the Keras under test: installed beside the wheel at the versions found here."""

EXACT_TIER = "not learning"


@pytest.fixture(scope="module")
def installed(request, tmp_path_factory):
    """A fresh virtual environment with the built wheel and this environment's Keras and backend."""
    if not request.config.getoption("--installed"):
        pytest.skip("builds the wheel and installs the backend into a new environment (minutes): run with --installed")
    where = tmp_path_factory.mktemp("installed")
    run = lambda *args, **kwargs: subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)  # noqa: E731
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(where / "dist"), str(ROOT))
    (wheel,) = (where / "dist").glob("statefulness-*.whl")
    run(sys.executable, "-m", "venv", str(where / "venv"))
    python = where / "venv" / "bin" / "python"
    pins = []
    for name in BACKEND_PACKAGES:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    run(str(python), "-m", "pip", "install", "--quiet", str(wheel), *pins)
    return python


def _environment(python: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "STATEFULNESS_CLAIMS_REPORT")}
    env["PATH"] = f"{python.parent}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(python.parent.parent)
    env["CI"] = "1"  # hypothesis: the derandomised profile, as in the checkout's CI
    return env


def test_the_installed_spec_runs_from_an_empty_directory_states_the_checkouts_claims_and_passes_its_exact_tier(
    installed, tmp_path
):
    """``statefulness spec -m "not learning"`` in an empty directory runs the installed copy (not the
    checkout), prints the header naming the Keras under test, writes the claims report, and every claim of
    the checkout's exact tier is in it, as a pass or a known deviation (a fail makes it exit 1)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    env = _environment(installed)
    where = subprocess.run(
        [str(installed), "-c", "import statefulness.spec; print(statefulness.spec.__file__)"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.parent.parent), f"the spec was imported from {where}"

    result = subprocess.run(
        [str(installed.parent / "statefulness"), "spec", "-m", EXACT_TIER, "-p", "no:randomly"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "statefulness spec: Keras " in result.stdout

    (path,) = empty.glob("claims-keras*.json")
    claims = ClaimsReport.load(path).claims
    verdicts = {claim.test: claim.verdict for claim in claims}
    assert set(verdicts.values()) <= {"pass", "known deviation", "skipped"}
    assert "pass" in verdicts.values()
    assert len({claim.claim for claim in claims}) == len(claims) and all("::" not in c.claim for c in claims)

    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-m",
            EXACT_TIER,
            "-p",
            "no:randomly",
            "-n",
            "0",
            "spec",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    in_checkout = {line for line in collected if line.startswith("spec/")}
    assert in_checkout and set(verdicts) == in_checkout
