"""The model under check (``_Subject``: what its input takes, the copies the rules need, its state) and the
yardstick its outputs are held to (``whole_outputs``, ``chunked_outputs``)."""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np

from statefulness._keras import (
    assign_zeros,
    keras,
    layer_states,
    state_variables,
    to_numpy,
)
from statefulness.check.report import (
    NotApplicable,
    RuleFailed,
    _short,
    _Tolerance,
)
from statefulness.tutorial.model import stateful_layers
from statefulness.tutorial.twin import twin

TOLERANCE: _Tolerance = {"rtol": 1e-5, "atol": 1e-5}
"""Outputs that must be equal are compared with this tolerance (float32 sums in another order)."""

STEPS = 2
"""Time steps per drawn batch where the model's input leaves them free."""

_TIME_MIXING = {
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "SeparableConv1D",
    "DepthwiseConv1D",
    "Conv1DTranspose",
    "MaxPooling1D",
    "AveragePooling1D",
    "GlobalMaxPooling1D",
    "GlobalAveragePooling1D",
    "Flatten",
    "Reshape",
    "Permute",
    "Attention",
    "AdditiveAttention",
    "MultiHeadAttention",
    "GroupQueryAttention",
    "Cropping1D",
    "ZeroPadding1D",
    "UpSampling1D",
    "RepeatVector",
}
"""Layers that mix time steps: fed in chunks, a model with one cannot compute what it computes whole."""

_TRAINING_CHANGES = {
    "Dropout",
    "SpatialDropout1D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "BatchNormalization",
}
"""Layers that compute otherwise in training (dropout, batch statistics)."""

# The model under check.

_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Each model's copy for ``evaluate`` and ``fit``, kept while the model lives: rules run again on one model
(the spec's breadth claims, one per drawn example) reuse its compiled functions."""
_TWINS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Each model's yardstick for whole sequences (its stateless twin, or ``_ITSELF``), kept likewise."""
_ITSELF = object()


class _Subject:
    """The user's model, what its input takes, and the copies the rules need."""

    def __init__(self, model, seed: int, custom_objects: dict | None, oracle: Callable | None = None):
        if not isinstance(model, keras.Model):
            raise TypeError(f"model: expected a built keras.Model, got {type(model).__name__}")
        if oracle is not None and not callable(oracle):
            raise TypeError(f"oracle: expected a callable (x, weights) -> outputs, or None; got {oracle!r}")
        self.model, self.seed, self.custom_objects, self.oracle = model, seed, custom_objects, oracle
        self.layers = stateful_layers(model)
        if not self.layers:
            raise ValueError(
                f"model: expected a model with at least one stateful recurrent layer (stateful=True); "
                f"{model.name!r} has none among its {len(model.layers)} layers"
            )
        try:
            inputs = model.inputs
        except (AttributeError, ValueError):  # Keras 3 before 3.4: an unbuilt Sequential raises
            inputs = None
        if not inputs:
            raise ValueError(
                f"model: expected a built model with a declared input (keras.Input); {model.name!r} has none"
            )
        if len(inputs) != 1:
            raise ValueError(
                f"model: expected one input (a batch of sequences), got {len(inputs)}; "
                "check_model draws one input per call"
            )
        if len(model.outputs) != 1:
            raise ValueError(
                f"model: expected one output, got {len(model.outputs)}; check_model compares one output per call"
            )
        shape = tuple(inputs[0].shape)
        self.batch = shape[0]
        if self.batch is None:
            raise ValueError(
                "model: a stateful layer needs a static batch size (one state row per sample); the "
                f"input's shape is {shape}: declare it with keras.Input(..., batch_size=B)"
            )
        embeddings = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.Embedding)]
        self.vocabulary = min((layer.input_dim for layer in embeddings), default=None)
        if len(shape) < 2 or (len(shape) == 2 and self.vocabulary is None):
            raise ValueError(
                f"model: expected an input of sequences, (batch, time steps, features...), or "
                f"(batch, time steps) of integers into an Embedding; got shape {shape}"
            )
        self.steps = shape[1] or STEPS
        self.time_free = shape[1] is None
        self.features = tuple(shape[2:])
        self.dtype = getattr(inputs[0].dtype, "name", inputs[0].dtype)
        self._clone = self._whole = None

    def describe(self) -> str:
        layers = ", ".join(f"{layer.name} ({type(layer).__name__})" for layer in self.layers)
        return (
            f"{self.model.name!r}: input {(self.batch, None if self.time_free else self.steps, *self.features)}, "
            f"batch size {self.batch}, stateful {layers}"
        )

    # inputs

    def draw(self, *key: int, rows: int | None = None, steps: int | None = None) -> np.ndarray:
        """One batch of ``rows`` sequences of ``steps`` steps, drawn from the seed and ``key`` (each use
        of drawn inputs has its own key)."""
        rng = np.random.default_rng([self.seed, *key])
        shape = (rows or self.batch, steps or self.steps, *self.features)
        if self.vocabulary is not None:
            return rng.integers(0, self.vocabulary, shape).astype(self.dtype)
        return rng.uniform(-1, 1, shape).astype(self.dtype)

    def chunks(self, n: int, key: int = 0) -> list[np.ndarray]:
        return [self.draw(key, k) for k in range(n)]

    # state

    def variables(self, model=None) -> list:
        return [v for layer in stateful_layers(model or self.model) for v in state_variables(layer)]

    def states(self, model=None) -> list[np.ndarray]:
        return [state for layer in stateful_layers(model or self.model) for state in layer_states(layer)]

    def restore(self, values: list[np.ndarray]) -> None:
        for variable, value in zip(self.variables(), values, strict=True):
            variable.assign(value)

    def zero(self, model=None) -> None:
        """Zero every state variable directly (the ground truth that the resets are held against)."""
        for variable in self.variables(model):
            assign_zeros(variable)

    def feed(self, chunks, model=None) -> list[np.ndarray]:
        """Each chunk through the model by a direct call, in turn; their outputs."""
        model = model or self.model
        return [to_numpy(model(chunk)) for chunk in chunks]

    # copies

    def copy(self):
        """A new copy of the model from its config, with its weights, at zero state (``NotApplicable``
        where its config cannot be copied)."""
        try:
            copy = type(self.model).from_config(self.model.get_config(), custom_objects=self.custom_objects)
        except Exception as error:  # noqa: BLE001
            raise NotApplicable(
                f"the model could not be copied from its config ({_short(error)}); "
                "pass custom_objects for its own layers"
            ) from None
        copy.set_weights(self.model.get_weights())
        return copy

    def clone(self, fresh: bool = False):
        """A copy with the same weights, compiled with SGD at learning rate 0 and MSE: ``evaluate`` and
        ``fit`` run it (and move its state) while no weight can move. ``fresh``: a new one."""
        if self._clone is None or fresh:
            copy = None if fresh else _COPIES.get(self.model)
            if copy is None:
                copy = self.copy()
                copy.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
                if not fresh:
                    _COPIES[self.model] = copy
            copy.set_weights(self.model.get_weights())
            self._clone = copy
        return self._clone

    def describe_whole(self) -> str:
        if self.oracle is not None:
            return "the NumPy recurrence"
        return "the stateless twin" if self.whole() is not self.model else "the model itself, reset,"

    def whole(self):
        """What computes the model's output on whole sequences from zero state: the stateless twin with
        free time steps, else (no twin can be made and the time steps are free) the model itself."""
        if self._whole is None:
            made = _TWINS.get(self.model)
            if made is None:
                try:
                    made = twin(self.model, self.custom_objects, free_time=True)
                except Exception as error:  # noqa: BLE001
                    if not self.time_free:
                        raise NotApplicable(
                            f"no stateless twin could be made ({_short(error)}) and the model's "
                            "input has a fixed number of time steps"
                        ) from None
                    made = _ITSELF
                _TWINS[self.model] = made
            elif made is not _ITSELF:
                made.set_weights(self.model.get_weights())
            self._whole = self.model if made is _ITSELF else made
        return self._whole

    def run_whole(self, x: np.ndarray) -> np.ndarray:
        """The model's output on whole sequences ``x`` from zero state: by the ``oracle`` where one was
        given (the spec's NumPy recurrences), else by ``whole()``."""
        if self.oracle is not None:
            return np.asarray(self.oracle(x, self.model.get_weights()))
        model = self.whole()
        if model is not self.model:
            return to_numpy(model(x))
        self.zero()
        try:
            return to_numpy(model(x))
        finally:
            self.zero()


def _close(got, expected) -> float | None:
    """None if ``got`` equals ``expected`` within the tolerance, else the largest difference."""
    got, expected = np.asarray(got, "float64"), np.asarray(expected, "float64")
    if got.shape != expected.shape:
        return float("inf")
    if np.allclose(got, expected, **TOLERANCE):
        return None
    return float(np.max(np.abs(got - expected)))


def _must_equal(got, expected, failure: str) -> None:
    """Raise the rule's failure, with the largest difference, unless ``got`` equals ``expected``."""
    difference = _close(got, expected)
    if difference is not None:
        raise RuleFailed(f"{failure} (max |diff| {difference:.3g})", difference)


def whole_outputs(model, x: np.ndarray, *, oracle: Callable | None = None, custom_objects: dict | None = None):
    """The yardstick: what ``model`` returns on whole sequences ``x`` from zero state, by ``oracle(x,
    weights)`` where given, else by its stateless twin, else (no twin can be made) by the model itself,
    reset (and left at zeros)."""
    return _Subject(model, 0, custom_objects, oracle).run_whole(x)


def chunked_outputs(model, chunks, *, oracle: Callable | None = None, custom_objects: dict | None = None):
    """The yardstick for ``chunks`` fed in turn to ``model`` from zero state: what its outputs joined in
    time must be, from ``whole_outputs`` and what the model's make-up says chunks compute
    (``expected_when_chunked``; ``NotApplicable`` where nothing says)."""
    subject = _Subject(model, 0, custom_objects, oracle)
    chunking = _chunking(model)
    forward = subject.run_whole(np.concatenate(chunks, axis=1))
    backward = None if chunking == "continues" else subject.run_whole(np.concatenate(chunks[::-1], axis=1))
    return expected_when_chunked(forward, backward, [chunk.shape[1] for chunk in chunks], chunking)


def expected_when_chunked(
    forward: np.ndarray, backward: np.ndarray | None, lengths: list[int], chunking: str
) -> np.ndarray:
    """What a stateful model fed chunks of ``lengths`` steps returns, joined in time, from what it returns
    on the whole sequences from zero state: ``forward`` (the chunks in order) and ``backward`` (the chunks
    in reverse order). ``chunking``: ``"continues"`` (the chunks continue one another), ``"backwards"`` (a
    ``go_backwards`` layer: the chunks in reverse order, read backwards), ``"bidirectional"`` (the forward
    half continues; the backward half is the reversed chunks', each slice back at its own steps)."""
    if chunking == "continues":
        return forward
    if backward is None:
        raise ValueError(f"backward: the whole sequences read in reverse are needed for chunking {chunking!r}")
    if chunking == "backwards":
        return backward
    ends = np.cumsum(lengths[::-1])
    pieces = np.split(backward, ends[:-1], axis=1)[::-1]
    half = forward.shape[-1] // 2
    return np.concatenate([forward[..., :half], np.concatenate(pieces, axis=1)[..., half:]], axis=-1)


def _names(layer) -> set[str]:
    return {cls.__name__ for cls in type(layer).__mro__}


def _chunking(model) -> str:
    """What the model fed in chunks must equal (``expected_when_chunked``), or not applicable."""
    inside_rnns = {
        id(inner)
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.RNN)
        for inner in layer._flatten_layers(include_self=False)
    }
    for layer in model._flatten_layers(include_self=False):
        if id(layer) in inside_rnns:
            continue
        if _names(layer) & _TIME_MIXING:
            raise NotApplicable(
                f"layer {layer.name!r} ({type(layer).__name__}) mixes time steps, so chunks "
                "cannot compute what whole sequences do"
            )
        if isinstance(layer, keras.layers.RNN) and not layer.stateful:
            raise NotApplicable(
                f"layer {layer.name!r} ({type(layer).__name__}) is a stateless recurrent layer: "
                "it starts every chunk from zeros"
            )
    layers = stateful_layers(model)
    wrappers = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.Bidirectional)]
    if wrappers:
        if (
            len(wrappers) == 1
            and len(layers) == 2
            and model.layers[-1] is wrappers[0]
            and wrappers[0].merge_mode == "concat"
        ):
            return "bidirectional"
        raise NotApplicable(
            "a Bidirectional layer that is not the model's only recurrent layer and its last "
            "(with merge_mode='concat'): no yardstick for its chunks"
        )
    if any(layer.go_backwards for layer in layers):
        if len(layers) == 1:
            return "backwards"
        raise NotApplicable("a go_backwards layer among several stateful layers: no yardstick for its chunks")
    return "continues"
