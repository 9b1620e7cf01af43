"""Train every recipe over many seeds and keep the per-seed results: the evidence behind every
learning-claim threshold that ``statefulness/experiments/catalogue.py`` declares.

    python scripts/calibrate.py --seeds 0-19 --tier full --jobs 2 --experiments one_char window_features \
        window_timesteps within_batch stateful split_sequence
    python scripts/calibrate.py --seeds 0-9 --tier default --jobs 2 --experiments variable_length
    python scripts/calibrate.py --seeds 0-4 --tier full --jobs 2 --experiments variable_length
    python scripts/calibrate.py --table        # rewrite calibration/TABLE.md from the results

Results are appended to ``calibration/results.jsonl`` (one line per experiment, tier, seed, Keras, backend
and way of training, XLA or not; a run already there is skipped), so the script can be stopped and resumed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "calibration"
RESULTS = HERE / "results.jsonl"


def seeds(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def load() -> list[dict]:
    return [json.loads(line) for line in RESULTS.read_text().splitlines()] if RESULTS.exists() else []


def calibrate(experiments, tiers, seed_list, jobs: int = 1) -> None:
    """Train what ``results.jsonl`` lacks for this environment and way of training (XLA or not, unrolled or not), in
    ``jobs`` worker processes of one thread each (``jobs=1``: in this process)."""
    from statefulness import versions
    from statefulness._keras import XLA_TRAINING
    from statefulness.experiments import EXPERIMENTS
    from statefulness.experiments.workers import run_experiments

    env = versions()

    done = {(r["experiment"], r["tier"], r["seed"]) for r in load() if _same_training(r, env, XLA_TRAINING, False)}
    todo = [
        (name, tier, seed)
        for tier in tiers
        for name in experiments
        # the default tier of a recipe without a shorter schedule is the full one: the full rows calibrate it
        if tier == "full" or EXPERIMENTS[name].quick_epochs
        for seed in seed_list
        if (name, tier, seed) not in done
    ]

    def keep(i, outcome):
        name, tier, seed = todo[i]
        row = {
            "experiment": name,
            "tier": tier,
            "seed": seed,
            **outcome.figures.to_dict(),
            "wall_s": outcome.wall_s,
            "keras": env["keras"],
            "backend": env["backend"],
            "tensorflow": env.get("tensorflow"),
            "xla": outcome.xla,
            "unroll": outcome.unroll,
        }
        with RESULTS.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)

    run_experiments([(name, {"seed": seed, "full": tier == "full"}) for name, tier, seed in todo], jobs, finished=keep)


def _same_training(row, env, xla, unroll) -> bool:
    """Whether ``row`` was trained by this Keras and backend, the same way (rows from before XLA have no
    "xla", from before unrolling no "unroll")."""
    same_way = (row.get("xla", False), row.get("unroll", False)) == (xla, unroll)
    return (row["keras"], row["backend"]) == (env["keras"], env["backend"]) and same_way


def table() -> str:
    from statefulness.experiments import EXPERIMENTS

    rows = load()
    lines = [
        "# Calibration of the learning claims",
        "",
        "Per-seed results of `scripts/calibrate.py` (raw rows: `results.jsonl`). Each learning claim's threshold",
        "in `statefulness/experiments/catalogue.py` cites the rows below; the spec's fixed seeds are among them.",
        "",
    ]
    for r in rows:
        r.setdefault("xla", False)
        r.setdefault("unroll", False)
    group_keys = ("experiment", "tier", "epochs", "keras", "backend", "xla", "unroll")
    groups = sorted({tuple(r[k] for k in group_keys) for r in rows})
    for experiment, tier, epochs, keras, backend, xla, unroll in groups:
        sel = sorted(
            (
                r
                for r in rows
                if tuple(r[k] for k in group_keys) == (experiment, tier, epochs, keras, backend, xla, unroll)
            ),
            key=lambda r: r["seed"],
        )
        keys = [k for k in sel[0] if k not in (*group_keys, "seed", "tensorflow")]
        for r in sel:
            r.setdefault("tier", tier)
        way = f"Keras {keras} on {backend} {'with' if xla else 'without'} XLA{', unrolled' if unroll else ''}"
        lines += [f"## {experiment}, {tier} tier ({epochs} epochs), {way}, {len(sel)} seeds", ""]
        lines.append("| seed | " + " | ".join(keys) + " |")
        lines.append("|---:|" + "---:|" * len(keys))
        for r in sel:
            lines.append(f"| {r['seed']} | " + " | ".join(_fmt(r[k]) for k in keys) + " |")
        numeric = [k for k in keys if isinstance(sel[0][k], (int, float)) and not isinstance(sel[0][k], bool)]
        for label, fn in (("min", min), ("max", max)):
            lines.append(
                f"| **{label}** | "
                + " | ".join(_fmt(fn(r[k] for r in sel)) if k in numeric else "" for k in keys)
                + " |"
            )
        held = EXPERIMENTS[experiment].claims if experiment in EXPERIMENTS else ()
        for claim in held:
            ok = sum(claim.holds_for(r) for r in sel)
            lines.append(f"\n- `{claim.id}` ({claim.threshold_text}): holds for {ok} of {len(sel)} seeds")
        lines.append("")
    return "\n".join(lines) + "\n"


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=seeds, default=seeds("0-9"))
    parser.add_argument("--tier", choices=["default", "full", "both"], default="both")
    parser.add_argument("--experiments", nargs="*")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes of one thread each (default: 1)")
    parser.add_argument("--table", action="store_true", help="only rewrite calibration/TABLE.md")
    args = parser.parse_args(argv)
    if not args.table:
        from statefulness.experiments.workers import one_thread

        one_thread()  # before Keras loads (jobs=1): as statefulness run and the spec train
        from statefulness.experiments import EXPERIMENTS

        tiers = ["default", "full"] if args.tier == "both" else [args.tier]
        calibrate(args.experiments or EXPERIMENTS, tiers, args.seeds, args.jobs)
    (HERE / "TABLE.md").write_text(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
