"""The tutorial's training code, ported to current Keras as literally as it runs: the baseline that
``statefulness.train`` is measured against. Only what Keras 3 removed is changed: ``keras.Input`` in place
of ``input_shape=``/``batch_input_shape=``, ``keras.utils.to_categorical`` in place of ``np_utils``,
and the layer's ``reset_states()`` in place of the model's."""

from __future__ import annotations

import statefulness as sf
from statefulness import keras
from statefulness.experiments import RECIPES


def tutorial_model(recipe, dataset):
    batch = (recipe.batch_size,) if recipe.stateful else (None,)
    model = keras.Sequential([
        keras.Input(batch_shape=batch + dataset.input_shape),
        keras.layers.LSTM(recipe.units, stateful=recipe.stateful),
        keras.layers.Dense(dataset.n_classes, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def train_the_tutorials_way(name: str, seed: int = 7, epochs: int | None = None):
    """Build and train recipe ``name`` as the tutorial's code does; return the model and its accuracy."""
    recipe = RECIPES[name]
    epochs = epochs or recipe.epochs
    sf.seed_everything(seed)
    dataset = sf.make_dataset(recipe.framing, seed=seed) if recipe.framing == "variable_length" else sf.make_dataset(recipe.framing)
    model = tutorial_model(recipe, dataset)
    if recipe.stateful:
        for _ in range(epochs):
            model.fit(dataset.X, dataset.y, epochs=1, batch_size=recipe.batch_size, verbose=0, shuffle=False)
            model.layers[0].reset_states()
    else:
        model.fit(dataset.X, dataset.y, epochs=epochs, batch_size=recipe.batch_size, verbose=0, shuffle=recipe.shuffle)
    _, accuracy = model.evaluate(dataset.X, dataset.y, batch_size=recipe.batch_size, verbose=0)
    return model, accuracy
