"""pytest plugin: the claims report, one entry per claim (spec test) with its verdict, the figures it
was judged on, its chapter and docstring, and the environment; written by ``--claims-report PATH``.

Registered from the root ``conftest.py`` so that it runs in the controlling process under xdist too
(which collects nothing itself: workers send it their reports).
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from statefulness import _keras

_RESULTS: dict[str, dict] = {}
_DESCRIPTIVE = ("chapter", "doc", "deviation", "consequence")


def pytest_runtest_logreport(report):
    if not report.nodeid.startswith("spec/"):
        return
    entry = _RESULTS.setdefault(report.nodeid, {"claim": report.nodeid, "verdict": "pass", "observed": {}})
    for key, value in report.user_properties:
        if key in _DESCRIPTIVE:
            entry[key] = value
        else:
            entry["observed"][key] = value
    if report.when == "call" or report.outcome != "passed":
        if hasattr(report, "wasxfail"):
            verdict = "known deviation" if report.skipped else "fail"  # a strict xpass fails
        elif report.skipped:
            verdict = "skipped"
        elif report.failed:
            verdict = "fail"
        else:
            verdict = "pass"
        if entry["verdict"] != "fail":
            entry["verdict"] = verdict
        entry["duration_s"] = round(entry.get("duration_s", 0) + report.duration, 3)


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--claims-report")
    if not path or hasattr(session.config, "workerinput"):
        return
    report = {
        "environment": _keras.versions() | {"platform": platform.platform(), "env": os.environ.get("TOX_ENV_NAME", "")},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "claims": sorted(_RESULTS.values(), key=lambda e: e["claim"]),
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=2, default=str) + "\n")
