"""The tutorial's learning experiments and their claims. Declarations: ``claims`` (a claim, its comparison,
the figures it is judged on) and ``catalogue`` (every experiment: settings, schedule, claims), which load no
Keras, so ``statefulness run --help`` and the documents read them anywhere; ``run`` trains one
(``run_experiment``), ``workers`` trains several in processes of their own, ``report`` prints and writes what
``statefulness run`` found. This package gives the catalogue's names."""

from statefulness.experiments.catalogue import (
    EXPERIMENTS,
    SPLIT,
    SPLIT_VARIANTS,
    AlphabetFigures,
    Experiment,
    Outcome,
    SplitSequence,
    claims_by_id,
    register,
    split_layouts,
)

__all__ = [
    "EXPERIMENTS",
    "SPLIT",
    "SPLIT_VARIANTS",
    "AlphabetFigures",
    "Experiment",
    "Outcome",
    "SplitSequence",
    "claims_by_id",
    "register",
    "split_layouts",
]
