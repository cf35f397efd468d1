#!/bin/sh
# run.sh -- runs every integration test script (they speak to real peers: Go, nc, etcd,
# consul, tmux ...) in WB_TEST_LANES lanes at once (2 by default, which halves the time on
# two cores; 1 runs them in turn, as `make sanitize` does, where each is slower),
# the longest first, and prints one total line. Each script's output is printed whole
# when it ends, then its time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
lanes=${WB_TEST_LANES:-2}
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT

# The scripts, longest first (seconds on two cores, roughly); a new one goes last.
order="test_lesson_screen test_lessons test_gateway test_failover test_grpc test_grpc_reflect test_grpc_any test_registry
test_jsonrpc test_tui_registry test_tui_wire test_tui_wire_any test_tui test_tui_services test_rooms test_gob
test_gob_own test_call_registry test_tui_screens test_tui_lesson test_lesson_steps test_tui_counts test_build test_tshark"
scripts=""
for n in $order; do [ -f "$here/$n.sh" ] && scripts="$scripts $here/$n.sh"; done
for t in "$here"/test_*.sh; do
    case " $scripts " in *" $t "*) ;; *) scripts="$scripts $t" ;; esac
done

# lane: takes the next script nobody has taken (mkdir is the lock) until none is left
lane() {
    for t in $scripts; do
        n=$(basename "$t" .sh)
        mkdir "$state/$n.taken" 2>/dev/null || continue
        t0=$(date +%s)
        bash "$t" >"$state/$n.out" 2>&1
        t1=$(date +%s)
        # print whole, one script at a time
        while ! mkdir "$state/print.lock" 2>/dev/null; do sleep 0.2; done
        echo "== $n.sh"
        cat "$state/$n.out"
        echo "== $n.sh: $((t1 - t0)) s"
        rmdir "$state/print.lock"
    done
}
i=0
while [ "$i" -lt "$lanes" ]; do
    lane &
    i=$((i + 1))
done
wait

passed=0
failed=0
for t in $scripts; do
    n=$(basename "$t" .sh)
    last=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$state/$n.out" 2>/dev/null | tail -n 1)
    if [ -z "$last" ]; then
        echo "FAIL $n.sh ended without its summary line"
        failed=$((failed + 1))
        continue
    fi
    passed=$((passed + $(echo "$last" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$last" | cut -d' ' -f3)))
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
