"""The upstream bug reports under docs/upstream/ stay true: each one's reproducer still fails where its
known deviation shows, and passes where the deviation does not show.

A report names its deviation (``Deviation: <id>``) and holds one ``python`` block that asserts the
expected behaviour. Where the registry says the deviation shows (``Deviation.covers``), the block must
fail, with an ``AssertionError`` or the deviation's own exception; a pass means Keras fixed it, and the
registry and the report are due an update. On the same Keras major version without the deviation (another
backend of a backend-specific report), the block must pass: it shows the expected behaviour. A report for
the other major version is skipped.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from statefulness._keras import BACKEND, KERAS_MAJOR, KERAS_VERSION, clear_session, random_state, restore_random_state
from statefulness.deviations import DEVIATIONS, Deviation

REPORTS = sorted((Path(__file__).resolve().parent.parent / "docs" / "upstream").glob("*.md"))
MAX_LINES = 20
SECTIONS = ("Reproducer", "What happens", "What was expected", "Cause", "Versions")
UPSTREAM = r"https://github\.com/(keras-team/[\w-]+|google-ai-edge/LiteRT)/issues/new"
"""Where a report is filed: a repository of Keras, or LiteRT's (the TFLite runtime's home since TF 2.20)."""
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _field(text: str, name: str) -> str | None:
    found = re.search(rf"^{name}: (.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else None


def _blocks(text: str) -> list[str]:
    return BLOCK.findall(text)


def _deviation(report: Path) -> Deviation:
    name = _field(report.read_text(), "Deviation")
    found = next((deviation for deviation in DEVIATIONS if deviation.id == name), None)
    assert found is not None, f"{report.name}: no known deviation {name!r} in statefulness/deviations/registry.py"
    return found


def _majors(deviation: Deviation) -> set[int]:
    """The Keras major versions that the deviation's range reaches (its report targets those)."""
    specifiers = [SpecifierSet(part.strip()) for part in deviation.keras.split("|")]
    pinned = {int(major) for major in re.findall(r"==\s*(\d+)\.", deviation.keras)}  # one (pre-)release
    return pinned | {
        major
        for major in (2, 3)
        for minor in range(100)
        for patch in (0, 9)
        if any(Version(f"{major}.{minor}.{patch}") in spec for spec in specifiers)
    }


def _run(block: str, report: Path) -> BaseException | None:
    """Run the reproducer as a script of its own; what it raised, if anything."""
    clear_session()
    saved = random_state()  # a reproducer may seed the global generators
    try:
        exec(compile(block, str(report), "exec"), {"__name__": "__main__"})
    except Exception as raised:  # noqa: BLE001 - the caller judges what was raised
        return raised
    finally:
        restore_random_state(saved)
        clear_session()
    return None


CRASHES = "statefulness.deploy.litert.ConverterCrashed"
"""How a deviation fails that aborts the process it happens in (the spec runs that step in a child process;
a reproducer runs in the test's own, so it is not run where such a deviation shows)."""


def _fails_the_same_claim_first(deviation: Deviation, raised: BaseException | str | None) -> Deviation | None:
    """Another known deviation of this Keras that fails a claim of ``deviation``'s and explains ``raised``
    (e.g. the layer cannot even be built here): the reproducer cannot show the expected behaviour."""
    if raised is None:
        return None
    claims = {covers.test for covers in deviation.tests}
    for other in DEVIATIONS:
        if (
            other is not deviation
            and other.covers(KERAS_VERSION, BACKEND)
            and claims & {covers.test for covers in other.tests}
            and other.explains(raised)
        ):
            return other
    return None


def test_there_are_reports_to_check():
    assert REPORTS, "no report under docs/upstream/"


@pytest.mark.parametrize("report", REPORTS, ids=lambda path: path.stem)
def test_every_report_names_a_known_deviation_and_where_to_file_it(report):
    text = report.read_text()
    assert text.startswith("# "), f"{report.name}: the first line is not the title"
    _deviation(report)
    assert re.fullmatch(UPSTREAM, _field(text, "File at") or ""), (
        f"{report.name}: no 'File at: https://github.com/<keras-team/repo or google-ai-edge/LiteRT>/issues/new' line"
    )
    missing = [section for section in SECTIONS if not re.search(rf"^## {section}$", text, re.MULTILINE)]
    assert not missing, f"{report.name}: sections missing: {missing}"


@pytest.mark.parametrize("report", REPORTS, ids=lambda path: path.stem)
def test_every_report_has_one_reproducer_of_at_most_twenty_lines(report):
    blocks = _blocks(report.read_text())
    assert len(blocks) == 1, f"{report.name}: {len(blocks)} python blocks, not one"
    lines = blocks[0].rstrip("\n").splitlines()
    assert len(lines) <= MAX_LINES, f"{report.name}: the reproducer has {len(lines)} lines, more than {MAX_LINES}"


@pytest.mark.parametrize("report", REPORTS, ids=lambda path: path.stem)
def test_every_reproducer_fails_where_its_deviation_shows_and_passes_elsewhere_on_the_same_keras(report):
    deviation = _deviation(report)
    (block,) = _blocks(report.read_text())
    here = f"Keras {KERAS_VERSION} on {BACKEND}"
    crash = _fails_the_same_claim_first(deviation, CRASHES)
    if crash is not None:
        pytest.skip(f"{report.name} is not run on {here}: {crash.id!r} would abort this process first")
    missing = [
        name for name in re.findall(r"^import (\w+)", block, re.MULTILINE) if importlib.util.find_spec(name) is None
    ]
    if missing:
        pytest.skip(f"{report.name} needs {', '.join(missing)}, which {here} does not install")
    if deviation.backends == ("tensorflow",) and BACKEND != "tensorflow" and "import tensorflow" in block:
        pytest.skip(f"{report.name} runs TensorFlow over a TensorFlow-backed model, not a {BACKEND} one")
    if deviation.covers(KERAS_VERSION, BACKEND):
        raised = _run(block, report)
        if raised is None:
            pytest.fail(
                f"{report.name} no longer reproduces on {here} ({deviation.id!r}): fixed upstream? "
                "update the registry and the report"
            )
        expected = deviation.raises.rpartition(".")[2]
        if not isinstance(raised, AssertionError) and type(raised).__name__ != expected:
            raise raised  # a failure, but not the one the report describes
    elif KERAS_MAJOR in _majors(deviation):
        raised = _run(block, report)
        first = _fails_the_same_claim_first(deviation, raised)
        if first is not None:
            pytest.skip(f"{report.name} cannot show the expected behaviour on {here}: {first.id!r} fails first")
        if raised is not None:
            raise AssertionError(
                f"{report.name} fails on {here}, where {deviation.id!r} is not known to show: "
                "the reproducer shows the expected behaviour here, or the registry's range is wrong"
            ) from raised
    else:
        pytest.skip(f"{report.name} is a report for Keras {'/'.join(map(str, sorted(_majors(deviation))))}; {here}")
