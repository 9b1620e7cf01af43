"""One list of environments: tox.ini's ``env_list`` is the source; its ``matrix`` label and the CI
workflow's job matrix must name the same envs (the pre-release ones, allowed to fail, included)."""

from __future__ import annotations

import configparser
import itertools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _expand(spec: str) -> list[str]:
    """tox's brace expansion: ``tf{212,213}`` -> ``tf212, tf213``."""
    parts = re.split(r"\{([^}]*)\}", spec)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(c).strip() for c in itertools.product(*choices)]


def _tox():
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tox.ini")
    env_list = [e for line in config["tox"]["env_list"].split() for e in _expand(line)]
    labels = {}
    for line in config["tox"]["labels"].strip().splitlines():
        name, _, envs = line.partition("=")
        labels[name.strip()] = [e.strip() for e in envs.split(",") if e.strip()]
    return config, env_list, labels


def _workflow_envs() -> tuple[list[str], list[str]]:
    """The spec job's matrix: its ``env`` list, and the envs it adds with ``prerelease: true``."""
    text = (ROOT / ".github/workflows/matrix.yml").read_text()
    (envs,) = re.findall(r"^\s+env: \[([^\]]*)\]", text, flags=re.M)
    prerelease = re.findall(r"^\s+- env: (\S+)\s*\n\s+prerelease: true", text, flags=re.M)
    return [e.strip() for e in envs.split(",")], prerelease


def test_the_matrix_label_is_the_env_list():
    _, env_list, labels = _tox()
    assert labels["matrix"] == env_list


def test_the_ci_workflow_runs_every_env_of_the_list_and_the_prerelease_ones():
    _, env_list, labels = _tox()
    envs, prerelease = _workflow_envs()
    assert envs == env_list, "the workflow's matrix differs from tox.ini's env_list"
    assert prerelease == labels["prerelease"], "the workflow's pre-release envs differ from tox.ini's label"


def test_every_labelled_env_is_defined():
    config, env_list, labels = _tox()
    defined = set(env_list) | {s.split(":", 1)[1] for s in config.sections() if s.startswith("testenv:")}
    for label, envs in labels.items():
        assert set(envs) <= defined, f"label {label} names undefined envs {set(envs) - defined}"
