"""One list of environments: tox.ini's table ``[matrix]``, one line per env, is the source; tox (through
toxfile.py) and the CI workflow make their lists from it, and every label names envs that exist."""

from __future__ import annotations

import configparser
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from statefulness.reports import environments
from statefulness.reports.documents import ci_matrix, main, tox_lists

ROOT = Path(__file__).resolve().parent.parent


def test_the_ci_workflow_takes_its_jobs_from_tox_ini_rather_than_a_copy():
    """The spec job's matrix is the output of ``--ci-matrix``, and the workflow lists no env by name."""
    text = (ROOT / ".github/workflows/matrix.yml").read_text()
    assert "python -m statefulness.reports.documents --ci-matrix" in text
    assert "matrix: ${{ fromJSON(needs.envs.outputs.matrix) }}" in text
    env_list, labels = tox_lists(ROOT)
    named = [env for env in env_list + labels["prerelease"] if f" {env}," in text or f"env: {env}" in text]
    assert named == [], f"the workflow names envs itself: {named}"


def test_the_ci_matrix_is_every_env_once_with_the_prerelease_ones_allowed_to_fail(capsys):
    """``python -m statefulness.reports.documents --ci-matrix`` prints one job per env of env_list and of the
    pre-release label, as the GitHub output ``matrix=JSON``."""
    env_list, labels = tox_lists(ROOT)
    assert main(["--ci-matrix", "--root", str(ROOT)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("matrix=") and json.loads(printed.removeprefix("matrix=")) == ci_matrix(ROOT)
    jobs = ci_matrix(ROOT)["include"]
    assert [job["env"] for job in jobs] == env_list + labels["prerelease"]
    assert {job["env"] for job in jobs if job["prerelease"]} == set(labels["prerelease"])


def test_every_labelled_env_is_defined():
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tox.ini")
    env_list, labels = tox_lists(ROOT)
    defined = set(env_list) | {s.split(":", 1)[1] for s in config.sections() if s.startswith("testenv:")}
    for label, envs in labels.items():
        assert set(envs) <= defined, f"label {label} names undefined envs {set(envs) - defined}"


def test_the_table_of_environments_names_a_bad_line_and_a_name_given_twice(tmp_path):
    tox_ini = tmp_path / "tox.ini"
    tox_ini.write_text("[tox]\n[matrix]\nenvs =\n    tf221 = tensorflow-cpu~=2.21.0 keras~=3.15.0\n    tf222\n")
    with pytest.raises(ValueError, match=r"\[matrix\] envs: expected 'name = requirement ...', got 'tf222'"):
        environments.read(tox_ini)
    tox_ini.write_text("[tox]\n[matrix]\nenvs =\n    tf221 = keras\nprerelease =\n    tf221 = keras-nightly\n")
    with pytest.raises(ValueError, match=r"\[matrix\] prerelease: the env 'tf221' is given twice"):
        environments.read(tox_ini)


def test_tox_takes_env_list_labels_and_each_envs_deps_from_the_table():
    """toxfile.py, tox's inline plugin, puts the table in front of tox.ini's own settings: env_list is the
    table's ``envs``, the label ``prerelease`` its pre-release envs, and each env's deps its line."""
    pytest.importorskip("tox", reason="tox is not installed here (the lint extra has it)")
    spec = importlib.util.spec_from_file_location("toxfile_under_test", ROOT / "toxfile.py")
    toxfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(toxfile)
    table = environments.read(ROOT / "tox.ini")

    core = SimpleNamespace(loaders=[])
    toxfile.tox_add_core_config(core, None)
    assert list(core.loaders[0].raw["env_list"]) == [env.name for env in table if not env.prerelease]
    assert list(core.loaders[0].raw["labels"]["prerelease"]) == [env.name for env in table if env.prerelease]
    assert list(core.loaders[0].raw["labels"]["quick"]) == ["tf221", "tf215", "jax", "torch"]
    for env in table:
        conf = SimpleNamespace(name=env.name, loaders=[])
        toxfile.tox_add_env_config(conf, None)
        assert conf.loaders[0].raw["deps"].splitlines() == list(env.requirements)
    other = SimpleNamespace(name="lint", loaders=[])
    toxfile.tox_add_env_config(other, None)
    assert other.loaders == []  # an env outside the table keeps its own deps


def test_every_env_that_uv_installs_a_backend_into_compiles_its_bytecode():
    """uv installs without compiling bytecode (pip compiles it), and where ``PYTHONDONTWRITEBYTECODE`` is set
    (our machines set it) no import writes it either: every interpreter the suite starts would compile
    TensorFlow's and Keras's sources again, ~5 s of each ``import tensorflow`` here. So the base env sets
    ``UV_COMPILE_BYTECODE``, and every env with a setenv of its own starts from the base's (only lint, which
    installs no backend, does not)."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tox.ini")
    base = dict(line.split("=", 1) for line in config["testenv"]["setenv"].split("\n") if "=" in line)
    assert {k.strip(): v.strip() for k, v in base.items()}.get("UV_COMPILE_BYTECODE") == "1"
    inherit = {"testenv"}
    for section in config.sections():
        if section.startswith("testenv:") and "setenv" in config[section]:
            lines = config[section]["setenv"].split("\n")
            if any(line.strip() in (f"{{[{name}]setenv}}" for name in inherit) for line in lines):
                inherit.add(section)
    own = {s for s in config.sections() if s.startswith("testenv:") and "setenv" in config[s]}
    assert own - inherit == {"testenv:lint"}, f"envs whose setenv drops the base's: {sorted(own - inherit)}"
