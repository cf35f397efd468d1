#!/bin/sh
# run.sh -- runs every integration test script (they speak to real peers: Go, nc) and
# prints one total line.
set -u
here=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$here"/test_*.sh; do
    echo "== $(basename "$t")"
    t0=$(date +%s)
    bash "$t" | tee "$out"
    echo "== $(basename "$t"): $(($(date +%s) - t0)) s"
    last=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    if [ -z "$last" ]; then
        echo "FAIL $(basename "$t") ended without its summary line"
        failed=$((failed + 1))
        continue
    fi
    passed=$((passed + $(echo "$last" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$last" | cut -d' ' -f3)))
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
