"""The tutorial's library in current Keras: the datasets (``data``), the model and what a user of a stateful
model needs around it (``model``: reset, warm up, predict, generate), one-call training (``training``), the
stateless twin, the copy at another batch size and the step model (``twin``), and the stateful layout of
long sequences (``layout``). Importing it loads Keras; ``statefulness`` gives the same names."""
