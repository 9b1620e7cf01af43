"""The learning claims' table: well formed, judged on the figures the recipes produce."""

from statefulness.experiments import EXPERIMENTS, claims_by_id

CLAIMS = list(claims_by_id().values())


def test_every_experiment_declares_claims_and_each_claim_knows_its_experiment():
    assert all(experiment.claims for experiment in EXPERIMENTS.values())
    assert all(claim in EXPERIMENTS[claim.experiment].claims for claim in CLAIMS)


def test_each_claim_separates_an_outcome_that_meets_it_from_one_that_does_not():
    """Each claim's test can fail: judged on figures on both sides of its threshold."""
    holds = {
        "epochs": 500,
        "tier": "full",
        "accuracy": 1.0,
        "patterns_right": 25,
        "patterns": 25,
        "from_A": "BCDEFGHIJKLMNOPQRSTUVWXYZ",
        "cold_K": "BCDEF",
        "cold_K_next": "B",
        "warm_K": "L",
        "random_right": 20,
        "random": 20,
        "subsequences_right": 110,
        "subsequences": 115,
        "unseen_right": 0,
        "unseen": 1,
        "wrong": "L P Q S U Y",
        "stateless_later_pieces": 0.5,
        "stateless_first_piece": 1.0,
        "stateful_later_pieces": 1.0,
        "stateful_shuffled_later_pieces": 0.5,
        "stateful_no_reset_later_pieces": 0.8,
    }
    breaks = {
        "one_char_does_not_learn": {"accuracy": 1.0},
        "window_features_does_not_learn": {"accuracy": 1.0},
        "window_timesteps_learns": {"accuracy": 0.913},
        "within_batch_learns": {"random_right": 19},
        "stateful_learns": {"accuracy": 0.96},
        "stateful_generates_the_alphabet_from_A": {"from_A": "BCDEFGHIJKLMNOPQRSTUVWXYY"},
        "stateful_cold_start_at_K_goes_wrong": {"cold_K_next": "L"},
        "stateful_warmed_up_predicts_L_after_K": {"warm_K": "B"},
        "variable_length_learns": {"accuracy": 0.85},
        "variable_length_generalises": {"subsequences_right": 100},
        "variable_length_is_not_right_on_every_run": {"subsequences_right": 115, "unseen_right": 1},
        "split_stateless_is_at_chance": {"stateless_later_pieces": 0.9},
        "split_stateful_learns": {"stateful_later_pieces": 0.6},
        "split_shuffled_does_not_learn": {"stateful_shuffled_later_pieces": 0.95},
        "split_without_resets_does_worse": {"stateful_no_reset_later_pieces": 1.0},
    }
    naive = {"one_char_does_not_learn", "window_features_does_not_learn"}
    for claim in CLAIMS:
        good = {**holds, "accuracy": 0.84} if claim.id in naive else holds
        assert claim.holds_for(good), claim.id
        assert not claim.holds_for({**good, **breaks[claim.id]}), claim.id
        assert claim.observe(good)


def test_known_deviations_match_version_ranges_with_alternatives():
    from statefulness.deviations import DEVIATIONS, Deviation

    deviation = Deviation(id="x", keras="<3.12 | >=3.14", diagnosis="d", backends=("tensorflow",))
    assert [deviation.covers(v, "tensorflow") for v in ("2.15.0", "3.11.3", "3.12.0", "3.13.2", "3.14.0")] == [
        True,
        True,
        False,
        False,
        True,
    ]
    assert not deviation.covers("3.15.1", "jax")
    assert all(
        d.diagnosis and (d.tests or d.rules) and all("/" in c.test and "::" not in c.test for c in d.tests)
        for d in DEVIATIONS
    )


def test_a_pre_release_is_judged_by_its_number():
    """keras-nightly (``3.16.0.devN``) is inside ``>=3.14`` and outside ``<3.12``, as its number says."""
    from statefulness.deviations import Deviation

    assert Deviation(id="x", keras=">=3.14", diagnosis="d").covers("3.16.0.dev2026102704", "tensorflow")
    assert not Deviation(id="x", keras=">=3,<3.12", diagnosis="d").covers("3.16.0.dev2026102704", "tensorflow")
