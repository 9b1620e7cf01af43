"""pytest set-up for the whole project: the spec's plugin (the header naming the Keras under test, the
options, markers and warning filters, hypothesis profiles, a fresh Keras session for every test and the
claims report: ``statefulness/pytest_plugin.py``, which ``statefulness spec`` loads too), pytester, and the
spec as a new interpreter collects it (``spec_collection``, for the library's tests of the spec itself)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest_plugins = ["statefulness.pytest_plugin", "pytester"]

_COLLECT_SPEC = """
import json, sys
import pytest
from statefulness.pytest_plugin import claim_id

class Collect:
    items = []

    def pytest_collection_finish(self, session):
        for item in session.items:
            test, markers = f"{item.path.name}::{item.originalname}", [list(m.args) for m in item.iter_markers("claim")]
            self.items.append({"claim": claim_id(item), "test": test, "markers": markers})

collect = Collect()
code = pytest.main(["spec", "--collect-only", "-qq", "-n", "0", "-p", "no:randomly"], plugins=[collect])
print("SPEC " + json.dumps(collect.items))
sys.exit(code)
"""


@pytest.fixture(scope="session")
def spec_collection(tmp_path_factory) -> list[dict]:
    """Every test of ``spec/`` as pytest collects it, all of it (this run may select only some), in a new
    interpreter: per test its claim id with its parameters (``claim``), ``file::function`` (``test``) and the
    args of its ``claim`` markers (``markers``). Collected once per run: under xdist the first worker that
    needs it writes it where the other finds it (the run's shared temporary folder)."""
    folder = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        folder = folder.parent  # the run's, above each worker's own
    result, lock = folder / "spec-collection.json", folder / "spec-collection.lock"
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL))
    except FileExistsError:  # another worker collects: wait for what it writes
        deadline = time.monotonic() + 600
        while not result.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    else:
        root = Path(__file__).resolve().parent
        proc = subprocess.run([sys.executable, "-c", _COLLECT_SPEC], cwd=root, capture_output=True, text=True)
        found = proc.stdout.split("SPEC ", 1)[1] if proc.returncode == 0 and "SPEC " in proc.stdout else "null"
        written = folder / f"spec-collection.{os.getpid()}"  # whole or not at all, for the worker that waits
        written.write_text(json.dumps({"items": found, "output": proc.stdout[-2000:] + proc.stderr[-2000:]}))
        written.replace(result)
    collected = json.loads(result.read_text())
    items = json.loads(collected["items"])
    assert items is not None and len(items) > 100, f"the spec's collection failed:\n{collected['output']}"
    return items


def pytest_addoption(parser):
    parser.getgroup("statefulness").addoption(
        "--installed",
        action="store_true",
        help="also build the wheel, install it into a fresh virtual environment and run the installed spec "
        "(tests/test_installed_spec.py; minutes)",
    )
