"""The tutorial's learning claims, each with the figure it is judged on and its threshold.

Thresholds are numbers written here once and read by the spec (``spec/test_1*.py``), by
``statefulness run`` and by the calibration table (``calibration/TABLE.md``), whose per-seed rows show
how far each one sits from what the experiments really give.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .data import ALPHABET

# --- thresholds (see calibration/TABLE.md for the per-seed figures behind each) --------------------

LEARNT = 1.0
"""A framing "learns the alphabet" when every training pattern is predicted right: accuracy 1.0.
The naive framings' claims are the negation: below 1.0."""

WINDOW_TIMESTEPS_MIN_ACCURACY = 1.0
"""Three letters as three time steps: all 23 patterns right."""

VARIABLE_LENGTH_MIN_ACCURACY = 0.90
"""Reproduction of the tutorial: 98.4 %."""

VARIABLE_LENGTH_MIN_SUBSEQUENCES = 0.90
"""Share of all 115 runs of 1 to 5 letters (padded as in training) predicted right."""


@dataclass(frozen=True)
class Claim:
    """One learning claim: its id, what the tutorial reported, and how an outcome is judged."""

    id: str
    experiment: str
    statement: str
    tutorial: str
    threshold_text: str
    observe: Callable[[dict], str]
    test: Callable[[dict], bool]

    def holds_for(self, figures: dict) -> bool:
        return bool(self.test(figures))


def figures(outcome) -> dict:
    """The numbers and strings the claims are judged on, flat, from one :class:`Outcome`."""
    extras = outcome.extras
    right = [p for p, a in outcome.predictions.items() if a == ALPHABET[ALPHABET.index(p[-1]) + 1]]
    out = {
        "accuracy": round(outcome.accuracy, 6),
        "patterns_right": len(right),
        "patterns": len(outcome.predictions),
    }
    if outcome.experiment == "stateful":
        out.update(from_A=extras["from_A"], cold_K=extras["cold_K"], warm_K=extras["warm_K"])
    elif outcome.experiment == "within_batch":
        out.update(random_right=extras["random_patterns_correct"], random=extras["random_patterns"])
    elif outcome.experiment == "variable_length":
        out.update(
            subsequences_right=extras["subsequences"] - len(extras["subsequences_wrong"]),
            subsequences=extras["subsequences"],
            unseen_right=len(extras["unseen"]) - len(extras["unseen_wrong"]),
            unseen=len(extras["unseen"]),
            wrong=" ".join(extras["subsequences_wrong"]),
        )
    return out


def _pct(f: dict) -> str:
    return f"{100 * f['accuracy']:.2f} % ({f['patterns_right']}/{f['patterns']} patterns)"


CLAIMS: list[Claim] = [
    Claim(
        "one_char_does_not_learn", "one_char",
        "A stateless LSTM given one letter at a time does not learn the whole alphabet.",
        tutorial="84.00 % (poor; 'the LSTM units do not have any context')",
        threshold_text="accuracy < 1.0",
        observe=_pct,
        test=lambda f: f["accuracy"] < LEARNT,
    ),
    Claim(
        "window_features_does_not_learn", "window_features",
        "Three letters as three features of one time step still do not learn it all.",
        tutorial="86.96 % (82.61 % in a public reproduction): 'a small lift that may or may not be real'",
        threshold_text="accuracy < 1.0",
        observe=_pct,
        test=lambda f: f["accuracy"] < LEARNT,
    ),
    Claim(
        "window_timesteps_learns", "window_timesteps",
        "Three letters as three time steps of one feature learn all 23 patterns.",
        tutorial="100 % ('learns the problem perfectly')",
        threshold_text=f"accuracy >= {WINDOW_TIMESTEPS_MIN_ACCURACY}",
        observe=_pct,
        test=lambda f: f["accuracy"] >= WINDOW_TIMESTEPS_MIN_ACCURACY,
    ),
    Claim(
        "within_batch_learns", "within_batch",
        "All 25 patterns in one ordered batch: 100 % on the training patterns and on patterns drawn at random.",
        tutorial="100 % on the training patterns and on 20 random patterns",
        threshold_text="accuracy == 1.0 and 20/20 random patterns",
        observe=lambda f: f"{_pct(f)}; random patterns {f['random_right']}/{f['random']}",
        test=lambda f: f["accuracy"] >= LEARNT and f["random_right"] == f["random"],
    ),
    Claim(
        "stateful_learns", "stateful",
        "The stateful one-letter model, reset every epoch, learns the alphabet.",
        tutorial="100 %",
        threshold_text="accuracy == 1.0",
        observe=_pct,
        test=lambda f: f["accuracy"] >= LEARNT,
    ),
    Claim(
        "stateful_generates_the_alphabet_from_A", "stateful",
        "Reset and seeded with 'A', the stateful model generates B to Z.",
        tutorial="A -> B ... Y -> Z",
        threshold_text="generated == 'BCD...Z'",
        observe=lambda f: "A" + f["from_A"],
        test=lambda f: f["from_A"] == ALPHABET[1:],
    ),
    Claim(
        "stateful_cold_start_at_K_goes_wrong", "stateful",
        "Seeded cold with 'K', the stateful model does not go on with 'L'.",
        tutorial="K -> B, then on through the alphabet",
        threshold_text="first letter after a cold 'K' != 'L'",
        observe=lambda f: "K -> " + f["cold_K"],
        test=lambda f: f["cold_K"][0] != "L",
    ),
    Claim(
        "stateful_warmed_up_predicts_L_after_K", "stateful",
        "Warmed up on A to J first, the stateful model predicts 'L' after 'K'.",
        tutorial="'the state of the network would need to be warmed up' (not run)",
        threshold_text="prediction after A..J, K == 'L'",
        observe=lambda f: "A..J, K -> " + f["warm_K"],
        test=lambda f: f["warm_K"] == "L",
    ),
    Claim(
        "variable_length_learns", "variable_length",
        "Random runs of 1 to 5 letters, pre-padded: high accuracy on the training draws.",
        tutorial="98.40 % (the tutorial's run was interrupted; figure from a reproduction)",
        threshold_text=f"accuracy >= {VARIABLE_LENGTH_MIN_ACCURACY}",
        observe=lambda f: f"{100 * f['accuracy']:.2f} %",
        test=lambda f: f["accuracy"] >= VARIABLE_LENGTH_MIN_ACCURACY,
    ),
    Claim(
        "variable_length_generalises", "variable_length",
        "The variable-length model answers the runs of 1 to 5 letters, drawn for training or not.",
        tutorial="111 of 115 runs right in a reproduction",
        threshold_text=f"share of the 115 runs right >= {VARIABLE_LENGTH_MIN_SUBSEQUENCES}",
        observe=lambda f: (f"{f['subsequences_right']}/{f['subsequences']} runs right, "
                           f"{f['unseen_right']}/{f['unseen']} never drawn; wrong: {f['wrong'] or '-'}"),
        test=lambda f: f["subsequences_right"] >= VARIABLE_LENGTH_MIN_SUBSEQUENCES * f["subsequences"],
    ),
]

CLAIMS_BY_ID = {c.id: c for c in CLAIMS}
