"""Chapter 14 (tutorial, "LSTM State Within A Batch"): all 25 one-letter patterns in one ordered batch,
shuffle off, LSTM(16), 5000 epochs. The tutorial reads its success as the LSTM using "the context of
the sequence within the batch". Chapter 4 showed that rows of a batch share no state; here the trained
model shows the same: it predicts each letter alone exactly as it does inside the ordered batch, so
what it learnt is the one-letter mapping, sample by sample, helped by 5000 full-batch steps rather
than by context. Default tier: the tutorial's full schedule."""

import pytest

from .learning import check

pytestmark = pytest.mark.learning


@pytest.mark.claim("within-batch/within_batch_learns")
def test_all_patterns_in_one_ordered_batch_are_learnt_and_answered_at_random(outcomes, observe):
    """100 % on the training patterns and on 20 patterns drawn at random and fed one at a time."""
    check("within_batch_learns", outcomes("within_batch"), observe)


@pytest.mark.claim("within-batch/answers-each-letter-alone-as-inside-the-batch")
def test_the_within_batch_model_answers_each_letter_alone_as_it_does_inside_the_batch(outcomes, observe):
    """The trained model's output for each letter fed alone (a batch of one) equals its output for that
    letter inside the ordered batch of 25, to float32 tolerance: no context from the batch is used."""
    for outcome in outcomes("within_batch"):
        diff = outcome.figures.batch_vs_alone_max_diff
        observe(f"seed {outcome.seed} max |batch - alone|", diff)
        assert diff <= 1e-5, f"seed {outcome.seed}: outputs in the batch and alone differ by {diff:.2g}"
