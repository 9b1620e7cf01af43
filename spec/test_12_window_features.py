"""Chapter 12 (tutorial, "Naive LSTM for a Three-Char Feature Window to One-Char Mapping"): the
three previous letters as three features of a single time step. More context, but no sequence: the
LSTM still runs one step per sample. Default tier: the tutorial's full schedule."""

import pytest

from .learning import check

pytestmark = pytest.mark.learning


@pytest.mark.claim("window-features/window_features_does_not_learn")
def test_a_window_of_three_letters_as_features_still_does_not_learn_it_all(outcomes, observe):
    """Accuracy on the 23 patterns stays below 100 % (tutorial: 86.96 %, "a small lift that may or may
    not be real")."""
    check("window_features_does_not_learn", outcomes("window_features"), observe)
