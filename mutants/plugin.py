"""pytest plugin: applies the mutant named by ``STATEFULNESS_MUTANT`` before any test runs."""

import os


def pytest_configure(config):
    name = os.environ.get("STATEFULNESS_MUTANT")
    if not name:
        return
    from statefulness._keras import KERAS_MAJOR

    if KERAS_MAJOR < 3:
        raise RuntimeError("the mutants patch Keras 3 internals; run them with Keras 3 (tox -e mutants)")
    import pytest

    from . import apply

    try:
        apply(name)
    except (AttributeError, ImportError) as error:  # the Keras under test has no such place to patch
        raise pytest.UsageError(
            f"mutant {name!r} cannot be applied: its patch target is missing in this Keras ({error})"
        ) from None
    config.stash_mutant = name
    # Chapter 24 runs its distributions in processes of their own (spec/distributed.py): they apply it too.
    os.environ["STATEFULNESS_MUTANT_APPLIED"] = name


def pytest_report_header(config):
    name = os.environ.get("STATEFULNESS_MUTANT")
    return f"MUTANT APPLIED: {name}" if name else None
