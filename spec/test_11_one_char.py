"""Chapter 11 (tutorial, "Naive LSTM for Learning One-Char to One-Char Mapping"): one letter in, the
next letter out, LSTM(32), batch size 1, shuffled, 500 epochs. Each batch holds one pattern and the
state starts from zero for each (chapter 3), so the LSTM has no context: it is used as a multilayer
perceptron, and a poor one on this framing. Default tier: the tutorial's full schedule."""

import pytest

from .learning import check

pytestmark = pytest.mark.learning


@pytest.mark.claim("one-char/one_char_does_not_learn")
def test_a_stateless_lstm_fed_one_letter_at_a_time_does_not_learn_the_alphabet(outcomes, observe):
    """Accuracy on the 25 patterns stays below 100 % (tutorial: 84 %)."""
    check("one_char_does_not_learn", outcomes("one_char"), observe)
