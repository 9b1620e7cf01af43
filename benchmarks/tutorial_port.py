"""The tutorial's training code, ported to current Keras as literally as it runs: the baseline that
``statefulness.train`` is measured against. Only what Keras 3 removed is changed: ``keras.Input`` in place
of ``input_shape=``/``batch_input_shape=``, ``keras.utils.to_categorical`` in place of ``np_utils``,
and the layer's ``reset_states()`` in place of the model's."""

from __future__ import annotations

import time

import numpy as np

import statefulness as sf
from statefulness import keras
from statefulness.experiments import EXPERIMENTS, SPLIT, split_layouts


def tutorial_model(recipe, dataset):
    batch = (recipe.batch_size,) if recipe.stateful else (None,)
    model = keras.Sequential(
        [
            keras.Input(batch_shape=batch + dataset.input_shape),
            keras.layers.LSTM(recipe.units, stateful=recipe.stateful),
            keras.layers.Dense(dataset.n_classes, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def seeded(seed: int, determinism: bool) -> None:
    """Seed through ``keras.utils.set_random_seed``; ``determinism``: TensorFlow's op determinism on, as the
    spec runs (the same seed gives the same weights), or off, as the tutorial's readers run its code
    (``seed_everything(xla=True)`` is the library's name for leaving it off)."""
    sf.seed_everything(seed, xla=not determinism)


def train_the_tutorials_way(name: str, seed: int = 7, epochs: int | None = None, determinism: bool = True):
    """Build and train recipe ``name`` as the tutorial's code does; return the model, its accuracy and
    the seconds its training (the ``fit`` calls) took. ``determinism``: see :func:`seeded`."""
    recipe = EXPERIMENTS[name]
    epochs = epochs or recipe.epochs
    if name == "split_sequence":
        return _split_sequence_the_qa_way(recipe, seed, epochs, determinism)
    seeded(seed, determinism)
    dataset = (
        sf.make_dataset(recipe.framing, seed=seed)
        if recipe.framing == "variable_length"
        else sf.make_dataset(recipe.framing)
    )
    model = tutorial_model(recipe, dataset)
    start = time.perf_counter()
    if recipe.stateful:
        for _ in range(epochs):
            model.fit(dataset.X, dataset.y, epochs=1, batch_size=recipe.batch_size, verbose=0, shuffle=False)
            model.layers[0].reset_states()
    else:
        model.fit(dataset.X, dataset.y, epochs=epochs, batch_size=recipe.batch_size, verbose=0, shuffle=recipe.shuffle)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(dataset.X, dataset.y, batch_size=recipe.batch_size, verbose=0)
    return model, accuracy, seconds


def _split_sequence_the_qa_way(recipe, seed: int, epochs: int, determinism: bool):
    """The Q&A's advice as people write it: per epoch, ``train_on_batch`` over each group's pieces in
    order, then ``reset_states()``. Only the stateful variant (the library's run is told the same);
    the accuracy is on the later pieces of held-out sequences, as the library measures it."""
    bs = recipe.batch_size
    train, test = split_layouts(seed, bs)
    seeded(seed, determinism)
    model = keras.Sequential(
        [
            keras.Input(batch_shape=(bs,) + train.X.shape[1:]),
            keras.layers.LSTM(recipe.units, stateful=True),
            keras.layers.Dense(SPLIT["classes"], activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    start = time.perf_counter()
    for _ in range(epochs):
        for batch in range(len(train.X) // bs):
            model.train_on_batch(train.X[batch * bs : (batch + 1) * bs], train.y[batch * bs : (batch + 1) * bs])
            if (batch + 1) % train.reset_every == 0:
                model.layers[0].reset_states()
    seconds = time.perf_counter() - start
    rows = []
    for batch in range(len(test.X) // bs):
        rows.append(model.predict_on_batch(test.X[batch * bs : (batch + 1) * bs]))
        if (batch + 1) % test.reset_every == 0:
            model.layers[0].reset_states()
    right = test.unstack(np.concatenate(rows).argmax(-1) == test.y.argmax(-1))
    return model, float(right[:, 1:].mean()), seconds
