"""tox's inline plugin: the envs of the matrix come from one table of tox.ini, ``[matrix]``, one line per env
(``statefulness/reports/environments.py`` reads it, as do the documents and the CI workflow's job list): the
names of its ``envs`` are tox's ``env_list``, those of ``prerelease`` the label ``prerelease``, each line's
requirements that env's ``deps``. What an env does beyond its requirements (a backend, a runner) stays in its
``[testenv:NAME]`` section."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from tox.config.loader.memory import MemoryLoader
from tox.config.types import EnvList
from tox.plugin import impl

_HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_environments", _HERE / "statefulness" / "reports" / "environments.py")
assert _spec is not None and _spec.loader is not None
_environments = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_environments)
ENVS = {env.name: env for env in _environments.read(_HERE / "tox.ini")}
LABELS = _environments.labels(_HERE / "tox.ini")


@impl
def tox_add_core_config(core_conf, state) -> None:
    env_list = EnvList([name for name, env in ENVS.items() if not env.prerelease])
    labels = {name: EnvList(envs) for name, envs in LABELS.items()}
    core_conf.loaders.insert(0, MemoryLoader(env_list=env_list, labels=labels))


@impl
def tox_add_env_config(env_conf, state) -> None:
    env = ENVS.get(env_conf.name)
    if env is not None:
        env_conf.loaders.insert(0, MemoryLoader(deps="\n".join(env.requirements)))
