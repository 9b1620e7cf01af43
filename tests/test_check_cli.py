"""``statefulness check`` on the command line, records before and after an upgrade, and the rules as a
user's own pytest cases (``statefulness.testing.parametrize_with_rules``)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from statefulness import check_model
from statefulness._keras import BACKEND, KERAS_MAJOR, SAVED_MODEL_EXPORT, keras
from statefulness.check import EXAMPLES, RULES, kinds
from statefulness.cli import main
from statefulness.rule_ids import DEPLOYMENT_RULE_IDS

ROOT = Path(__file__).resolve().parent.parent


def shape_model(shape_id: str):
    shape = kinds.BY_ID[shape_id]
    model = shape.build(kinds.BATCH)
    shape.set_weights(model, 0)
    return model


def _cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["check", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_prints_the_environment_first_and_a_line_per_rule_and_exits_by_the_verdicts(capsys, tmp_path):
    code, out, _ = _cli(capsys, "--example", "stacked-gru-lstm", "--json", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    lines = out.splitlines()
    assert lines[0].startswith(f"statefulness check: Keras {keras.__version__}") and BACKEND in lines[0]
    assert all(any(line.startswith(rule) for line in lines) for rule in RULES if rule not in DEPLOYMENT_RULE_IDS)
    assert not any(line.startswith("exported-") for line in lines), "the deployment rules ran without --deploy"
    known = [r["rule"] for r in report["results"] if r["verdict"] == "known deviation"]
    assert code == (1 if known else 0)
    if known:  # the rules whose known deviations set the exit status, with --allow-known: 0
        assert _cli(capsys, "--example", "stacked-gru-lstm", "--allow-known", "--rules", *known)[0] == 0


def test_check_runs_a_deployment_rule_named_by_rules(capsys):
    """``--rules`` names a deployment rule (``--deploy`` adds them all): it writes that route's artifact."""
    rule = "exported-starts-from-zero[statefulness.export()]"
    code, out, _ = _cli(capsys, "--example", "stacked-gru-lstm", "--rules", rule)
    (line,) = [line for line in out.splitlines() if line.startswith("exported-")]
    verdict = "not applicable" if SAVED_MODEL_EXPORT else "pass"
    assert line.split()[:2] == [rule, *verdict.split()[:1]] and code == 0


ONE_RULE = ("--allow-known", "--rules", "carries-state[direct call]")
"""What the record tests below run (one rule, known deviations allowed): the outputs and states a record
holds do not depend on the rules run, and a rule not run again compares as unchanged."""


def test_a_record_compares_equal_on_the_same_model_and_flags_changed_weights(capsys, tmp_path):
    model = EXAMPLES["stacked-gru-lstm"]()
    model.save(tmp_path / "model.keras")
    code, out, _ = _cli(capsys, tmp_path / "model.keras", "--record", tmp_path / "record.json", *ONE_RULE)
    assert code == 0 and "recorded to" in out
    code, out, _ = _cli(capsys, tmp_path / "model.keras", "--against", tmp_path / "record.json", *ONE_RULE)
    assert code == 0 and "no change" in out

    weights = model.get_weights()
    weights[0] = weights[0] + 0.01  # the first GRU's kernel
    model.set_weights(weights)
    model.save(tmp_path / "changed.keras")
    code, out, _ = _cli(capsys, tmp_path / "changed.keras", "--against", tmp_path / "record.json", *ONE_RULE)
    assert code == 1
    assert "output of batch 1: max |diff|" in out and "state 1 after the batches" in out


@pytest.mark.skipif(KERAS_MAJOR < 3, reason="the mutants patch Keras 3")
def test_a_record_made_under_a_broken_keras_is_flagged_on_a_sound_one(capsys, tmp_path):
    record = tmp_path / "broken.json"
    script = (
        "from mutants import MUTANTS; MUTANTS['state_not_carried'][1](); from statefulness.cli import main; "
        f"main(['check', '--example', 'stacked-gru-lstm', '--record', {str(record)!r}, *{list(ONE_RULE)!r}])"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True)
    code, out, _ = _cli(capsys, "--example", "stacked-gru-lstm", "--against", record, *ONE_RULE)
    assert code == 1
    assert "carries-state[direct call]: fail -> pass" in out
    assert "output of batch 2: max |diff|" in out


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "expected a saved MODEL or --example NAME"),
        (("no-such.keras",), "MODEL: no-such.keras is not a file"),
        (("pyproject.toml",), "MODEL: could not load a Keras model from pyproject.toml"),
        (("--example", "tutorial", "--against", "pyproject.toml"), "--against: pyproject.toml is not JSON"),
        (("--example", "tutorial", "--against", "tests/test_check.py"), "--against: tests/test_check.py is not JSON"),
        (("--example", "tutorial", "--rules", "nope"), "rules: unknown rule 'nope'"),
        (("--example", "tutorial", "--custom-objects", "no_such_module"), "--custom-objects: cannot import"),
    ],
)
def test_bad_input_to_check_is_one_line_and_exit_status_2(capsys, monkeypatch, args, message):
    monkeypatch.chdir(ROOT)
    code, out, err = _cli(capsys, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_a_record_of_another_model_is_refused(capsys, tmp_path):
    _cli(capsys, "--example", "stacked-gru-lstm", "--record", tmp_path / "record.json", *ONE_RULE)
    code, _, err = _cli(capsys, "--example", "tutorial", "--against", tmp_path / "record.json", *ONE_RULE)
    assert code == 2 and "record: made from another model: its input was [3, None, 2]" in err


USERS_LAYERS = """
from statefulness import keras


class Scale(keras.layers.Layer):
    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
"""


def test_custom_objects_come_from_a_module_of_the_users_layers(capsys, tmp_path):
    import importlib.util

    (tmp_path / "layers.py").write_text(USERS_LAYERS)
    (tmp_path / "with_dict.py").write_text(USERS_LAYERS + "\nCUSTOM_OBJECTS = {'Scale': Scale}\n")
    (tmp_path / "no_layers.py").write_text(
        "from statefulness.check.kinds import Encoder  # imported, not defined here\n"
    )
    spec = importlib.util.spec_from_file_location("layers", tmp_path / "layers.py")
    layers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layers)
    inputs = keras.Input(shape=(None, 2), batch_size=2)
    hidden = keras.layers.LSTM(3, stateful=True, return_sequences=True)(inputs)
    keras.Model(inputs, layers.Scale(2.0)(hidden)).save(tmp_path / "custom.keras")

    for module in ("layers.py", "with_dict.py"):  # the classes a module defines, or its CUSTOM_OBJECTS
        code, out, err = _cli(
            capsys,
            tmp_path / "custom.keras",
            "--custom-objects",
            tmp_path / module,
            "--rules",
            "chunks-equal-whole",
            "carries-state[evaluate]",
            "--json",
            tmp_path / "r.json",
        )
        verdicts = {r["rule"]: r["verdict"] for r in json.loads((tmp_path / "r.json").read_text())["results"]}
        assert verdicts["chunks-equal-whole"] == "pass", (out, err)  # the twin was built with the custom layer
        assert verdicts["carries-state[evaluate]"] in ("pass", "known deviation")  # and the copy for evaluate
    code, _, err = _cli(capsys, tmp_path / "custom.keras", "--custom-objects", tmp_path / "no_layers.py")
    assert code == 2 and "no CUSTOM_OBJECTS dict and defines no Keras layer" in err


# In the user's own test suite.

USERS_TESTS = """
    from statefulness.check import EXAMPLES
    from statefulness.testing import parametrize_with_rules

    @parametrize_with_rules(EXAMPLES["stacked-gru-lstm"])
    def test_my_model_keeps_the_state_rules(check):
        check()
"""


@pytest.fixture
def users_suite(pytester, monkeypatch):
    """A user's project that imports this checkout of statefulness (whatever is installed in the env)."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return pytester


def test_each_rule_is_a_test_case_of_the_users_suite(users_suite):
    pytester = users_suite
    report = check_model(EXAMPLES["stacked-gru-lstm"]())
    pytester.makepyfile(textwrap.dedent(USERS_TESTS))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-W", "ignore")
    count = {v: sum(r.verdict == v for r in report.results) for v in ("pass", "known deviation", "not applicable")}
    result.assert_outcomes(passed=count["pass"], xfailed=count["known deviation"], skipped=count["not applicable"])


@pytest.mark.skipif(KERAS_MAJOR < 3, reason="the mutants patch Keras 3")
def test_a_rule_that_fails_on_the_users_model_fails_its_test_case_with_the_rule_and_the_measure(users_suite):
    pytester = users_suite
    pytester.makeconftest("from mutants import MUTANTS\nMUTANTS['reset_only_half'][1]()\n")  # c is not zeroed
    pytester.makepyfile(
        textwrap.dedent(USERS_TESTS).replace(
            'EXAMPLES["stacked-gru-lstm"]', 'EXAMPLES["bidirectional-lstm"], rules=["reset-zeroes"]'
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-W", "ignore")
    result.assert_outcomes(failed=2, skipped=1)  # the layers' and the library's resets; Keras 3 models have none
    result.stdout.fnmatch_lines(
        [
            "*reset-zeroes?layer.reset_states()? (fail): layer.reset_states() returns every *",
            "*after layer.reset_states(), 2 of 4 state variables are not zeros*",
        ]
    )


def test_the_testing_module_imports_without_pytest_which_is_no_dependency_of_the_library():
    script = "import sys; sys.modules['pytest'] = None; import statefulness.testing; print('ok')"
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert proc.stdout.strip() == "ok", proc.stderr
