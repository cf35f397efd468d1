#!/bin/sh
# tsan.sh -- the unit tests written for threads (tests/unit/threadtest.h: a plain runner
# under ThreadSanitizer, where Criterion cannot start), then the integration tests whose
# programs run threads (the TUI's workers, the load generator, the registry keeper and
# watch, user-server's password workers, the gateway, the TUI's lab, the mDNS responder
# and browser), against a ThreadSanitizer build.
# Fails on a failed check or on any race report.
# Usage: mk/tsan.sh BUILD_DIR BIN_DIR
set -u
build=$(cd "$1" && pwd) bin=$(cd "$2" && pwd)
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
failed=0
for src in $(grep -l '"threadtest.h"' tests/unit/test_*.c); do
    t=$(basename "$src" .c)
    echo "== $t (ThreadSanitizer)"
    if ! make --no-print-directory -j2 BUILD="$build" BIN="$bin" OPT=-O1 \
            SAN='-fsanitize=thread -fno-omit-frame-pointer' "$build/tests/$t" >"$reports/out" 2>&1; then
        cat "$reports/out"
        failed=1
        continue
    fi
    TSAN_OPTIONS="log_path=$reports/race" "$build/tests/$t" >"$reports/out" 2>&1
    grep -aE '^\[FAIL\]|Synthesis' "$reports/out"
    grep -aqE 'Synthesis: .*Failing: 0 \| Crashing: 0' "$reports/out" || failed=1
done
for t in test_gateway test_failover test_registry test_timeline test_tui test_tui_registry test_tui_services test_tui_lab \
        test_mdns; do
    echo "== $t (ThreadSanitizer)"
    TSAN_OPTIONS="log_path=$reports/race" BIN=$bin BUILD=$build SAN=-fsanitize=thread \
        bash "tests/integration/$t.sh" >"$reports/out" 2>&1
    grep -aE '^(FAIL|SKIP)|^[0-9]+ passed' "$reports/out"
    grep -aqE '^[0-9]+ passed, 0 failed' "$reports/out" || failed=1
done
if ls "$reports"/race.* >/dev/null 2>&1; then
    echo "ThreadSanitizer reported:"
    for f in "$reports"/race.*; do sed -n '/WARNING/,/^SUMMARY/p' "$f"; done
    failed=1
fi
[ "$failed" -eq 0 ] && echo "tsan: no race reported, every check passed"
[ "$failed" -eq 0 ]
