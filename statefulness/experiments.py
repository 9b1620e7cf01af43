"""The tutorial's six experiments as recipes: its settings, a seed, and what comes out.

Each recipe trains the tutorial's model for one framing with the tutorial's schedule (units, epochs,
batch size, shuffling, resets), through :func:`statefulness.train`, and measures what the tutorial
reported: the accuracy that ``model.evaluate`` gives on the training patterns, the prediction for
every pattern, and for some experiments more (letters generated from a seed, subsequences never seen).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ._keras import seed_everything
from ._validate import check_choice, check_int
from .data import all_subsequences, make_dataset
from .model import build_model, generate, predict_next, reset_states, warm_up
from .training import train

SPLIT = {"sequences": 64, "pieces": 4, "piece_length": 5, "classes": 2, "batch_size": 8, "epochs": 40}
"""The split-sequence task: 64 training (and 64 test) sequences of 4 pieces of 5 steps; the key, one of
2 values, is the first step of the first piece. Not the tutorial's; see ``layout.split_sequences``."""


@dataclass(frozen=True)
class Recipe:
    """One experiment of the tutorial: its framing and its training schedule."""

    name: str
    section: str
    framing: str
    units: int
    epochs: int
    batch_size: int
    shuffle: bool
    stateful: bool = False
    reset: str = "never"
    log_every: int = 1
    quick_epochs: int = 0
    """The default tier's shorter schedule (0: the default tier trains the full schedule)."""

    def schedule(self, full: bool) -> int:
        return self.epochs if full or not self.quick_epochs else self.quick_epochs


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe(
            "one_char",
            "Naive LSTM for Learning One-Char to One-Char Mapping",
            "one_char",
            units=32,
            epochs=500,
            batch_size=1,
            shuffle=True,
            quick_epochs=0,
        ),
        Recipe(
            "window_features",
            "Naive LSTM for a Three-Char Feature Window to One-Char Mapping",
            "window_features",
            units=32,
            epochs=500,
            batch_size=1,
            shuffle=True,
            quick_epochs=0,
        ),
        Recipe(
            "window_timesteps",
            "Naive LSTM for a Three-Char Time Step Window to One-Char Mapping",
            "window_timesteps",
            units=32,
            epochs=500,
            batch_size=1,
            shuffle=True,
            quick_epochs=0,
        ),
        Recipe(
            "within_batch",
            "LSTM State Within A Batch",
            "one_char",
            units=16,
            epochs=5000,
            batch_size=25,
            shuffle=False,
            log_every=50,
            quick_epochs=0,
        ),
        Recipe(
            "stateful",
            "Stateful LSTM for a One-Char to One-Char Mapping",
            "one_char",
            units=16,
            epochs=300,
            batch_size=1,
            shuffle=False,
            stateful=True,
            reset="epoch",
            quick_epochs=0,
        ),
        Recipe(
            "variable_length",
            "LSTM with Variable-Length Input to One-Char Output",
            "variable_length",
            units=32,
            epochs=500,
            batch_size=1,
            shuffle=True,
            quick_epochs=100,
        ),
        Recipe(
            "split_sequence",
            "Q&A: dependencies between the pieces of a split sequence",
            "split_sequence",
            units=16,
            epochs=SPLIT["epochs"],
            batch_size=SPLIT["batch_size"],
            shuffle=False,
            stateful=True,
            reset="sequence",
        ),
    ]
}


EXPERIMENTS = tuple(RECIPES)


@dataclass
class Outcome:
    """What one run of a recipe gave."""

    experiment: str
    seed: int
    epochs: int
    accuracy: float
    """``model.evaluate`` on the training patterns, as the tutorial prints it."""
    predictions: dict[str, str]
    """Pattern -> predicted next letter, for every distinct training pattern."""
    history: dict[str, list[float]] = field(repr=False)
    wall_s: float = 0.0
    extras: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


def run_experiment(
    name: str,
    *,
    seed: int = 7,
    full: bool = True,
    epochs: int | None = None,
    progress: bool = False,
    variants: tuple[str, ...] | None = None,
) -> Outcome:
    """Train one recipe from ``seed`` and measure it. ``full=False`` takes the default tier's schedule;
    ``epochs`` overrides both. ``variants`` (``split_sequence`` only) trains some of ``SPLIT_VARIANTS``."""
    recipe = RECIPES[check_choice("experiment", name, EXPERIMENTS)]
    seed = check_int("seed", seed, low=0)
    epochs = recipe.schedule(full) if epochs is None else check_int("epochs", epochs, low=1)
    log_every = recipe.log_every if epochs % recipe.log_every == 0 else 1

    if recipe.framing == "split_sequence":
        variants = tuple(SPLIT_VARIANTS) if variants is None else variants
        if not variants:
            raise ValueError("variants: expected at least one of " + ", ".join(SPLIT_VARIANTS))
        for variant in variants:
            check_choice("variants", variant, tuple(SPLIT_VARIANTS))
        return _split_sequence(recipe, seed, epochs, progress, variants)
    if variants is not None:
        raise ValueError(f"variants: only the split_sequence experiment has variants, not {name!r}")

    seed_everything(seed)
    dataset = (
        make_dataset(recipe.framing, seed=seed) if recipe.framing == "variable_length" else make_dataset(recipe.framing)
    )
    model = build_model(
        dataset.input_shape,
        dataset.n_classes,
        units=recipe.units,
        stateful=recipe.stateful,
        batch_size=recipe.batch_size if recipe.stateful else None,
    )
    start = time.perf_counter()
    history = train(
        model,
        dataset,
        epochs=epochs,
        batch_size=recipe.batch_size,
        shuffle=recipe.shuffle,
        reset=recipe.reset,
        seed=seed,
        log_every=log_every,
        progress=progress,
    )
    wall = time.perf_counter() - start

    reset_states(model)
    _, accuracy = model.evaluate(dataset.X, dataset.y, batch_size=recipe.batch_size, verbose=0)
    reset_states(model)
    patterns = sorted(set(dataset.patterns), key=dataset.patterns.index)
    if recipe.stateful:  # in sequence from a reset state, as evaluate saw them
        predictions = {p: predict_next(model, dataset, p) for p in patterns}
        reset_states(model)
    else:
        predictions = dict(
            zip(patterns, dataset.decode(model.predict(dataset.encode(patterns), verbose=0)), strict=True)
        )

    extras = {}
    if recipe.name == "stateful":
        extras["from_A"] = generate(model, dataset, "A", len(dataset.alphabet) - 1)
        reset_states(model)
        extras["cold_K"] = generate(model, dataset, "K", 5)
        reset_states(model)
        warm_up(model, dataset, "ABCDEFGHIJ")
        extras["warm_K"] = predict_next(model, dataset, "K")
        reset_states(model)
    elif recipe.name == "within_batch":
        rng = np.random.default_rng(seed)
        drawn = [dataset.patterns[i] for i in rng.integers(len(dataset), size=20)]
        answers = [predict_next(model, dataset, p) for p in drawn]  # one pattern per call, batch of 1
        extras["random_patterns_correct"] = sum(
            a == dataset.next_letter(p) for p, a in zip(drawn, answers, strict=True)
        )
        extras["random_patterns"] = len(drawn)
        in_batch = model.predict(dataset.X, batch_size=len(dataset), verbose=0)
        alone = model.predict(dataset.X, batch_size=1, verbose=0)  # each letter in a batch of its own
        extras["batch_vs_alone_max_diff"] = float(np.abs(in_batch - alone).max())
    elif recipe.name == "variable_length":
        every = all_subsequences(dataset.length, dataset.alphabet)
        answers = dataset.decode(model.predict(dataset.encode(every), verbose=0))
        wrong = [p for p, a in zip(every, answers, strict=True) if a != dataset.next_letter(p[-1])]
        unseen = [p for p in every if p not in set(dataset.patterns)]
        extras.update(
            subsequences=len(every),
            subsequences_wrong=wrong,
            unseen=unseen,
            unseen_wrong=[p for p in unseen if p in wrong],
        )
    return Outcome(name, seed, epochs, float(accuracy), predictions, history, round(wall, 2), extras)


SPLIT_VARIANTS = {
    # name: (stateful, shuffle, reset after each long sequence)
    "stateless": (False, False, False),
    "stateful": (True, False, True),
    "stateful_shuffled": (True, True, True),
    "stateful_no_reset": (True, False, False),
}


def split_layouts(seed: int, batch_size: int):
    """The split-sequence task's training and held-out sequences (``SPLIT``), in the stateful layout."""
    from .layout import split_sequences, stateful_layout

    shape = dict(pieces=SPLIT["pieces"], piece_length=SPLIT["piece_length"], classes=SPLIT["classes"])
    return tuple(
        stateful_layout(
            *split_sequences(SPLIT["sequences"], seed=s, **shape),
            piece_length=SPLIT["piece_length"],
            batch_size=batch_size,
        )
        for s in (seed, seed + 10_000)
    )


def _split_sequence(recipe: Recipe, seed: int, epochs: int, progress: bool, variants: tuple[str, ...]) -> Outcome:
    """Train the split-sequence model four ways (or ``variants`` of them) and measure each on held-out
    sequences, piece by piece. The outcome's accuracy is the stateful variant's on the later pieces
    (the first variant's if the stateful one was not trained).

    Accuracy on the pieces after the first is what the claims are about: only there must the key come
    through the state. All four are evaluated the same way: pieces in stateful order, state reset at
    the start of each sequence (a stateless model ignores both).
    """
    from .model import ResetStatesEvery

    train_layout, test_layout = split_layouts(seed, recipe.batch_size)
    start = time.perf_counter()
    extras, histories = {}, {}
    for variant in variants:
        stateful, shuffle, reset = SPLIT_VARIANTS[variant]
        seed_everything(seed)
        model = build_model(
            train_layout.X.shape[1:],
            SPLIT["classes"],
            units=recipe.units,
            stateful=stateful,
            batch_size=recipe.batch_size if stateful else None,
        )
        histories[variant] = train(
            model,
            (train_layout.X, train_layout.y),
            epochs=epochs,
            batch_size=recipe.batch_size,
            shuffle=shuffle,
            reset=train_layout.reset_every if reset else "never",
            seed=seed,
            progress=progress,
        )
        reset_states(model)
        probabilities = model.predict(
            test_layout.X,
            batch_size=recipe.batch_size,
            verbose=0,
            callbacks=[ResetStatesEvery(test_layout.reset_every)],
        )
        right = test_layout.unstack(probabilities.argmax(-1) == test_layout.y.argmax(-1))  # (sequences, pieces)
        extras[variant] = {"first_piece": float(right[:, 0].mean()), "later_pieces": float(right[:, 1:].mean())}
    wall = time.perf_counter() - start
    main = "stateful" if "stateful" in extras else variants[0]
    return Outcome(recipe.name, seed, epochs, extras[main]["later_pieces"], {}, histories[main], round(wall, 2), extras)
