"""Deploying a stateful model: what the export routes need around Keras's own calls (``litert``: a LiteRT
flatbuffer converted in a process of its own). Spec chapter 18 holds each route to the state rules."""
