#!/bin/sh
# run.sh -- runs every integration test script (they speak to real peers: Go, nc) and
# prints one total line.
set -u
here=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0
for t in "$here"/test_*.sh; do
    echo "== $(basename "$t")"
    bash "$t" | tee "${TMPDIR:-/tmp}/wb-integration.out"
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "${TMPDIR:-/tmp}/wb-integration.out" | tail -n 1)
    if [ -z "$last" ]; then
        echo "FAIL $(basename "$t") ended without its summary line"
        failed=$((failed + 1))
        continue
    fi
    passed=$((passed + $(echo "$last" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$last" | cut -d' ' -f3)))
done
rm -f "${TMPDIR:-/tmp}/wb-integration.out"
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
