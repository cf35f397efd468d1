#!/bin/bash
# attack.sh -- `make attack`: every bench/*_attack.sh in turn, each run against fresh
# servers on loopback with SECONDS as its attack length (default 10), each printing its
# own figures; then which ran and how each ended.
#   BIN=bin bash bench/attack.sh [SECONDS]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-10}
summary=() failed=0
for script in "$ROOT"/bench/*_attack.sh; do
    name=$(basename "$script" .sh)
    echo "=== $name ($SECS s per attack; load average $(cut -d' ' -f1-3 /proc/loadavg))"
    t0=$SECONDS
    bash "$script" "$SECS"
    rc=$?
    [ $rc -eq 0 ] && how=ran || { how="FAILED (exit $rc)"; failed=$((failed + 1)); }
    summary+=("$(printf '  %-18s %s in %d s' "$name" "$how" $((SECONDS - t0)))")
    echo
done
echo "=== make attack: ${#summary[@]} script(s)"
printf '%s\n' "${summary[@]}"
exit $((failed > 0))
