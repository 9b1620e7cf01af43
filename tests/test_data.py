"""The library's datasets: the tutorial's four framings, and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from statefulness import ALPHABET, FRAMINGS, all_subsequences, make_dataset


@pytest.mark.parametrize(
    "framing, shape, first",
    [
        ("one_char", (25, 1, 1), ("A", "B")),
        ("window_features", (23, 1, 3), ("ABC", "D")),
        ("window_timesteps", (23, 3, 1), ("ABC", "D")),
        ("variable_length", (1000, 5, 1), None),
    ],
)
def test_each_framing_has_the_tutorials_shape(framing, shape, first):
    ds = make_dataset(framing)
    assert ds.X.shape == shape and ds.X.dtype == np.float32
    assert ds.y.shape == (shape[0], 26) and ds.y.dtype == np.float32
    assert np.all(ds.y.sum(axis=1) == 1)
    if first:
        assert (ds.patterns[0], ds.targets[0]) == first


def test_letters_are_scaled_by_the_alphabets_length():
    ds = make_dataset("window_timesteps")
    np.testing.assert_allclose(ds.X[1, :, 0], np.array([1, 2, 3]) / 26, rtol=1e-6)
    assert ds.y[1].argmax() == 4


def test_variable_length_draws_as_the_tutorial_and_pre_pads():
    ds = make_dataset("variable_length", seed=0)
    lengths = {len(p) for p in ds.patterns}
    assert lengths == {1, 2, 3, 4, 5}
    assert "Y" not in ds.patterns  # the tutorial's draw never starts at the second-to-last letter
    for pattern, x in zip(ds.patterns[:50], ds.X[:50], strict=True):
        expected = [0.0] * (5 - len(pattern)) + [ALPHABET.index(c) / 26 for c in pattern]
        np.testing.assert_allclose(x[:, 0], expected, rtol=1e-6)
    assert make_dataset("variable_length", seed=0).patterns == ds.patterns
    assert make_dataset("variable_length", seed=1).patterns != ds.patterns


def test_all_subsequences_counts_every_run_with_a_successor():
    runs = all_subsequences(5)
    assert len(runs) == 115 and len(set(runs)) == 115
    assert "Y" in runs and "Z" not in runs and "VWXYZ" not in runs


@given(
    st.lists(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"), min_size=4, max_size=12, unique=True).map(
        "".join
    ),
    st.sampled_from(FRAMINGS),
)
def test_any_alphabet_of_distinct_symbols_works_and_round_trips(alphabet, framing):
    window = {"window_features": 2, "window_timesteps": 3}.get(framing)
    ds = make_dataset(framing, alphabet=alphabet, window=window) if window else make_dataset(framing, alphabet=alphabet)
    assert len(ds) > 0 and ds.n_classes == len(alphabet)
    assert ds.decode(ds.y) == "".join(ds.targets)
    np.testing.assert_array_equal(ds.encode(list(ds.patterns[:3])), ds.X[:3])
    for pattern, target in zip(ds.patterns, ds.targets, strict=True):
        assert alphabet.index(target) == alphabet.index(pattern[-1]) + 1


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"framing": "two_char"}, ValueError, "framing: expected one of one_char"),
        ({"framing": "one_char", "alphabet": ""}, ValueError, "alphabet: expected at least 2"),
        ({"framing": "one_char", "alphabet": "ABCA"}, ValueError, "alphabet: letters must be distinct, 'A'"),
        ({"framing": "one_char", "alphabet": ["A", "B"]}, TypeError, "alphabet: expected a string"),
        ({"framing": "window_timesteps", "window": 26}, ValueError, "window: expected at most 25"),
        ({"framing": "window_timesteps", "window": 0}, ValueError, "window: expected an integer >= 1"),
        ({"framing": "window_timesteps", "window": 2.5}, TypeError, "window: expected an integer"),
        ({"framing": "one_char", "window": 3}, ValueError, "window: applies to the window framings only"),
        ({"framing": "one_char", "seed": 3}, ValueError, "seed: applies to the variable_length framing only"),
        ({"framing": "variable_length", "max_len": 0}, ValueError, "max_len: expected an integer >= 1"),
        ({"framing": "variable_length", "num_samples": -1}, ValueError, "num_samples: expected an integer >= 1"),
        ({"framing": "variable_length", "alphabet": "AB"}, ValueError, "at least 3 letters"),
    ],
)
def test_bad_arguments_are_named_in_the_error(kwargs, error, words):
    with pytest.raises(error, match=words):
        make_dataset(**kwargs)


@pytest.mark.parametrize(
    "framing, text, words",
    [
        ("one_char", "a", "letters 'a' are not in the alphabet"),
        ("one_char", "AB", "takes exactly 1 letters, got 2"),
        ("window_timesteps", "AB", "takes exactly 3 letters, got 2"),
        ("variable_length", "ABCDEF", "takes 1 to 5 letters, got 6"),
        ("variable_length", "", "takes 1 to 5 letters, got 0"),
    ],
)
def test_encoding_text_outside_the_framing_is_refused(framing, text, words):
    with pytest.raises(ValueError, match=words):
        make_dataset(framing).encode(text)


def test_decoding_checks_the_shape():
    with pytest.raises(ValueError, match=r"probabilities: expected shape \(rows, 26\)"):
        make_dataset("one_char").decode(np.zeros((2, 25)))
