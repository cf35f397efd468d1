#!/bin/sh
# test.sh -- what `make test` runs after building: unit tests, then a short fuzz of every
# decoder beside the integration tests against the real peers. Ends with one line
# counting every test.
# Usage: mk/test.sh BUILD_DIR BIN_DIR UNIT_TEST...
set -u
build=$1 bin=$2
shift 2
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)

# add_counts PASSED FAILED
add_counts() { passed=$((passed + $1)); failed=$((failed + $2)); }

for t in "$@"; do
    echo "== $t"
    "$t" --jobs 2 >"$log" 2>&1
    rc=$?
    cat "$log"
    line=$(grep 'Synthesis:' "$log" | tail -n 1)
    p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
    f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\) | Crashing: \([0-9]*\).*/\1 \2/p')
    if [ -z "$p" ]; then
        add_counts 0 1
        echo "FAIL $t printed no summary (exit $rc)"
    else
        add_counts "$p" $(( $(echo "$f" | cut -d' ' -f1) + $(echo "$f" | cut -d' ' -f2) ))
    fi
done

# The short fuzz runs beside the integration tests, which spend most of their time
# waiting on servers, timers and leases.
fuzzlog=$(mktemp)
trap 'rm -f "$log" "$fuzzlog"' EXIT
make --no-print-directory -j2 fuzz-smoke BUILD="$build" >"$fuzzlog" 2>&1 &
fuzzpid=$!

BIN=$bin BUILD=$(cd "$build" && pwd) sh tests/integration/run.sh | tee "$log"
echo "== fuzz-smoke"
if wait "$fuzzpid"; then fuzzrc=0; else fuzzrc=1; fi
grep -v '^clang ' "$fuzzlog"
if [ "$fuzzrc" -eq 0 ]; then add_counts 1 0; else add_counts 0 1; echo "FAIL fuzz-smoke"; fi
line=$(grep -E '^integration: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
if [ -n "$line" ]; then
    add_counts "$(echo "$line" | cut -d' ' -f2)" "$(echo "$line" | cut -d' ' -f4)"
else
    add_counts 0 1
fi

echo "all tests: $passed passed, $failed failed, in $(( $(date +%s) - start )) s"
[ "$failed" -eq 0 ]
