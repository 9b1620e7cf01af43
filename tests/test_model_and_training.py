"""The library's model, state helpers and training: what users call, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import statefulness as sf
from statefulness._keras import BACKEND, KERAS_VERSION, layer_states
from statefulness.deviations import DEVIATIONS, TORCH_FUSED_LSTM


@pytest.fixture
def one_char():
    return sf.make_dataset("one_char")


def test_build_model_is_an_lstm_and_a_softmax_compiled_for_accuracy(one_char):
    model = sf.build_model(one_char.input_shape, one_char.n_classes, units=8)
    assert [type(layer).__name__ for layer in model.layers[1:]] == ["LSTM", "Dense"]
    assert model.output_shape == (None, 26)
    metrics = model.evaluate(one_char.X, one_char.y, verbose=0, return_dict=True)
    assert set(metrics) == {"loss", "accuracy"}


def test_build_model_unrolls_the_lstm_when_asked(one_char):
    """``unroll=True`` reaches the LSTM, and the unrolled model computes what the loop does (float32
    round-off apart: the same arithmetic in another order)."""
    looped = sf.build_model(one_char.input_shape, one_char.n_classes, units=8)
    unrolled = sf.build_model(one_char.input_shape, one_char.n_classes, units=8, unroll=True)
    unrolled.set_weights(looped.get_weights())
    assert (looped.layers[1].unroll, unrolled.layers[1].unroll) == (False, True)
    np.testing.assert_allclose(
        unrolled.predict(one_char.X, verbose=0), looped.predict(one_char.X, verbose=0), atol=1e-6
    )


def test_a_stateful_model_keeps_one_state_row_per_sample(one_char):
    model = sf.build_model(one_char.input_shape, one_char.n_classes, units=8, stateful=True, batch_size=5)
    (layer,) = sf.stateful_layers(model)
    assert [s.shape for s in layer_states(layer)] == [(5, 8), (5, 8)]


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"units": 0}, ValueError, "units: expected an integer >= 1, got 0"),
        ({"units": 2.0}, TypeError, "units: expected an integer"),
        ({"stateful": True}, ValueError, "batch_size: a stateful LSTM needs a batch size"),
        ({"batch_size": 0}, ValueError, "batch_size: expected an integer >= 1"),
        ({"input_shape": (1,)}, ValueError, r"input_shape: expected \(timesteps, features\)"),
        ({"n_classes": 1}, ValueError, "n_classes: expected an integer >= 2"),
        ({"unroll": "yes"}, ValueError, "unroll: expected True or False, got 'yes'"),
    ],
)
def test_build_model_names_the_bad_argument(one_char, kwargs, error, words):
    args = {"input_shape": one_char.input_shape, "n_classes": 26, **kwargs}
    with pytest.raises(error, match=words):
        sf.build_model(args.pop("input_shape"), args.pop("n_classes"), **args)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"epochs": 0}, ValueError, "epochs: expected an integer >= 1"),
        ({"epochs": 2, "batch_size": 0}, ValueError, "batch_size: expected an integer >= 1"),
        ({"epochs": 2, "batch_size": 4}, ValueError, "batch_size: .* must divide the 25 samples; got 4"),
        ({"epochs": 2, "reset": "batch"}, ValueError, "reset: expected one of never, epoch"),
        ({"epochs": 2, "reset": 0}, ValueError, "reset: expected an integer >= 1"),
        ({"epochs": 3, "log_every": 2}, ValueError, r"log_every: expected a divisor of epochs \(3\)"),
        ({"epochs": 2, "shuffle": "yes"}, TypeError, "shuffle: expected True or False"),
        ({"epochs": 2, "validation_data": [1, 2]}, TypeError, "validation_data: expected a Dataset or a tuple"),
    ],
)
def test_train_names_the_bad_argument_and_leaves_the_model_untouched(one_char, kwargs, error, words):
    model = sf.build_model(one_char.input_shape, one_char.n_classes, units=4)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(error, match=words):
        sf.train(model, one_char, **kwargs)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_train_refuses_a_batch_size_other_than_the_stateful_models(one_char):
    model = sf.build_model(one_char.input_shape, 26, units=4, stateful=True, batch_size=5)
    with pytest.raises(ValueError, match="batch_size: the model was built for batches of 5, got 1"):
        sf.train(model, one_char, epochs=1, batch_size=1)


@pytest.mark.parametrize(
    "data", [np.zeros((3, 1, 1)), (np.zeros((3, 1)), np.zeros((3, 26))), (np.zeros((3, 1, 1)), np.zeros((2, 26)))]
)
def test_train_refuses_arrays_of_the_wrong_shape(one_char, data):
    model = sf.build_model(one_char.input_shape, 26, units=4)
    with pytest.raises((TypeError, ValueError), match="data: expected"):
        sf.train(model, data, epochs=1)


def test_train_returns_one_history_entry_per_epoch_and_restores_steps_per_execution(one_char):
    from statefulness._keras import get_steps_per_execution

    model = sf.build_model(one_char.input_shape, 26, units=4)
    history = sf.train(model, one_char, epochs=3)
    assert [len(history[k]) for k in ("loss", "accuracy")] == [3, 3]
    assert get_steps_per_execution(model) == 1


FIT_OF_AN_LSTM = [  # the known deviations that make fit of a stateful LSTM fail on this Keras and backend
    d.id
    for d in DEVIATIONS
    if "carries-state[fit]" in d.rules and d.when in (None, TORCH_FUSED_LSTM) and d.covers(KERAS_VERSION, BACKEND)
]


@pytest.mark.xfail(
    bool(FIT_OF_AN_LSTM),
    raises=(AssertionError, RuntimeError),
    strict=True,
    reason=f"fit does not carry (JAX) or cannot train (PyTorch) a stateful LSTM's state: {FIT_OF_AN_LSTM}",
)
def test_reset_every_k_batches_leaves_the_state_at_zero_after_a_multiple_of_k(one_char):
    model = sf.build_model(one_char.input_shape, 26, units=4, stateful=True, batch_size=1)
    sf.train(model, one_char, epochs=1, shuffle=False, reset=5)
    for state in layer_states(sf.stateful_layers(model)[0]):
        np.testing.assert_array_equal(state, 0)
    sf.train(model, one_char, epochs=1, shuffle=False, reset="never")
    assert np.any(layer_states(sf.stateful_layers(model)[0])[0] != 0)


def test_generate_feeds_predictions_back_and_warm_up_moves_the_state(one_char):
    model = sf.build_model(one_char.input_shape, 26, units=4, stateful=True, batch_size=1)
    text = sf.generate(model, one_char, "A", 5)
    assert len(text) == 5 and set(text) <= set(sf.ALPHABET)
    (layer,) = sf.stateful_layers(model)
    sf.reset_states(model)
    sf.warm_up(model, one_char, "ABC")
    assert np.any(layer_states(layer)[0] != 0)


def test_generate_with_a_window_framing_slides_the_window():
    ds = sf.make_dataset("window_timesteps")
    model = sf.build_model(ds.input_shape, 26, units=4)
    assert len(sf.generate(model, ds, "ABC", 4)) == 4
    with pytest.raises(ValueError, match="seed 'AB': the window_timesteps framing needs at least 3 letters"):
        sf.generate(model, ds, "AB", 4)


@pytest.mark.parametrize("call", ["predict_next", "generate", "warm_up"])
def test_a_seed_letter_outside_the_alphabet_is_refused(one_char, call):
    model = sf.build_model(one_char.input_shape, 26, units=4, stateful=True, batch_size=1)
    args = {"predict_next": ("a",), "generate": ("a", 3), "warm_up": ("a",)}[call]
    with pytest.raises(ValueError, match="letters 'a' are not in the alphabet"):
        getattr(sf, call)(model, one_char, *args)


def test_predicting_on_a_stateful_model_for_another_batch_size_is_refused(one_char):
    model = sf.build_model(one_char.input_shape, 26, units=4, stateful=True, batch_size=2)
    with pytest.raises(ValueError, match=r"model: built for batches of 2, but one step here feeds 1 row"):
        sf.predict_next(model, one_char, "A")


@pytest.mark.parametrize(
    ("name", "variants", "words"),
    [
        ("split_sequence", ("stateless", "stateful_sorted"), "variants: expected one of stateless, stateful, "),
        ("split_sequence", (), "variants: expected at least one of stateless"),
        ("one_char", ("stateless",), "variants: only the split_sequence experiment has variants, not 'one_char'"),
    ],
)
def test_run_experiment_names_a_bad_variant_before_training(name, variants, words):
    from statefulness.experiments.run import run_experiment

    with pytest.raises(ValueError, match=words):
        run_experiment(name, epochs=1, variants=variants)


def test_run_experiment_unrolls_the_lstm_only_when_asked(monkeypatch):
    """The model ``run_experiment`` trains has an unrolled LSTM only with ``unroll=True`` (stopped once
    built: what training unrolled does is the test above's)."""
    from statefulness.experiments import run

    class Built(Exception):
        pass

    def build_and_stop(*args, **kwargs):
        raise Built(sf.build_model(*args, **kwargs).layers[1].unroll)

    monkeypatch.setattr(run, "build_model", build_and_stop)
    for settings, unrolled in (({}, False), ({"unroll": True}, True), ({"unroll": False}, False)):
        with pytest.raises(Built) as built:
            run.run_experiment("one_char", epochs=1, **settings)
        assert built.value.args == (unrolled,), settings
    with pytest.raises(TypeError, match="unroll: expected True or False, got 1"):
        run.run_experiment("one_char", epochs=1, unroll=1)


def test_run_experiment_trains_only_the_split_variants_asked_for():
    from statefulness.experiments.run import run_experiment

    outcome = run_experiment("split_sequence", epochs=1, variants=("stateless",))
    measured = {k for k, v in outcome.figures.to_dict().items() if v is not None and "_piece" in k}
    assert measured == {"stateless_first_piece", "stateless_later_pieces"}
    assert outcome.accuracy == outcome.figures.stateless_later_pieces


def test_reset_rows_zeros_the_rows_of_every_stateful_layer_and_only_those(one_char):
    model = sf.build_model(one_char.input_shape, one_char.n_classes, units=4, stateful=True, batch_size=3)
    model(one_char.X[:3])
    (layer,) = sf.stateful_layers(model)
    before = layer_states(layer)

    sf.reset_rows(model, [0, 2])

    for kept, now in zip(before, layer_states(layer), strict=True):
        np.testing.assert_array_equal(now[[0, 2]], 0)
        np.testing.assert_array_equal(now[1], kept[1])
        assert np.any(kept[[0, 2]] != 0)  # there was a state to reset


@pytest.mark.parametrize(
    "rows, error, words",
    [(3, TypeError, "rows: expected a list of row indices"), ([1, 3], ValueError, r"rows: expected indices in 0\.\.2")],
)
def test_reset_rows_names_a_bad_row_and_changes_nothing(one_char, rows, error, words):
    model = sf.build_model(one_char.input_shape, one_char.n_classes, units=4, stateful=True, batch_size=3)
    model(one_char.X[:3])
    (layer,) = sf.stateful_layers(model)
    before = layer_states(layer)
    with pytest.raises(error, match=words):
        sf.reset_rows(model, rows)
    for kept, now in zip(before, layer_states(layer), strict=True):
        np.testing.assert_array_equal(now, kept)


def test_keep_validation_apart_makes_evaluate_start_from_zero_and_leave_the_state(one_char):
    model = sf.build_model(one_char.input_shape, one_char.n_classes, units=4, stateful=True, batch_size=5)
    x, y = one_char.X[:5], one_char.y[:5]
    model(x)
    (layer,) = sf.stateful_layers(model)
    before = layer_states(layer)
    apart = model.evaluate(x, y, batch_size=5, verbose=0, callbacks=[sf.KeepValidationApart()])
    for kept, now in zip(before, layer_states(layer), strict=True):
        np.testing.assert_array_equal(now, kept)
    sf.reset_states(model)
    np.testing.assert_allclose(apart, model.evaluate(x, y, batch_size=5, verbose=0), rtol=1e-6)


FIT_CANNOT_TRAIN_AN_LSTM = [  # of those, the ones whose fit raises instead of training (PyTorch)
    d.id for d in DEVIATIONS if d.id in FIT_OF_AN_LSTM and d.raises == "RuntimeError"
]


@pytest.mark.xfail(
    bool(FIT_CANNOT_TRAIN_AN_LSTM),
    raises=RuntimeError,
    strict=True,
    reason=f"fit cannot train a stateful LSTM here: {FIT_CANNOT_TRAIN_AN_LSTM}",
)
def test_train_with_validation_data_validates_from_zero_state_and_trains_as_without_it(one_char):
    """Validation goes into the history, from zero state, and changes nothing that training does."""
    models = [
        sf.build_model(one_char.input_shape, one_char.n_classes, units=4, stateful=True, batch_size=1) for _ in "ab"
    ]
    models[1].set_weights(models[0].get_weights())
    validated = sf.train(models[0], one_char, epochs=2, shuffle=False, validation_data=(one_char.X, one_char.y))
    plain = sf.train(models[1], one_char, epochs=2, shuffle=False)

    assert validated["loss"] == plain["loss"] and len(validated["val_loss"]) == 2
    for a, b in zip(models[0].get_weights(), models[1].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    layers = [sf.stateful_layers(model)[0] for model in models]
    for a, b in zip(layer_states(layers[0]), layer_states(layers[1]), strict=True):
        np.testing.assert_array_equal(a, b)
    sf.reset_states(models[0])
    scores = models[0].evaluate(one_char.X, one_char.y, batch_size=1, verbose=0, return_dict=True)
    np.testing.assert_allclose(validated["val_loss"][-1], scores["loss"], rtol=1e-5)
    np.testing.assert_allclose(validated["val_accuracy"][-1], scores["accuracy"], rtol=1e-5)


def test_train_refuses_validation_data_a_stateful_batch_size_does_not_divide(one_char):
    model = sf.build_model(one_char.input_shape, one_char.n_classes, units=4, stateful=True, batch_size=5)
    with pytest.raises(ValueError, match="validation_data: .* must divide the 7 validation samples"):
        sf.train(model, one_char, epochs=1, batch_size=5, validation_data=(one_char.X[:7], one_char.y[:7]))
