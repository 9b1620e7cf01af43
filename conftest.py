"""pytest set-up for the whole project: a report header naming the Keras under test, hypothesis
profiles, and a fresh Keras session for every test."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up notices, before it loads

import pytest
from hypothesis import HealthCheck, Phase, settings

from statefulness.workers import one_thread

one_thread()  # the backend trains on one thread, as `statefulness run` does: figures independent of the cores

from statefulness import _keras  # noqa: E402

pytest_plugins = ["spec.claims_report", "pytester"]

settings.register_profile(
    "dev",
    deadline=None,  # a first call traces a Keras function: slow once, not a regression
    max_examples=20,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True)
# The meta-test only needs to know that a claim fails against a mutant, not the smallest example.
settings.register_profile(
    "mutants", parent=settings.get_profile("ci"), phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False
)
settings.register_profile("thorough", parent=settings.get_profile("dev"), max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_addoption(parser):
    group = parser.getgroup("statefulness")
    group.addoption(
        "--claims-report",
        metavar="PATH",
        default=os.environ.get("STATEFULNESS_CLAIMS_REPORT"),
        help="write each claim's verdict, observed figures and the environment to PATH (JSON)",
    )
    group.addoption(
        "--full",
        action="store_true",
        help="learning claims: the tutorial's full schedules over SEEDS['full'] (slow)",
    )
    group.addoption(
        "--wide",
        action="store_true",
        help="breadth claims (marker 'wide'): every layer kind and model shape with as many hypothesis "
        "examples as the LSTM gets (the default tier draws a few per other shape)",
    )


def pytest_report_header(config):
    info = _keras.versions()
    lines = [f"statefulness spec: Keras {info['keras']} ({info['keras_package']}), backend {info['backend']}"]
    lines.append(
        "  " + ", ".join(f"{k} {v}" for k, v in info.items() if k not in ("keras", "keras_package", "backend"))
    )
    return lines


@pytest.fixture(autouse=True)
def fresh_keras_session():
    """Every test starts from a fresh Keras session (as Keras's own tests do)."""
    _keras.clear_session()
    yield
