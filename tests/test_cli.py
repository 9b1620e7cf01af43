"""The command line: bad arguments get one line and exit status 2; reports round-trip."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statefulness import cli
from statefulness.experiments import EXPERIMENTS


def test_run_help_lists_every_experiment_without_loading_keras():
    script = (
        "import contextlib, io, sys\n"
        "from statefulness import cli\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit): cli.main(['run', '--help'])\n"
        "print(out.getvalue()); print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "any of " + ", ".join(EXPERIMENTS) in " ".join(proc.stdout.split())
    assert proc.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    "argv, words",
    [
        (["run", "two_char"], "unknown experiment 'two_char'"),
        (["run", "--seed", "-1"], "argument --seed: expected a non-negative integer, got '-1'"),
        (["run", "--seed", "x"], "argument --seed: expected a non-negative integer, got 'x'"),
        (["run", "--jobs", "0"], "argument --jobs: expected a positive integer, got '0'"),
        (["run", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        ([], "the following arguments are required: command"),
        (["matrix"], "the following arguments are required: REPORT"),
        (["matrix", "missing.json"], "missing.json"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_status_2(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        code = cli.main(argv)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1, err


def test_python_dash_m_runs_the_same_command_line():
    proc = subprocess.run([sys.executable, "-m", "statefulness", "run", "nope"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "statefulness: error: unknown experiment 'nope'; expected any of " + ", ".join(EXPERIMENTS)
    ]


def _report(tmp_path, name, verdict, keras="3.15.1"):
    path = tmp_path / f"{name}.json"
    path.write_text(
        json.dumps(
            {
                "format": "statefulness-claims/2",
                "environment": {
                    "python": "3.11",
                    "keras": keras,
                    "backend": "tensorflow",
                    "tensorflow": "2.21.0",
                    "env": name,
                },
                "claims": [
                    {
                        "claim": "x/a",
                        "test": "spec/test_03_x.py::test_a",
                        "verdict": verdict,
                        "observed": {"rows": 4},
                        "chapter": "Chapter 3.",
                        "doc": "A claim.",
                        **({"deviation": "Known deviation (why)."} if verdict == "known deviation" else {}),
                    },
                    {"claim": "x/b", "test": "spec/test_03_x.py::test_b", "verdict": "pass", "observed": {}},
                ],
            }
        )
    )
    return path


def test_matrix_tabulates_and_compare_shows_only_what_changed(tmp_path, capsys):
    old, new = _report(tmp_path, "old", "pass", "2.15.0"), _report(tmp_path, "new", "known deviation")
    assert cli.main(["matrix", str(old), str(new)]) == 0
    table = capsys.readouterr().out
    assert "| x/a | pass (rows=4) | deviation (rows=4) |" in table
    assert "## Known deviations" in table and "   - `x/a` (`spec/test_03_x.py::test_a`): new" in table
    for selection in ("test_b", "x/b"):  # by its test or by its claim id
        assert cli.main(["matrix", "--select", selection, "--no-deviations", str(old), str(new)]) == 0
        selected = capsys.readouterr().out
        assert "| x/b |" in selected and "| x/a |" not in selected and "Known deviations" not in selected
    assert cli.main(["matrix", "--select", "nothing", str(old)]) == 2
    assert "--select: no claim contains any of 'nothing'" in capsys.readouterr().err
    assert cli.main(["matrix", "--compare", str(old), str(new)]) == 0
    changes = capsys.readouterr().out
    assert "| x/a |" in changes and "| x/b |" not in changes


def test_compare_lines_up_a_report_of_the_format_before_with_one_of_now_by_stable_id(tmp_path, capsys):
    """A report of the format before (its claims named by their tests' node ids) and one of now line up by
    the claims' stable ids (claim_ids_before.json): only the claim whose verdict changed is shown."""
    before = {"python": "3.11", "keras": "3.13.2", "backend": "tensorflow", "env": "before"}
    reset = "spec/test_05_reset.py::test_outputs_repeat_after_a_reset"
    rows = "spec/test_04_state_within_a_batch.py::test_rows_of_a_batch_share_no_state"
    old = tmp_path / "before.json"
    old.write_text(
        json.dumps(
            {
                "environment": before,
                "claims": [
                    {"claim": reset, "verdict": "pass", "observed": {}},
                    {"claim": f"{rows}[stateful]", "verdict": "pass", "observed": {}},
                ],
            }
        )
    )
    new = tmp_path / "after.json"
    new.write_text(
        json.dumps(
            {
                "format": "statefulness-claims/2",
                "environment": before | {"keras": "3.15.1", "env": "after"},
                "claims": [
                    {"claim": "reset/outputs-repeat-after-a-reset", "test": reset, "verdict": "fail"},
                    {
                        "claim": "state-within-a-batch/rows-of-a-batch-share-no-state[stateful]",
                        "test": f"{rows.replace('test_rows', 'test_the_rows')}[stateful]",  # renamed since
                        "verdict": "pass",
                    },
                ],
            }
        )
    )
    assert cli.main(["matrix", "--compare", str(old), str(new)]) == 0
    changes = capsys.readouterr().out
    assert "| reset/outputs-repeat-after-a-reset | pass | **FAIL** |" in changes
    assert "rows-of-a-batch" not in changes and "::" not in changes


def test_spec_doc_renders_claims_by_chapter(tmp_path, capsys):
    assert cli.main(["spec-doc", str(_report(tmp_path, "r", "pass"))]) == 0
    out = capsys.readouterr().out
    assert "## 03 x" in out and "**pass** `a`: A claim." in out and "observed rows: 4" in out


def test_a_file_that_is_not_a_report_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert cli.main(["matrix", str(bad)]) == 2
    assert "not a claims report" in capsys.readouterr().err


@given(st.text(min_size=1, max_size=12).filter(lambda t: t not in EXPERIMENTS and not t.startswith("-")))
def test_any_unknown_experiment_name_gets_one_line_and_exit_status_2(name):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert cli.main(["run", name]) == 2
    assert len(stderr.getvalue().strip().splitlines()) == 1


@pytest.mark.learning
def test_run_prints_the_claims_table_and_writes_json_and_a_report(tmp_path, capsys):
    """The main job end to end on a quick recipe: table, JSON with versions, Markdown and a plot.

    The recipe is `within_batch` (stateless, batch = the whole alphabet), whose claims hold on every backend;
    the stateful recipe's claims fail where `fit` does not carry state (the spec's known deviations).
    """
    code = cli.main(["run", "within_batch", "--json", str(tmp_path / "out.json"), "--report", str(tmp_path / "rep")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "within_batch_learns" in out and "holds" in out
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["environment"]["keras"] and {v["claim"] for v in data["verdicts"]} == {"within_batch_learns"}
    assert data["outcomes"][0]["figures"]["random"] == len(data["outcomes"][0]["details"]["random_patterns"]) == 20
    assert (tmp_path / "rep" / "report.md").read_text().count("| within_batch_") == 1
    assert (tmp_path / "rep" / "within_batch.png").stat().st_size > 1000


def test_the_matrix_picture_folds_each_tests_cases_into_one_verdict_per_environment():
    from statefulness.reports.claims_report import ClaimEntry, ClaimsReport
    from statefulness.reports.matrix import verdict_grid
    from statefulness.verdict import Verdict

    def report(env, verdicts):
        claims = [
            ClaimEntry(claim=f"x/{name}", test=f"spec/test_05_x.py::test_{name}", verdict=Verdict(v))
            for name, v in verdicts.items()
        ]
        return ClaimsReport({"keras": "3.15.1", "backend": "tensorflow", "env": env}, claims, path=env)

    rows, envs, grid = verdict_grid(
        [
            report("one", {"a[1]": "pass", "a[2]": "known deviation", "b": "pass", "c[1]": "fail", "c[2]": "pass"}),
            report("two", {"a[1]": "known deviation", "a[2]": "known deviation", "c[1]": "skipped"}),
        ]
    )
    assert rows == ["x/a", "x/b", "x/c"]
    assert envs == ["one · Keras 3.15.1", "two · Keras 3.15.1"]
    assert grid == [
        ["known deviation (some cases)", "known deviation"],
        ["pass", "not run"],
        ["fail", "not run"],
    ]


def test_matrix_png_draws_the_picture_and_does_not_go_with_compare(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    old, new = _report(tmp_path, "old", "pass", "2.15.0"), _report(tmp_path, "new", "known deviation")
    assert cli.main(["matrix", str(old), str(new), "--png", str(tmp_path / "m.png")]) == 0
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli.main(["matrix", "--compare", str(old), str(new), "--png", str(tmp_path / "c.png")]) == 2
    assert "--png draws the whole matrix" in capsys.readouterr().err
    assert not (tmp_path / "c.png").exists()
