"""``statefulness.check_model`` against the mutants: each rule must be seen to fail against a breakage.

    python -m mutants.check NAME      # (in a fresh process) the rules that fail under mutant NAME, as JSON

Run by ``python -m mutants`` after the spec for every mutant, on the built-in example models and on the
spec's shapes whose code paths differ (nested state, the generic loop); it prints the rules that caught
each mutant and fails if a rule was never seen failing.
"""

from __future__ import annotations

import json
import sys

from statefulness.rule_ids import route_rules

MODELS = ("tutorial", "stacked-gru-lstm", "bidirectional-lstm", "rnn-stacked-cells", "simple-rnn")
"""Kinds of the catalogue (``statefulness.check.kinds``) whose code paths differ: the tutorial's, a stack, a wrapper,
nested state, the generic loop."""

DEPLOY_MODELS = ("stacked-gru-lstm",)
"""The kinds the deployment rules run on too (``check_model(deploy=True)``): a stack of batch three (Keras 3
cannot export a model of batch one, a known deviation), where each route writes an artifact."""

NEVER_FAILS_ON_KERAS_3 = {
    "reset-zeroes[model.reset_states()]": "Keras 3 models have no reset_states() (the rule is not applicable "
    "there), and the mutants patch Keras 3",
    "exported-refuses-other-batch-size[model.export()]": "a known deviation of every Keras 3 release the "
    "mutants patch ('export serves any batch size'): it shows as that, never as a failure",
    "exported-resets[TFLiteConverter]": "a known deviation of every TensorFlow ('LiteRT reset_all_variables "
    "keeps the state'): it shows as that, never as a failure",
    **{
        rule: "not applicable without the onnx extra, which the meta-test's env does not install (tox -e deploy "
        "runs the route)"
        for rule in route_rules("model.export(onnx)")
    },
}
"""Rules that no mutant can make fail, with why."""


def build(name: str):
    from statefulness.check import EXAMPLES

    return EXAMPLES[name]()


def failed_rules(mutant: str | None) -> dict[str, list[str]]:
    """Rule id -> the models on which it failed or erred, with ``mutant`` applied (None: none)."""
    if mutant:
        from . import apply

        apply(mutant)
    from statefulness.check import check_model

    failed: dict[str, list[str]] = {}
    for name in MODELS:
        try:
            model = build(name)
        except Exception:  # noqa: BLE001 - a mutant that breaks building leaves check_model nothing to run
            failed.setdefault("(the example cannot be built)", []).append(name)
            continue
        for result in check_model(model, deploy=name in DEPLOY_MODELS).results:
            if result.verdict in ("fail", "error"):
                failed.setdefault(result.rule, []).append(name)
    return failed


if __name__ == "__main__":
    print(json.dumps(failed_rules(sys.argv[1] if len(sys.argv) > 1 else None)))
