"""Deploying a stateful model: ``export`` (``statefulness.export``, ``statefulness export``) writes an artifact
that keeps the state rules, ``litert`` runs the LiteRT converter in a process of its own. Spec chapter 18
holds each route to the state rules. This package's ``__init__`` loads no Keras (the command line reads
``FORMATS`` for its help)."""

FORMATS = ("saved_model", "litert")
"""What ``export`` writes: a SavedModel directory (TF Serving, ``tf.saved_model.load``), or a LiteRT file."""
