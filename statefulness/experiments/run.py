"""Train an experiment of the catalogue (:mod:`statefulness.experiments.catalogue`) and measure what its
claims are judged on: the one module of the experiments that loads Keras (through the tutorial's library)."""

from __future__ import annotations

import hashlib
import time

import numpy as np

from statefulness._keras import XLA_TRAINING, seed_everything
from statefulness._validate import check_choice, check_int
from statefulness.experiments.catalogue import (
    EXPERIMENTS,
    SPLIT,
    SPLIT_VARIANTS,
    Experiment,
    Outcome,
    SplitFigures,
    SplitSequence,
    StatefulAlphabet,
    VariableLength,
    WithinBatch,
    split_layouts,
)
from statefulness.tutorial.data import all_subsequences, make_dataset
from statefulness.tutorial.model import (
    ResetStatesEvery,
    build_model,
    generate,
    predict_next,
    reset_states,
    warm_up,
)
from statefulness.tutorial.training import train


def run_experiment(name: str, **settings) -> Outcome:
    """Train the experiment ``name`` from ``seed`` (default 7) and measure. ``full=False`` takes the default
    tier's schedule (and the figures say ``tier="default"``); ``epochs`` overrides the schedule's length, not
    its tier; ``progress`` prints the epochs; ``xla``: train with XLA (``None``: where ``XLA_TRAINING`` says it
    keeps the same seed's weights); ``unroll``: train the LSTM unrolled (not the same bits, nor always the same
    figures: ``benchmarks/unroll.py``); ``variants`` (``split_sequence`` only): which of ``SPLIT_VARIANTS``."""
    experiment = EXPERIMENTS[check_choice("experiment", name, tuple(EXPERIMENTS))]
    if "variants" in settings and not isinstance(experiment, SplitSequence):
        if settings.pop("variants") is not None:
            raise ValueError(f"variants: only the split_sequence experiment has variants, not {name!r}")
    return (_run_split if isinstance(experiment, SplitSequence) else _run_alphabet)(experiment, **settings)


def training_steps(name: str, full: bool) -> int:
    """How many batches the experiment ``name``'s schedule trains on (what training time grows with)."""
    experiment = EXPERIMENTS[check_choice("experiment", name, tuple(EXPERIMENTS))]
    return (_split_steps if isinstance(experiment, SplitSequence) else _alphabet_steps)(experiment, full)


def _alphabet_steps(experiment: Experiment, full: bool) -> int:
    """How many batches the schedule trains on (what training time grows with)."""

    return experiment.schedule(full) * (len(make_dataset(experiment.framing)) // experiment.batch_size)


def _run_alphabet(
    experiment: Experiment,
    *,
    seed: int = 7,
    full: bool = True,
    epochs: int | None = None,
    progress: bool = False,
    xla: bool | None = None,
    unroll: bool = False,
) -> Outcome:
    """Train an alphabet framing and measure (``run_experiment`` says what the settings mean)."""
    seed, epochs, tier, xla, unroll = _settings(experiment, seed, full, epochs, xla, unroll)
    seed_everything(seed, xla=xla)
    dataset = (
        make_dataset(experiment.framing, seed=seed)
        if experiment.framing == "variable_length"
        else make_dataset(experiment.framing)
    )
    model = build_model(
        dataset.input_shape,
        dataset.n_classes,
        units=experiment.units,
        stateful=experiment.stateful,
        batch_size=experiment.batch_size if experiment.stateful else None,
        jit_compile=xla,
        unroll=unroll,
    )
    start = time.perf_counter()
    history = train(
        model,
        dataset,
        epochs=epochs,
        batch_size=experiment.batch_size,
        shuffle=experiment.shuffle,
        reset=experiment.reset,
        seed=seed,
        log_every=experiment.log_every if epochs % experiment.log_every == 0 else 1,
        progress=progress,
    )
    wall = time.perf_counter() - start
    weights = digest(model.get_weights())
    predictions, measured, details = _measure_alphabet(experiment, model, dataset, seed)
    figures = experiment.record(epochs=epochs, tier=tier, **measured)
    return Outcome(
        experiment.name, seed, epochs, figures, predictions, history, round(wall, 2), details, weights, xla, unroll
    )


def _settings(experiment: Experiment, seed, full, epochs, xla, unroll) -> tuple[int, int, str, bool, bool]:

    seed = check_int("seed", seed, low=0)
    tier = "full" if full or not experiment.quick_epochs else "default"
    epochs = experiment.schedule(full) if epochs is None else check_int("epochs", epochs, low=1)
    if xla is not None and not isinstance(xla, bool):
        raise TypeError(f"xla: expected True, False or None, got {xla!r}")
    if not isinstance(unroll, bool):
        raise TypeError(f"unroll: expected True or False, got {unroll!r}")
    return seed, epochs, tier, XLA_TRAINING if xla is None else xla, unroll


def _measure_alphabet(experiment: Experiment, model, dataset, seed):

    reset_states(model)
    _, accuracy = model.evaluate(dataset.X, dataset.y, batch_size=experiment.batch_size, verbose=0)
    reset_states(model)
    patterns = sorted(set(dataset.patterns), key=dataset.patterns.index)
    if experiment.stateful:  # in sequence from a reset state, as evaluate saw them
        predictions = {p: predict_next(model, dataset, p) for p in patterns}
        reset_states(model)
    else:
        answers = dataset.decode(model.predict(dataset.encode(patterns), verbose=0))
        predictions = dict(zip(patterns, answers, strict=True))
    alphabet = dataset.alphabet
    right = sum(a == alphabet[alphabet.index(p[-1]) + 1] for p, a in predictions.items())
    measured = {"accuracy": round(float(accuracy), 6), "patterns_right": right, "patterns": len(predictions)}
    more, details = _MEASURE.get(type(experiment), _measure_nothing)(model, dataset, seed)
    return predictions, measured | more, details


def _measure_nothing(model, dataset, seed: int) -> tuple[dict, dict]:
    """Figures beyond accuracy and patterns (the fields an experiment's ``record`` adds), and their details."""
    return {}, {}


def _measure_stateful(model, dataset, seed):

    from_A = generate(model, dataset, "A", len(dataset.alphabet) - 1)
    reset_states(model)
    cold_K = generate(model, dataset, "K", 5)
    reset_states(model)
    warm_up(model, dataset, "ABCDEFGHIJ")
    warm_K = predict_next(model, dataset, "K")
    reset_states(model)
    return {"from_A": from_A, "cold_K": cold_K, "cold_K_next": cold_K[0], "warm_K": warm_K}, {}


def _measure_within_batch(model, dataset, seed):

    rng = np.random.default_rng(seed)
    drawn = [dataset.patterns[i] for i in rng.integers(len(dataset), size=20)]
    answers = [predict_next(model, dataset, p) for p in drawn]  # one pattern per call, batch of 1
    in_batch = model.predict(dataset.X, batch_size=len(dataset), verbose=0)
    alone = model.predict(dataset.X, batch_size=1, verbose=0)  # each letter in a batch of its own
    return {
        "random_right": sum(a == dataset.next_letter(p) for p, a in zip(drawn, answers, strict=True)),
        "random": len(drawn),
        "batch_vs_alone_max_diff": float(np.abs(in_batch - alone).max()),
    }, {"random_patterns": drawn}


def _measure_variable_length(model, dataset, seed):

    every = all_subsequences(dataset.length, dataset.alphabet)
    answers = dataset.decode(model.predict(dataset.encode(every), verbose=0))
    wrong = [p for p, a in zip(every, answers, strict=True) if a != dataset.next_letter(p[-1])]
    unseen = [p for p in every if p not in set(dataset.patterns)]
    unseen_wrong = [p for p in unseen if p in wrong]
    figures = {
        "subsequences_right": len(every) - len(wrong),
        "subsequences": len(every),
        "unseen_right": len(unseen) - len(unseen_wrong),
        "unseen": len(unseen),
        "wrong": " ".join(wrong),
    }
    return figures, {"subsequences_wrong": wrong, "unseen": unseen, "unseen_wrong": unseen_wrong}


_MEASURE = {
    StatefulAlphabet: _measure_stateful,
    WithinBatch: _measure_within_batch,
    VariableLength: _measure_variable_length,
}
"""What each kind of experiment measures beyond the alphabet framings' figures."""


def _split_steps(experiment: Experiment, full: bool) -> int:
    per_epoch = SPLIT["sequences"] * SPLIT["pieces"] // experiment.batch_size
    return experiment.schedule(full) * per_epoch * len(SPLIT_VARIANTS)


def _run_split(
    experiment: Experiment, *, seed=7, full=True, epochs=None, progress=False, xla=None, unroll=False, variants=None
) -> Outcome:
    variants = tuple(SPLIT_VARIANTS) if variants is None else variants
    if not variants:
        raise ValueError("variants: expected at least one of " + ", ".join(SPLIT_VARIANTS))
    for variant in variants:
        check_choice("variants", variant, tuple(SPLIT_VARIANTS))
    seed, epochs, tier, xla, unroll = _settings(experiment, seed, full, epochs, xla, unroll)
    train_layout, test_layout = split_layouts(seed, experiment.batch_size)
    start = time.perf_counter()
    measured, histories, weights = {}, {}, []
    for variant in variants:
        stateful, shuffle, reset = SPLIT_VARIANTS[variant]
        seed_everything(seed, xla=xla)
        model = build_model(
            train_layout.X.shape[1:],
            SPLIT["classes"],
            units=experiment.units,
            stateful=stateful,
            batch_size=experiment.batch_size if stateful else None,
            jit_compile=xla,
            unroll=unroll,
        )
        histories[variant] = train(
            model,
            (train_layout.X, train_layout.y),
            epochs=epochs,
            batch_size=experiment.batch_size,
            shuffle=shuffle,
            reset=train_layout.reset_every if reset else "never",
            seed=seed,
            progress=progress,
        )
        weights += model.get_weights()
        reset_states(model)
        probabilities = model.predict(
            test_layout.X,
            batch_size=experiment.batch_size,
            verbose=0,
            callbacks=[ResetStatesEvery(test_layout.reset_every)],
        )
        right = test_layout.unstack(probabilities.argmax(-1) == test_layout.y.argmax(-1))  # (sequences, pieces)
        measured[f"{variant}_first_piece"] = round(float(right[:, 0].mean()), 6)
        measured[f"{variant}_later_pieces"] = round(float(right[:, 1:].mean()), 6)
    wall = time.perf_counter() - start
    main = "stateful" if "stateful" in variants else variants[0]
    figures = SplitFigures(epochs=epochs, tier=tier, accuracy=measured[f"{main}_later_pieces"], **measured)
    return Outcome(
        experiment.name, seed, epochs, figures, {}, histories[main], round(wall, 2), {}, digest(weights), xla, unroll
    )


def digest(arrays) -> str:
    """SHA-256 over the bytes, dtypes and shapes of a list of arrays (a model's weights)."""

    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()
