"""What ``statefulness run`` shows: per claim, what the tutorial reported, what this Keras did, and the
verdict; as a table on the terminal, as JSON, and as a Markdown report with learning curves."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from statefulness._keras import versions
from statefulness.experiments import EXPERIMENTS, Outcome
from statefulness.experiments.run import training_steps


def run_all(
    names: list[str], seeds: list[int], *, full: bool, progress: bool, jobs: int = 1, epochs: dict | None = None
) -> list[Outcome]:
    """Train each experiment for each seed, the longest first: in this process if ``jobs`` is 1, else in
    that many worker processes of one thread each (``statefulness.experiments.workers``); the outcomes come back in
    the order asked.
    ``epochs``: a shorter schedule for some experiments, by name (the benchmark's)."""
    runs = [(name, seed) for name in names for seed in seeds]
    epochs = epochs or {}
    settings = [{"seed": seed, "full": full, "epochs": epochs.get(name)} for name, seed in runs]
    for name in names:
        experiment = EXPERIMENTS[name]
        schedule = epochs.get(name, experiment.schedule(full))
        shortened = "" if schedule == experiment.epochs else f" (the tutorial's is {experiment.epochs}; --full for it)"
        print(f"{name}: {schedule} epochs{shortened}, seed {', '.join(map(str, seeds))}", file=sys.stderr, flush=True)

    def done(i, outcome):
        (name, seed), accuracy = runs[i], 100 * outcome.accuracy
        print(f"  {name} (seed {seed}) done in {outcome.wall_s:.1f} s, accuracy {accuracy:.2f} %", file=sys.stderr)

    from statefulness.experiments.workers import run_experiments

    steps = {name: training_steps(name, full) for name in names}
    longest_first = sorted(range(len(runs)), key=lambda i: -steps[runs[i][0]])
    if jobs > 1:
        print(f"training {len(runs)} runs in {min(jobs, len(runs))} worker processes ...", file=sys.stderr, flush=True)
    results = run_experiments(
        [(runs[i][0], settings[i] | {"progress": progress and jobs == 1}) for i in longest_first],
        jobs,
        finished=lambda j, outcome: done(longest_first[j], outcome),
    )
    by_run = dict(zip(longest_first, results, strict=True))
    return [by_run[i] for i in range(len(runs))]


def judge(outcomes: list[Outcome]) -> list[dict]:
    """One verdict per claim and outcome of the claim's experiment."""
    verdicts = []
    for outcome in outcomes:
        figs = outcome.figures
        for claim in EXPERIMENTS[outcome.experiment].claims:
            verdicts.append(
                {
                    "claim": claim.id,
                    "experiment": claim.experiment,
                    "seed": outcome.seed,
                    "epochs": outcome.epochs,
                    "statement": claim.statement,
                    "tutorial": claim.tutorial,
                    "observed": claim.observe(figs),
                    "threshold": claim.threshold_text,
                    "holds": claim.holds_for(figs),
                }
            )
    return verdicts


def print_table(
    verdicts: list[dict], outcomes: list[Outcome], *, full: bool, wall_s: float | None = None, file=None
) -> None:
    """The verdicts as a table; ``wall_s``: the wall-clock seconds of the whole run, where known."""
    file = file or sys.stdout
    env = versions()
    print(
        f"\nKeras {env['keras']} on {env['backend']}"
        + (f" (TensorFlow {env['tensorflow']})" if "tensorflow" in env else "")
        + f", {'full' if full else 'default-tier'} schedules\n",
        file=file,
    )
    rows = [("claim", "seed", "tutorial", "observed", "verdict")]
    rows += [
        (v["claim"], str(v["seed"]), v["tutorial"], v["observed"], "holds" if v["holds"] else "FAILS") for v in verdicts
    ]
    widths = [min(max(len(r[i]) for r in rows), 60) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(_clip(cell, w).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=file)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=file)
    held = sum(v["holds"] for v in verdicts)
    total_s = sum(o.wall_s for o in outcomes)
    wall = "" if wall_s is None else f"; {wall_s:.1f} s wall clock in all"
    xla = " with XLA" if outcomes and all(o.xla for o in outcomes) else ""
    print(f"\n{held} of {len(verdicts)} claims hold; training{xla} took {total_s:.1f} s{wall}.", file=file)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def write_json(path: Path, outcomes: list[Outcome], verdicts: list[dict], *, full: bool) -> None:
    data = {
        "environment": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "schedules": "full" if full else "default",
        "outcomes": [o.to_json() for o in outcomes],
        "verdicts": verdicts,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def write_report(directory: Path, outcomes: list[Outcome], verdicts: list[dict], *, full: bool) -> None:
    """``report.md`` with the verdicts and a learning-curve PNG per experiment, in ``directory``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    env = versions()
    lines = [
        "# statefulness run",
        "",
        f"Keras {env['keras']} on {env['backend']}; "
        + ", ".join(f"{k} {v}" for k, v in env.items() if k not in ("keras", "backend")),
        f"Schedules: {'full (the tutorial’s)' if full else 'default tier'}.",
        "",
        "| claim | seed | tutorial | observed | verdict |",
        "|---|---:|---|---|---|",
    ]
    lines += [
        f"| {v['claim']} | {v['seed']} | {v['tutorial']} | {v['observed']} | {'holds' if v['holds'] else '**fails**'} |"
        for v in verdicts
    ]
    for name in dict.fromkeys(o.experiment for o in outcomes):
        runs = [o for o in outcomes if o.experiment == name]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for o in runs:
            step = o.epochs / len(o.history["accuracy"])
            ax.plot(
                [step * (i + 1) for i in range(len(o.history["accuracy"]))],
                o.history["accuracy"],
                label=f"seed {o.seed}",
            )
        ax.set(title=f"{name}: training accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(directory / f"{name}.png", dpi=100)
        plt.close(fig)
        recipe = EXPERIMENTS[name]
        lines += [
            "",
            f"## {name}",
            "",
            f"Tutorial section: “{recipe.section}”. "
            f"LSTM({recipe.units}), batch size {recipe.batch_size}, shuffle={recipe.shuffle}, "
            f"stateful={recipe.stateful}, reset={recipe.reset}; "
            + ", ".join(f"seed {o.seed}: {o.epochs} epochs in {o.wall_s:.1f} s" for o in runs)
            + ".",
            "",
            f"![{name}]({name}.png)",
        ]
    (directory / "report.md").write_text("\n".join(lines) + "\n")
