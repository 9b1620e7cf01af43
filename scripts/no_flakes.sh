#!/usr/bin/env bash
# The default tier N times in a row (default 10), each with a new random test order (pytest-randomly)
# and new hypothesis examples (the non-derandomised "dev" profile). Prints each run's seed and verdict;
# exits non-zero if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
failed=0
for i in $(seq 1 "$runs"); do
    seed=$(python -c "import random; print(random.randrange(2**32))")
    start=$(date +%s)
    if HYPOTHESIS_PROFILE=dev pytest -q --randomly-seed="$seed" > "/tmp/no_flakes_$i.log" 2>&1; then
        verdict=green
    else
        verdict=RED; failed=1
    fi
    echo "run $i: --randomly-seed=$seed $verdict in $(( $(date +%s) - start )) s: $(grep -E '(passed|failed|error)' "/tmp/no_flakes_$i.log" | tail -n 1)"
done
exit $failed
