"""Chapter 15 (tutorial, "Stateful LSTM for a One-Char to One-Char Mapping"): one letter per sample,
batch size 1, ``stateful=True``, no shuffling, the state reset after each epoch ("the end of the
training sequence"), 300 epochs. The state now runs from letter to letter across batches (chapter 3),
so the model learns the alphabet as a sequence; but only as the sequence that starts at "A" from a
reset state. Default tier: the tutorial's full schedule."""

import pytest

from .learning import check

pytestmark = pytest.mark.learning


@pytest.mark.claim("stateful/stateful_learns")
def test_a_stateful_lstm_reset_every_epoch_learns_the_alphabet(outcomes, observe):
    """Evaluated in order from a reset state, all 25 patterns are right (tutorial: 100 %)."""
    check("stateful_learns", outcomes("stateful"), observe)


@pytest.mark.claim("stateful/stateful_generates_the_alphabet_from_A")
def test_reset_and_seeded_with_A_the_stateful_model_generates_the_alphabet(outcomes, observe):
    """Feeding each prediction back in, one ``predict`` per letter, from "A" gives B to Z."""
    check("stateful_generates_the_alphabet_from_A", outcomes("stateful"), observe)


@pytest.mark.claim("stateful/stateful_cold_start_at_K_goes_wrong")
def test_seeded_cold_with_K_the_stateful_model_does_not_go_on_with_L(outcomes, observe):
    """From a reset state "K" looks like the start of the sequence, so the model does not answer "L"
    (the tutorial saw "B": it falls back to the alphabet's start)."""
    check("stateful_cold_start_at_K_goes_wrong", outcomes("stateful"), observe)


@pytest.mark.claim("stateful/stateful_warmed_up_predicts_L_after_K")
def test_warmed_up_on_A_to_J_the_stateful_model_predicts_L_after_K(outcomes, observe):
    """Fed A to J first (``warm_up``), the state is where the sequence stands at "K", and the model
    answers "L": what the tutorial says "would need" to be done."""
    check("stateful_warmed_up_predicts_L_after_K", outcomes("stateful"), observe)
