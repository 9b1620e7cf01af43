"""Save the tutorial's stateful model the tutorial's way, with Keras 2: ``LSTM(16, batch_input_shape=(1, 1, 1),
stateful=True)`` then ``Dense(26, softmax)``, saved as ``.h5``, with weights spread evenly over [-1, 1] and the
outputs of two consecutive one-letter batches (the second continuing from the state of the first).

    CI=1 .tox/tf215/bin/python scripts/save_keras2_tutorial_model.py spec/data

Spec chapter 8 loads the file with the installed Keras and compares (``tox -e save-keras2`` runs this).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from statefulness._keras import KERAS_MAJOR, KERAS_VERSION, keras

INPUTS = [[[[0.0]]], [[[1 / 26]]]]
"""Two batches of one sample of one step: the letters A and B as the tutorial encodes them (index / 26)."""


def main(folder: str) -> None:
    if KERAS_MAJOR != 2:
        raise SystemExit(f"this script saves with Keras 2 (the tutorial's way); this is Keras {KERAS_VERSION}")
    version = KERAS_VERSION
    model = keras.Sequential(
        [
            keras.layers.LSTM(16, batch_input_shape=(1, 1, 1), stateful=True),
            keras.layers.Dense(26, activation="softmax"),
        ]
    )
    model.set_weights([np.linspace(-1, 1, w.size, dtype="float32").reshape(w.shape) for w in model.get_weights()])
    outputs = [model.predict_on_batch(np.array(x, "float32")).tolist() for x in INPUTS]
    path = Path(folder) / f"tutorial-keras{version}.h5"
    model.save(path, save_format="h5")
    record = {"saved_by": f"Keras {version}", "inputs": INPUTS, "outputs": outputs}
    path.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    print(path)


if __name__ == "__main__":
    main(sys.argv[1])
