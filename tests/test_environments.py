"""One list of environments: tox.ini's ``env_list`` (and its pre-release label) is the source; the CI
workflow makes its jobs from it, and every label names envs that exist."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

from statefulness.documents import ci_matrix, main, tox_lists

ROOT = Path(__file__).resolve().parent.parent


def test_the_ci_workflow_takes_its_jobs_from_tox_ini_rather_than_a_copy():
    """The spec job's matrix is the output of ``--ci-matrix``, and the workflow lists no env by name."""
    text = (ROOT / ".github/workflows/matrix.yml").read_text()
    assert "python -m statefulness.documents --ci-matrix" in text
    assert "matrix: ${{ fromJSON(needs.envs.outputs.matrix) }}" in text
    env_list, labels = tox_lists(ROOT)
    named = [env for env in env_list + labels["prerelease"] if f" {env}," in text or f"env: {env}" in text]
    assert named == [], f"the workflow names envs itself: {named}"


def test_the_ci_matrix_is_every_env_once_with_the_prerelease_ones_allowed_to_fail(capsys):
    """``python -m statefulness.documents --ci-matrix`` prints one job per env of env_list and of the
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
