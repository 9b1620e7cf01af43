"""The package is laid out by subsystem, and which subsystems load Keras is decided by what each module imports
at its top, not by function-local imports: every module is classified below, the Keras-free ones import in a
process where Keras and the backends cannot be imported at all, and only ``statefulness._keras`` imports them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "statefulness"

KERAS_FREE = (
    "statefulness",
    "statefulness.__main__",
    "statefulness._validate",
    "statefulness._versions",
    "statefulness.cli",
    "statefulness.deploy",
    "statefulness.deploy.litert",
    "statefulness.rule_ids",
    "statefulness.verdict",
    "statefulness.testing",
    "statefulness.deviations",
    "statefulness.deviations.registry",
    "statefulness.experiments",
    "statefulness.experiments.catalogue",
    "statefulness.experiments.claims",
    "statefulness.experiments.workers",
    "statefulness.reports",
    "statefulness.reports.claims_report",
    "statefulness.reports.documents",
    "statefulness.reports.environments",
    "statefulness.reports.matrix",
    "statefulness.reports.matrix_page",
    "statefulness.tutorial",
    "statefulness.tutorial.layout",
    "statefulness.pytest_plugin",  # the controller of a parallel spec run names the Keras under test without it
)
"""The declarations and what reads them: importable where no Keras is installed (the CI's matrix and
documents jobs, ``statefulness matrix``, ``statefulness run --help``)."""

LOADS_KERAS = (
    "statefulness._keras",
    "statefulness.check",
    "statefulness.check.deployment",
    "statefulness.check.kinds",
    "statefulness.check.predicates",
    "statefulness.check.record",
    "statefulness.check.report",
    "statefulness.check.rules",
    "statefulness.check.subject",
    "statefulness.deploy.export",
    "statefulness.experiments.report",
    "statefulness.experiments.run",
    "statefulness.tutorial.data",
    "statefulness.tutorial.model",
    "statefulness.tutorial.training",
    "statefulness.tutorial.twin",
)
"""The subsystems that compute with Keras: importing them loads it (through ``statefulness._keras``)."""

BLOCK = """
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"keras", "tf_keras", "tensorflow", "jax", "torch"}:
            raise ImportError(f"{name} is not installed here")
sys.meta_path.insert(0, Refuse())
"""


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_of_the_package_is_declared_keras_free_or_keras_loading():
    assert sorted(KERAS_FREE + LOADS_KERAS) == sorted(_modules())


def test_the_declarations_import_where_keras_and_every_backend_cannot_be_imported():
    imported = [name for name in KERAS_FREE if not name.endswith("__main__")]  # that one runs the command line
    script = BLOCK + "".join(f"import {name}\n" for name in imported) + "print('imported')"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "imported"


@pytest.mark.parametrize("name", ["statefulness.check", "statefulness.tutorial.model", "statefulness.experiments.run"])
def test_a_subsystem_that_computes_with_keras_fails_to_import_without_it(name):
    """The other side of the line: the block above really blocks (a Keras-free list that passed because
    nothing was blocked would prove nothing)."""
    proc = subprocess.run([sys.executable, "-c", BLOCK + f"import {name}"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "is not installed here" in proc.stderr


def test_only_the_version_aware_module_imports_keras_or_a_backend():
    """``statefulness._keras`` absorbs the differences between Keras versions and backends; every other
    module takes Keras from it."""
    importing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "_keras.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            importing += [
                f"{path.relative_to(PACKAGE.parent)}: {name}"
                for name in names
                if name.partition(".")[0] in {"keras", "tf_keras", "tensorflow", "jax", "torch"}
            ]
    assert importing == []
