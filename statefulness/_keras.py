"""The one module that knows which Keras is installed.

Keras 2 (``tf.keras`` on TensorFlow 2.12-2.15, or ``tf_keras`` on newer TensorFlow with
``TF_USE_LEGACY_KERAS=1``) and Keras 3 (TensorFlow 2.16+, or standalone on JAX or PyTorch) differ in a
few places that matter to stateful RNNs. Every such difference is absorbed here, so that the rest of the
project, and the spec, never branch on versions or backends.

What is *not* hidden here: what each version *does* with state. That is the spec's subject.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import numpy as np

from statefulness import _versions

# Importing a backend is not under test: older TensorFlow releases emit DeprecationWarnings from their
# own imports (sre_constants, ml_dtypes, distutils), which the spec's warnings-as-errors would turn fatal.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    if _versions.LEGACY_KERAS:
        import tf_keras as keras  # Keras 2 on TensorFlow 2.16+
    else:
        import keras

__all__ = [
    "BACKEND",
    "BATCH_SIZE_REFUSAL",
    "KERAS_MAJOR",
    "KERAS_VERSION",
    "MODEL_HAS_RESET_STATES",
    "keras",
    "clear_session",
    "assign_zeros",
    "layer_states",
    "state_variables",
    "fit_inputs",
    "max_steps_per_execution",
    "quiet_backend_logs",
    "random_state",
    "restore_random_state",
    "seed_everything",
    "XLA_BY_DEFAULT",
    "XLA_TRAINING",
    "SAVED_MODEL_EXPORT",
    "MODEL_EXPORT",
    "ONNX_EXPORT",
    "TORCH_EXPORT",
    "ExportArchive",
    "tflite_interpreter",
    "tensorflow",
    "quietly",
    "versions",
]

KERAS_VERSION: str = keras.__version__
KERAS_MAJOR: int = int(KERAS_VERSION.split(".")[0])
BACKEND: str = keras.backend.backend()


MODEL_HAS_RESET_STATES: bool = hasattr(keras.Model, "reset_states")
"""Whether this Keras's models have ``reset_states()``. Keras 2's ``Model.reset_states`` resets each
top-level layer that has a ``reset_states`` method; Keras 3 removed it (keras-team/keras#20327): only
layers have ``reset_state()``/``reset_states()``. Read from the installed ``keras.Model``, not its version."""


BATCH_SIZE_REFUSAL: tuple[type[Exception], str] = {
    2: (ValueError, "is incompatible with the layer"),
    3: (ValueError, "If an RNN is stateful, the batch size of the input sequences must be the same"),
}[KERAS_MAJOR]
"""How this Keras refuses a batch of another size than a stateful layer was built for, on purpose: the
exception and words of its message. Keras 2 checks the input against the layer's input spec (which holds
the batch size); Keras 3 checks in ``RNN.call`` from 3.12 (keras/src/layers/rnn/rnn.py, PR #21742). Read
from runs of every env of the matrix (Keras 2.12 to 2.21, Keras 3.13 and 3.15 on TensorFlow, JAX, PyTorch);
before 3.12 a refusal, where there is one, is an accident of the cell's arithmetic (a known deviation)."""


XLA_TRAINING: bool = KERAS_MAJOR >= 3 and BACKEND in ("tensorflow", "jax")
"""Whether the experiments train with XLA here (``compile(jit_compile=True)``, TensorFlow's op determinism off).

Measured by ``benchmarks/xla_determinism.py`` (``benchmarks/xla-determinism.md``): with XLA, every recipe
trained twice, each time in a fresh process, gives bit-identical weights, with one thread and with the
backend's own thread counts, on Keras 3.15.1 with TensorFlow 2.21 and with JAX; spec chapter 10 checks it on
every env. On TensorFlow, op determinism must be off for XLA: from Keras 3.7 ``compile`` drops
``jit_compile=True`` while it is on (``model_supports_jit``, keras/src/trainers/trainer.py). JAX compiles
with XLA anyway (``jit_compile="auto"``). Not XLA:

- Keras 2 (2.12, 2.15, tf-keras 2.21): with ``jit_compile=True`` every training step costs 0.2 to 0.4 s and
  about 5 MB that is never freed (one_char: 4 epochs in 20 s and 1.5 GB, against 0.3 s without), with
  ``steps_per_execution`` 1 or 25 alike; the full schedules would not finish.
- PyTorch: ``jit_compile=True`` means ``torch.compile``, not XLA; it trains eagerly, as ``"auto"`` does.
"""


def _saved_model_export() -> str | None:
    import importlib.util

    if BACKEND == "jax" and importlib.util.find_spec("tensorflow") is not None:
        return (
            "this route writes TensorFlow functions over the model's own tf.Variables, which a JAX model has not "
            "(on JAX, model.export() converts the model with jax2tf: spec chapter 18)"
        )
    if BACKEND != "tensorflow":
        return (
            f"model.export() of a {BACKEND} model writes its SavedModel through TensorFlow (jax2tf, or none on "
            "PyTorch), which this env does not install"
        )
    if not hasattr(keras.Model, "export"):
        return f"Keras {KERAS_VERSION} models have no export() (Keras 2.12 added it)"
    return None


SAVED_MODEL_EXPORT: str | None = _saved_model_export()
"""Why this env cannot export a SavedModel of a TensorFlow-backed model with ``model.export(path)`` (the
routes that write TensorFlow functions of their own, such as a ``reset`` endpoint, the converter and
``statefulness.export``); None where it can (TensorFlow backend, Keras 2.12 or later)."""


def _model_export() -> str | None:
    import importlib.util

    if BACKEND == "jax" and importlib.util.find_spec("tensorflow") is not None:
        return None  # jax2tf: the JAX function converted to TensorFlow, written as a SavedModel
    return SAVED_MODEL_EXPORT


MODEL_EXPORT: str | None = _model_export()
"""Why ``model.export(path)`` and ``keras.export.ExportArchive`` cannot write a SavedModel of this env's
model; None where they can: the TensorFlow backend as ``SAVED_MODEL_EXPORT`` says, and JAX where TensorFlow
is installed (``tox -e deploy-jax``)."""


def _export_archive():
    if MODEL_EXPORT is not None:
        return None
    import importlib

    found = getattr(importlib.import_module(f"{keras.__name__}.export"), "ExportArchive", None)
    if found is None:  # Keras 2.12 has it, but neither imports keras.export nor exports it from there
        found = importlib.import_module(f"{keras.__name__}.export.export_lib").ExportArchive
    return found


ExportArchive: Any = _export_archive()
"""``keras.export.ExportArchive`` (a SavedModel with the endpoints and signatures the user writes); None
where ``MODEL_EXPORT`` says there is no SavedModel export."""


def quietly(write, path: str) -> None:
    """``write(path)`` of an export (``model.export``, ``ExportArchive.write_out``) without its printed list
    of endpoints: ``verbose=False`` where this Keras takes it (3.5 and later print by default; older ones
    take no such argument and print nothing)."""
    import inspect

    if "verbose" in inspect.signature(write).parameters:
        write(path, verbose=False)
    else:
        write(path)


def _onnx_export() -> str | None:
    import importlib.util

    if SAVED_MODEL_EXPORT is not None:
        return SAVED_MODEL_EXPORT
    if KERAS_MAJOR < 3 or importlib.util.find_spec(f"{keras.__name__}.src.export.onnx") is None:
        return f"Keras {KERAS_VERSION} has no model.export(format='onnx')"
    missing = [name for name in ("tf2onnx", "onnx", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:
        return f"ONNX export needs {', '.join(missing)}, not installed here (pip install 'statefulness[onnx]')"
    return None


ONNX_EXPORT: str | None = _onnx_export()
"""Why this env cannot export to ONNX with ``model.export(path, format="onnx")`` and run it with
onnxruntime; None where it can (TensorFlow backend, a Keras 3 with the ONNX route, the ``onnx`` extra)."""


def _torch_export() -> str | None:
    import importlib.util

    if BACKEND != "torch":
        return f"model.export(format='torch') writes a PyTorch ExportedProgram of a torch model, not a {BACKEND} one"
    if importlib.util.find_spec(f"{keras.__name__}.src.export.torch") is None:
        return f"Keras {KERAS_VERSION} has no model.export(format='torch') (Keras 3.15 added it)"
    return None


TORCH_EXPORT: str | None = _torch_export()
"""Why this env cannot write a PyTorch ExportedProgram (``.pt2``) with ``model.export(path, format="torch")``;
None where it can (the PyTorch backend, a Keras that has the route)."""


def tensorflow():
    """TensorFlow, for the export routes: imported on first use (the JAX and PyTorch envs install none)."""
    import tensorflow as tf

    return tf


def tf_data_missing() -> str | None:
    """Why ``tf.data`` cannot feed ``fit`` here; None where it can (TensorFlow is installed)."""
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        return f"tf.data needs TensorFlow, which this env ({BACKEND} backend) does not install"
    return None


def py_dataset(
    length: int, getitem, *, workers: int = 0, use_multiprocessing: bool = False, max_queue_size: int = 10
) -> tuple[Any, dict]:
    """A Keras dataset of ``length`` batches whose ``i``-th is ``getitem(i)`` (Keras 3's ``PyDataset``,
    Keras 2's ``Sequence``), and the ``fit`` arguments that run it on ``workers`` threads, or processes
    with ``use_multiprocessing``, reading ahead into a queue of ``max_queue_size`` batches: Keras 3 takes
    these in the dataset, Keras 2 in ``fit`` (workers 0: Keras's default, which tf-keras 2.16+ insists is
    positive)."""
    base = getattr(keras.utils, "PyDataset", None) or keras.utils.Sequence

    class Batches(base):  # type: ignore[misc, valid-type]
        def __len__(self):
            return length

        def __getitem__(self, index):
            return getitem(index)

    options = (
        {"workers": workers, "use_multiprocessing": use_multiprocessing, "max_queue_size": max_queue_size}
        if workers
        else {}
    )
    return (Batches(**options), {}) if KERAS_MAJOR >= 3 else (Batches(), options)


WORKERS_PAUSE_AT_EPOCH_END: float = 5.0 if KERAS_MAJOR < 3 else 0.0
"""Seconds a ``fit`` over a ``Sequence`` with ``workers`` waits at each epoch's end: Keras 2 (2.12 to
tf-keras 2.21) makes a new iterator per epoch, and dropping the old one waits for its generator, which
blocks in the enqueuer's ``queue.get(block=True, timeout=5)`` (``keras/utils/data_utils.py``,
``OrderedEnqueuer.get``) until the timeout. Keras 3's ``PyDataset`` does not pause. Measured: 16 s for a
fit of 3 epochs of 4 tiny batches on TF 2.12, 2.15 and tf-keras 2.21, against 1 s without workers."""


def tflite_interpreter(model_content: bytes):
    """An interpreter of a LiteRT (TFLite) flatbuffer: ``ai_edge_litert``'s where installed, else the one
    TensorFlow ships (``tf.lite.Interpreter``, deprecated from TF 2.20 for the former: its warning is
    silenced here, as the warning is not under test)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tf.lite.Interpreter(model_content=model_content)
    return Interpreter(model_content=model_content)


XLA_BY_DEFAULT: bool = BACKEND == "jax"
"""Whether Keras compiles these models with XLA by default on the CPU (``jit_compile="auto"``): on JAX only;
there ``jit_compile=False`` runs eagerly, some hundred times slower."""


def seed_everything(seed: int, *, xla: bool = False) -> None:
    """Seed Python, NumPy and the backend through ``keras.utils.set_random_seed``.

    On TensorFlow, op determinism is switched on too, so that the same seed gives the same weights;
    ``xla=True`` leaves it off instead, for a model compiled with ``jit_compile=True`` (see
    :data:`XLA_TRAINING`: Keras 3.7+ drops XLA while op determinism is on).
    """
    keras.utils.set_random_seed(seed)
    if BACKEND == "tensorflow":
        from tensorflow.python.framework import config  # is_op_determinism_enabled is not public

        if config.is_op_determinism_enabled() == xla:
            (config.disable_op_determinism if xla else config.enable_op_determinism)()


def random_state() -> dict:
    """The global random states that building and running a model may draw from, and TensorFlow's op
    determinism: Python's and NumPy's generators, Keras 3's global ``SeedGenerator``, Keras 2's seed
    generator and TensorFlow's eager op-seed generator, PyTorch's generator. ``restore_random_state`` puts
    them back."""
    state: dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state()}
    seeds = _keras2_seed_generator()
    if seeds is not None:
        state["keras2"] = seeds.getstate()
    if KERAS_MAJOR >= 3:
        from keras.src.backend.common import global_state

        generator = global_state.get_global_attribute("global_seed_generator")
        state["keras"] = None if generator is None else (generator, to_numpy(generator.state.value))
    if BACKEND == "tensorflow":
        from tensorflow.python.eager import context
        from tensorflow.python.framework import config  # is_op_determinism_enabled is not public

        rng = getattr(context.context(), "_rng", None)
        state["tf_op_seeds"] = None if rng is None else rng.getstate()
        state["tf_determinism"] = config.is_op_determinism_enabled()
    if BACKEND == "torch":
        import torch

        state["torch"] = torch.get_rng_state()
    return state


def _keras2_seed_generator():
    """Keras 2's own ``random.Random`` that seeds its initializers (``backend._SEED_GENERATOR``, set by
    ``keras.utils.set_random_seed``), or None."""
    if KERAS_MAJOR >= 3:
        return None
    import sys

    for name in (f"{keras.__name__}.src.backend", f"{keras.__name__}.backend"):
        holder = getattr(sys.modules.get(name), "_SEED_GENERATOR", None)
        if holder is not None:
            return getattr(holder, "generator", None)
    return None


def restore_random_state(state: dict) -> None:
    """Put back what ``random_state()`` saw."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if "keras2" in state:
        _keras2_seed_generator().setstate(state["keras2"])
    if "keras" in state:
        from keras.src.backend.common import global_state

        if state["keras"] is None:
            global_state.set_global_attribute("global_seed_generator", None)
        else:
            generator, value = state["keras"]
            generator.state.assign(value)
            global_state.set_global_attribute("global_seed_generator", generator)
    if "tf_op_seeds" in state:
        from tensorflow.python.eager import context
        from tensorflow.python.framework import config

        if state["tf_op_seeds"] is not None:
            context.context()._rng.setstate(state["tf_op_seeds"])
        if config.is_op_determinism_enabled() != state["tf_determinism"]:
            (config.enable_op_determinism if state["tf_determinism"] else config.disable_op_determinism)()
    if "torch" in state:
        import torch

        torch.set_rng_state(state["torch"])


def clear_session() -> None:
    """Free the models and layer names of earlier work (``keras.backend.clear_session``).

    Keras 3 also runs Python's garbage collector unless told ``free_memory=False``: a third of a second
    per call on JAX, paid before every test of the spec; Python collects on its own schedule anyway.
    """
    if KERAS_MAJOR >= 3:
        keras.backend.clear_session(free_memory=False)
    else:
        keras.backend.clear_session()


ops: Any = keras.ops if KERAS_MAJOR >= 3 else keras.backend
"""The tensor operations a user's own cell computes with: Keras 3's ``keras.ops``; Keras 2 has none, and
its ``keras.backend`` offers the few a cell needs under the same names (``tanh``, ``dot``, ``sigmoid``)."""


def state_variables(layer) -> list:
    """The variables that hold a stateful RNN layer's state, flattened (``[h, c]`` for an LSTM;
    ``[h1, h2, c2]`` for an ``RNN`` over a GRU and an LSTM cell; forward then backward for a
    ``Bidirectional``). Empty before the layer has stored any."""
    if not hasattr(layer, "states") and isinstance(layer, keras.layers.Bidirectional):  # Keras 2's has none
        return state_variables(layer.forward_layer) + state_variables(layer.backward_layer)
    variables = flatten(layer.states)
    return [] if any(v is None for v in variables) else variables


def layer_states(layer) -> list[np.ndarray]:
    """The stored states of a stateful RNN layer as NumPy arrays, in the order of ``state_variables``."""
    if KERAS_MAJOR >= 3 and BACKEND != "tensorflow":
        # ``Variable.numpy()`` goes through ``np.array(variable)``, which NumPy 2 warns about on JAX/torch
        return [np.array(keras.ops.convert_to_numpy(s.value)) for s in state_variables(layer)]
    return [np.array(s.numpy()) for s in state_variables(layer)]


def assign_states(layer, values) -> None:
    """Set a stateful RNN layer's stored states to ``values`` (arrays in the order of ``state_variables``):
    the inverse of ``layer_states``."""
    for variable, value in zip(state_variables(layer), values, strict=True):
        variable.assign(value)


def backend_variable(variable):
    """The backend's own variable behind a state variable: Keras 3 wraps one (``keras.Variable._value``: a
    ``tf.Variable``, or a ``tf.distribute`` variable under a strategy); Keras 2's state variables are
    ``tf.Variable``s themselves."""
    return getattr(variable, "_value", variable) if KERAS_MAJOR >= 3 else variable


def assign_zeros(variable) -> None:
    """Set a state variable to zeros (Keras 2's are ``tf.Variable``s, Keras 3's ``keras.Variable``s)."""
    variable.assign(np.zeros(tuple(variable.shape), dtype=getattr(variable.dtype, "name", variable.dtype)))


def flatten(structure) -> list:
    """The leaves of nested lists and tuples (none for ``None``)."""
    if structure is None:
        return []
    if isinstance(structure, (list, tuple)):
        return [leaf for part in structure for leaf in flatten(part)]
    return [structure]


def pack_like(structure, leaves: list):
    """``leaves`` (as ``flatten`` gives them) in the nesting of ``structure``'s lists and tuples (a layer's
    ``states``: ``[h, c]``, or ``[h1, [h2, c2]]`` for an ``RNN`` over a GRU and an LSTM cell)."""
    leaves = list(leaves)

    def pack(node):
        if isinstance(node, (list, tuple)):
            return [pack(part) for part in node]
        return leaves.pop(0)

    packed = pack(structure)
    if leaves:
        raise ValueError(f"leaves: {len(leaves)} more than the structure has")
    return packed


def quiet_backend_logs() -> None:
    """Keep the backend's Python-level advice (TensorFlow's retracing warnings) out of the output."""
    if BACKEND == "tensorflow":
        import logging

        logging.getLogger("tensorflow").setLevel(logging.ERROR)


def fit_inputs(x: np.ndarray, y: np.ndarray, batch_size: int) -> dict[str, Any]:
    """The arguments of ``fit`` that feed it ``x`` and ``y`` in order, in whole batches of ``batch_size`` (which
    divides them): on TensorFlow a ``tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size,
    drop_remainder=True)``, elsewhere the arrays; ``shuffle=False`` both ways.

    The same batches, so the same training (spec chapter 10 holds ``train`` to a loop of ``fit`` calls on
    the arrays), and cheaper: Keras's array adapter gathers each batch from the whole array in a
    ``tf.data`` map on a thread of its own. Measured (``benchmarks/training_feed.py``: variable_length's full
    schedule, batches of one, XLA, one-thread processes side by side): the same weights, bit for bit, in 91 s
    of training and 83 s of CPU against 129 s and 148 s. Alone, with a core to spare for the adapter's
    thread, no faster: the steps themselves are the cost. ``drop_remainder`` keeps the batch dimension static,
    which a stateful layer built for batches of one needs (the deviation 'fit on a dataset of unknown batch
    size 1')."""
    if BACKEND != "tensorflow":
        return fit_arrays(x, y, batch_size)
    dataset = tensorflow().data.Dataset.from_tensor_slices((x, y)).batch(batch_size, drop_remainder=True)
    return {"x": dataset, "shuffle": False}  # fit warns of a shuffle it ignores otherwise


def fit_arrays(x: np.ndarray, y: np.ndarray, batch_size: int) -> dict[str, Any]:
    """The arguments of ``fit`` that feed it the arrays ``x`` and ``y`` in order (``fit_inputs`` off TensorFlow)."""
    return {"x": x, "y": y, "batch_size": batch_size, "shuffle": False}


def max_steps_per_execution() -> int | None:
    """The largest ``steps_per_execution`` that works here (``None``: no limit).

    Keras 3 on PyTorch runs one step per call only. Keras 3 before 3.9 on TensorFlow unrolls the steps of
    an execution in Python inside one ``tf.function``, and TensorFlow refuses more than 32
    ``Iterator.get_next()`` calls in one function ("An unusually high number ... was detected").
    """
    if BACKEND == "torch":
        return 1
    if KERAS_MAJOR >= 3 and BACKEND == "tensorflow" and _version() < (3, 9):
        return 32
    return None


def batches_done(batch: int, steps_per_execution: int) -> int:
    """How many batches have run when a callback's ``on_*_batch_end(batch, ...)`` is called.

    With ``steps_per_execution`` > 1, Keras calls batch callbacks once per execution: Keras 2 and Keras 3
    from 3.11 pass the index of the execution's last batch, Keras 3 before 3.11 that of its first.
    """
    if KERAS_MAJOR >= 3 and _version() < (3, 11):
        return batch + steps_per_execution
    return batch + 1


def _version() -> tuple[int, int]:
    major, minor = (int(part) for part in KERAS_VERSION.split(".")[:2])
    return major, minor


def versions() -> dict[str, str]:
    """Python, Keras, backend and backend-library versions, for reports and the pytest header: those of
    the Keras imported here, the rest from package metadata (:mod:`statefulness._versions`)."""
    return _versions.versions(keras=KERAS_VERSION, package=keras.__name__, backend=BACKEND)


def get_steps_per_execution(model) -> int:
    """The compiled model's ``steps_per_execution``."""
    if KERAS_MAJOR >= 3:
        return int(model.steps_per_execution)
    return int(model._steps_per_execution.numpy())


def set_steps_per_execution(model, steps: int) -> None:
    """Change a compiled model's ``steps_per_execution`` without recompiling (which would reset Adam).

    Keras 2 keeps it in a variable that its compiled functions read; Keras 3 reads a plain attribute
    when it traces, so its compiled functions are dropped and traced again.
    """
    if steps == get_steps_per_execution(model):
        return
    if KERAS_MAJOR >= 3:
        model.steps_per_execution = steps
        model.train_function = model.test_function = model.predict_function = None
    else:
        model._steps_per_execution.assign(steps)


def to_tensor(x):
    """A backend tensor of ``x`` (Keras 2 layers refuse NumPy arrays as ``initial_state``)."""
    if KERAS_MAJOR >= 3:
        return keras.ops.convert_to_tensor(x)
    import tensorflow as tf

    return tf.convert_to_tensor(x)


def to_numpy(x) -> np.ndarray:
    """What a layer or model call returned, as a NumPy array (on PyTorch, detached from autograd)."""
    if KERAS_MAJOR >= 3:
        return np.array(keras.ops.convert_to_numpy(x))
    return np.array(x)
