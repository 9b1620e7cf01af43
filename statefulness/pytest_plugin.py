"""The pytest plugin that runs the spec: what ``statefulness spec`` loads with ``-p``, and the project's
root ``conftest.py`` with ``pytest_plugins``, so the installed spec and a checkout's run the same way.

It gives the run a header naming the Keras under test, the options ``--claims-report``, ``--full`` and
``--wide``, the markers and warning filters of the spec, hypothesis profiles, one training thread, a fresh
Keras session per test, and the claims report (``statefulness/reports/claims_report.py``): one entry per claim (a
spec test's case) with its stable id (the test's ``claim`` marker), its test, its verdict, the figures it was
judged on, its chapter and docstring, and the environment. A spec test without a ``claim`` marker, or two
tests of one claim, stop the run at collection.

It runs in the controlling process under xdist too (which collects nothing itself: the workers send it
their reports, which carry each claim's id and properties).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up notices, before it loads

import pytest  # noqa: E402
from hypothesis import HealthCheck, Phase, settings  # noqa: E402

from statefulness.experiments.workers import one_thread  # noqa: E402

one_thread()  # the backend trains on one thread, as `statefulness run` does: figures independent of the cores

from statefulness import __version__, _versions  # noqa: E402
from statefulness.reports.claims_report import ClaimEntry, ClaimsReport  # noqa: E402
from statefulness.verdict import Verdict  # noqa: E402

MARKERS = (
    "claim(id): the claim's stable id, <chapter>/<claim> (what the claims report and the documents name it by)",
    "full: the tutorial's exact schedules (slow; run with -m full)",
    "learning: trains a model on the tutorial's problem",
    "wide: an exact claim run over every kind of model of statefulness/check/kinds.py (more examples with --wide)",
)

WARNING_FILTERS = (
    "error",
    # Keras 2 names layers with random.randrange on a float (keras/src/backend.py, unique_object_name).
    "ignore:non-integer arguments to randrange:DeprecationWarning",
    # Keras 3 converts tensors and variables with np.array(x) (backend/*/core.py convert_to_numpy,
    # KerasVariable.__array__), which NumPy 2 warns about for __array__ methods without a copy argument.
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning",
    # matplotlib < 3.9 (for TensorFlow 2.12-2.13) calls pyparsing 3.3's deprecated camelCase names.
    "ignore:'parseString' deprecated",
    "ignore:'resetCache' deprecated",
    "ignore:'enablePackrat' deprecated",
    # Keras's JAX export (keras/src/backend/jax/export.py) passes jax2tf an argument that JAX deprecates.
    "ignore:The `native_serialization` parameter is deprecated:DeprecationWarning",
)
"""Every warning is an error in the spec, except these (later lines take precedence, as in an ini file)."""

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
        help="write each claim's verdict, observed figures and the environment to PATH (JSON; {keras} and "
        "{backend} in PATH are filled in)",
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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadgroup``: :class:`SharedFixtureScheduling`."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class SharedFixtureScheduling(LoadScopeScheduling):
        """xdist's scheduling by scope, with a test's scope its :func:`shared_fixture_group` as the
        workers found it (their ``<workerid>.json`` under ``workerinput[GROUPS]``), or the test itself.

        The scopes that train (a test marked ``learning``) are handed out first, in xdist's order among
        them (the larger first, then as collected), and then the others: training is what takes long, and
        a long test handed out last kept one worker busy while the other had nothing left to run."""

        groups: dict[str, str] | None = None
        training: set[str] = set()
        ordered = False

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                found = [json.loads(f.read_text()) for f in sorted(Path(config.stash[_GROUPS_FOLDER]).glob("*.json"))]
                self.groups = {k: v for f in found for k, v in f["groups"].items()}
                self.training = {nodeid for f in found for nodeid in f["training"]}
            return self.groups.get(nodeid, nodeid)

        def _assign_work_unit(self, node) -> None:
            if not self.ordered:  # the first hand-out: the work queue is complete
                self.ordered = True
                training = [scope for scope, unit in self.workqueue.items() if self.training.intersection(unit)]
                for scope in reversed(training):
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return SharedFixtureScheduling(config, log)


_GROUPS_FOLDER = pytest.StashKey[str]()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """The controller gives each worker the folder where it writes the groups it found."""
    if _GROUPS_FOLDER not in node.config.stash:
        node.config.stash[_GROUPS_FOLDER] = tempfile.mkdtemp(prefix="statefulness-groups-")
    node.workerinput[GROUPS] = node.config.stash[_GROUPS_FOLDER]


def pytest_unconfigure(config):
    if _GROUPS_FOLDER in config.stash:
        shutil.rmtree(config.stash[_GROUPS_FOLDER], ignore_errors=True)


def pytest_configure(config):
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    for line in WARNING_FILTERS:  # after any of an ini file's: the spec's own filters take precedence
        config.addinivalue_line("filterwarnings", line)


def environment() -> dict[str, str]:
    """The versions under test: the imported Keras's where this process loaded it, else read without
    loading it (the controller of an xdist run, whose workers load it; a run whose tests need no Keras)."""
    if "statefulness._keras" in sys.modules:
        return sys.modules["statefulness._keras"].versions()
    return _versions.versions()


def pytest_report_header(config):
    info = environment()
    lines = [f"statefulness spec: Keras {info['keras']} ({info['keras_package']}), backend {info['backend']}"]
    lines.append(
        "  " + ", ".join(f"{k} {v}" for k, v in info.items() if k not in ("keras", "keras_package", "backend"))
    )
    return lines


@pytest.fixture(autouse=True)
def fresh_keras_session():
    """Every test starts from a fresh Keras session (as Keras's own tests do), once Keras is loaded (every
    spec module loads it; the pytest machinery's example tests need none)."""
    if "statefulness._keras" in sys.modules or "keras" in sys.modules or "tf_keras" in sys.modules:
        from statefulness import _keras

        _keras.clear_session()
    yield


def spec_node_id(item) -> str | None:
    """A spec test's node id, the same wherever the spec lies (a checkout's ``spec/``, or the installed
    ``statefulness/spec/``): ``spec/<file>::<test>[<params>]``. None for a test that is not the spec's."""
    path = Path(str(getattr(item, "path", "")))
    if path.parent.name != "spec" or not path.name.startswith("test_"):
        return None
    return f"spec/{path.name}::{item.nodeid.partition('::')[2]}"


def claim_id(item) -> str | None:
    """A spec test's claim id, stable across renames: its ``@pytest.mark.claim("<chapter>/<claim>")`` and
    its parameters, ``<chapter>/<claim>[<params>]``. None for a test that is not the spec's; a spec test
    without the marker is a usage error that names it."""
    test = spec_node_id(item)
    if test is None:
        return None
    marker = item.get_closest_marker("claim")
    if marker is None or len(marker.args) != 1 or not isinstance(marker.args[0], str) or not marker.args[0]:
        raise pytest.UsageError(
            f"{item.nodeid.partition('[')[0]}: a spec test names the claim it states, "
            '@pytest.mark.claim("<chapter>/<claim>") above its def (statefulness/reports/claims_report.py)'
        )
    _, bracket, params = test.partition("[")
    return marker.args[0] + bracket + params


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every spec test records its node id for the claims report (its claim id: ``spec/conftest.py``); a
    spec test without a ``claim`` marker, or two tests of one claim id, stop the run here, named."""
    errors: list[str] = []
    tests: dict[str, str] = {}
    for item in items:
        test = spec_node_id(item)
        try:
            claim = claim_id(item)
        except pytest.UsageError as error:
            errors.append(str(error))
            continue
        if test is None or claim is None:
            continue
        function, stated = test.partition("[")[0], claim.partition("[")[0]
        if tests.setdefault(stated, function) != function:
            errors.append(f"{function}: claim {stated!r} is the claim of {tests[stated]} already")
        item.user_properties.append(("test", test))
    if errors:
        raise pytest.UsageError("\n".join(dict.fromkeys(errors)))
    worker = getattr(config, "workerinput", {})
    # an xdist worker: it tells the controller's scheduler which tests go together, and which train
    if GROUPS in worker:
        found = {item.nodeid: group for item in items if (group := shared_fixture_group(item)) is not None}
        training = [item.nodeid for item in items if item.get_closest_marker("learning")]
        written = Path(worker[GROUPS]) / f"{worker['workerid']}.json"
        written.with_suffix(".part").write_text(json.dumps({"groups": found, "training": training}))
        written.with_suffix(".part").replace(written)


GROUPS = "statefulness_groups"
"""The key of xdist's ``workerinput`` that names the folder where each worker writes the groups it found."""


def shared_fixture_group(item) -> str | None:
    """The worker group of a test that uses one of the project's fixtures made once for many tests (of
    module, class or session scope: the trained outcomes of a learning chapter, chapter 24's runs, the
    LiteRT conversion) or that is no Python function (the examples of a document, run in order in one
    namespace), or None for a test that needs nothing but itself.

    Under ``--dist loadgroup`` (the project's ``-n 2`` and ``statefulness spec``) the tests of one group go
    to one worker, so that such a fixture is made once, and every other test on its own, to whichever
    worker is free: the two workers stay busy to the end, where one file at a time left one idle while
    the other ran a long file. The group is the test's file, so a file's learning claims share one
    training (each learning chapter's recipe is trained for its own file only). (xdist's own
    ``xdist_group`` marker renames the node id, which pytest 9.2's node ids no longer allow:
    :class:`SharedFixtureScheduling` groups by node id instead.)"""
    file = item.nodeid.partition("::")[0]
    if not isinstance(item, pytest.Function):  # a document's examples (sybil): they share its namespace, in order
        return file
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    for name in item.fixturenames:
        for definition in info.name2fixturedefs.get(name, ()):
            if definition.scope != "function" and definition.baseid:  # a conftest's or a module's, not a plugin's
                return file
    return None


_RESULTS: dict[str, ClaimEntry] = {}
_DESCRIPTIVE = ("test", "chapter", "doc", "markers", "deviation", "deviation_id", "consequence")


def pytest_runtest_logreport(report):
    properties = dict(report.user_properties)
    claim = properties.get("claim")
    if claim is None:
        return
    entry = _RESULTS.get(claim)
    if entry is None:
        entry = _RESULTS[claim] = ClaimEntry(claim=claim, test=properties.get("test", claim), verdict=Verdict.PASS)
    for key, value in report.user_properties:
        if key in _DESCRIPTIVE:
            setattr(entry, key, value)
        elif key != "claim":
            entry.observed[key] = value
    if report.when == "call" or report.outcome != "passed":
        if hasattr(report, "wasxfail"):
            verdict = Verdict.KNOWN_DEVIATION if report.skipped else Verdict.FAIL  # a strict xpass fails
        elif report.skipped:
            verdict = Verdict.SKIPPED
        elif report.failed:
            verdict = Verdict.FAIL
        else:
            verdict = Verdict.PASS
        if entry.verdict != Verdict.FAIL:
            entry.verdict = verdict
        entry.duration_s = round((entry.duration_s or 0) + report.duration, 3)


def _commit() -> str | None:
    """The commit of the statefulness checkout this package was imported from or installed into (``tox``
    installs it under the checkout's ``.tox/``); None elsewhere, also inside another project's repository."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or len(out.stdout.split()) != 2:
        return None
    top, commit = out.stdout.split()
    ours = (Path(top) / "spec" / "conftest.py").is_file() and (
        Path(top) / "statefulness" / "pytest_plugin.py"
    ).is_file()
    return commit if ours else None


_STARTED = pytest.StashKey[float]()
_WORKER_ENVIRONMENT = pytest.StashKey[dict]()
_ENVIRONMENT = "statefulness_environment"
"""The key of xdist's ``workeroutput`` under which a worker sends the controller the versions it ran."""


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """The controller takes the environment of the claims report from a worker, which loaded the Keras under
    test (the controller did not: :func:`_environment`)."""
    environment = getattr(node, "workeroutput", {}).get(_ENVIRONMENT)
    if environment:
        node.config.stash[_WORKER_ENVIRONMENT] = environment


def pytest_sessionstart(session):
    session.config.stash[_STARTED] = time.perf_counter()


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput[_ENVIRONMENT] = environment()
    path = session.config.getoption("--claims-report")
    if not path or hasattr(session.config, "workerinput") or session.config.option.collectonly:
        return  # a worker sends its results to the controller; a collection runs no claim
    if exitstatus == pytest.ExitCode.USAGE_ERROR:
        return  # no claim ran (a spec test without its claim's id, say): the previous report stays
    versions = session.config.stash.get(_WORKER_ENVIRONMENT, None) or environment()
    path = path.replace("{keras}", versions["keras"]).replace("{backend}", versions["backend"])
    ClaimsReport(
        environment=versions
        | {"platform": platform.platform(), "env": os.environ.get("TOX_ENV_NAME", ""), "statefulness": __version__},
        commit=_commit(),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        wall_s=round(time.perf_counter() - session.config.stash.get(_STARTED, time.perf_counter()), 1),
        claims=sorted(_RESULTS.values(), key=lambda e: e.claim),
    ).dump(path)  # never a half-written report
    session.config.stash[_WRITTEN] = str(path)


_WRITTEN = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, config):
    if _WRITTEN in config.stash:
        terminalreporter.write_line(f"claims report: {config.stash[_WRITTEN]}")
