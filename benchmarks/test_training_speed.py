"""pytest-benchmark: the same short schedules trained the tutorial's way and the library's way.

    pytest benchmarks --benchmark-only --benchmark-group-by=param:case

Not part of the spec (no timing is ever asserted); compare the two rows of each group.
"""

import pytest
from tutorial_port import train_the_tutorials_way

from statefulness.experiments.run import run_experiment

CASES = {"stateful": 60, "within_batch": 500, "one_char": 60}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("way", ["tutorial", "library"])
def test_training_speed(benchmark, case, way):
    epochs = CASES[case]
    if way == "tutorial":
        benchmark.pedantic(train_the_tutorials_way, args=(case,), kwargs={"epochs": epochs}, rounds=2, iterations=1)
    else:
        benchmark.pedantic(run_experiment, args=(case,), kwargs={"epochs": epochs}, rounds=2, iterations=1)
