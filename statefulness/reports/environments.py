"""The environments of the matrix, written once: the table ``[matrix]`` of tox.ini, one line per env, its
name and what it installs beside the package (pip requirements separated by spaces)::

    [matrix]
    envs =
        tf221 = tensorflow-cpu~=2.21.0 keras~=3.15.0
    prerelease =
        nightly-tf = keras-nightly tf-nightly

tox reads it through ``toxfile.py`` (the names of ``envs`` are its ``env_list``, those of ``prerelease``
its label ``prerelease``, each line that env's ``deps``); the CI workflow's jobs (``python -m
statefulness.reports.documents --ci-matrix``) and the documents' columns come from it too. Standard library
only: ``toxfile.py`` loads this file by its path, where the package is not installed."""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

SECTION = "matrix"


@dataclass(frozen=True)
class Env:
    name: str
    requirements: tuple[str, ...]
    prerelease: bool = False
    """A pre-release env (``prerelease`` of the table): run by CI, allowed to fail, not in ``env_list``."""


def read(tox_ini: Path) -> list[Env]:
    """The envs of ``tox_ini``'s ``[matrix]`` table, in its order (``envs``, then ``prerelease``). A line that
    is not ``name = requirement ...``, or a name given twice, is a ``ValueError`` naming the line."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(tox_ini)
    if not config.has_section(SECTION):
        raise ValueError(f"{tox_ini}: no [{SECTION}] table of environments")
    envs: list[Env] = []
    for key, prerelease in (("envs", False), ("prerelease", True)):
        for line in config[SECTION].get(key, "").strip().splitlines():
            name, equals, requirements = (part.strip() for part in line.partition("="))
            if not equals or not name or not requirements.split():
                raise ValueError(f"{tox_ini} [{SECTION}] {key}: expected 'name = requirement ...', got {line!r}")
            if name in {env.name for env in envs}:
                raise ValueError(f"{tox_ini} [{SECTION}] {key}: the env {name!r} is given twice")
            envs.append(Env(name, tuple(requirements.split()), prerelease))
    return envs


def labels(tox_ini: Path) -> dict[str, list[str]]:
    """tox's labels: those of ``[tox] labels`` (``name = env, env``), and ``prerelease``, the pre-release envs
    of the table."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(tox_ini)
    found: dict[str, list[str]] = {}
    for line in config["tox"].get("labels", "").strip().splitlines():
        name, _, envs = line.partition("=")
        found[name.strip()] = [env.strip() for env in envs.split(",") if env.strip()]
    if "prerelease" in found:
        raise ValueError(f"{tox_ini} [tox] labels: prerelease is the table's ([{SECTION}] prerelease), not a label")
    found["prerelease"] = [env.name for env in read(tox_ini) if env.prerelease]
    return found
