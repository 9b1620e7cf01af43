"""pytest plugin: applies the mutant named by ``STATEFULNESS_MUTANT`` before any test runs."""

import os


def pytest_configure(config):
    name = os.environ.get("STATEFULNESS_MUTANT")
    if not name:
        return
    from statefulness._keras import KERAS_MAJOR

    if KERAS_MAJOR < 3:
        raise RuntimeError("the mutants patch Keras 3 internals; run them with Keras 3 (tox -e mutants)")
    from . import MUTANTS

    MUTANTS[name][1]()
    config.stash_mutant = name


def pytest_report_header(config):
    name = os.environ.get("STATEFULNESS_MUTANT")
    return f"MUTANT APPLIED: {name}" if name else None
