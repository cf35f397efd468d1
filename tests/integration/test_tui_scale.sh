#!/bin/bash
# test_tui_scale.sh -- the TUI with a service of more instances than it once held (64): at
# 80x24, in English and in Chinese, the Registry pane counts every key and says how many
# it cannot show; with the load on, the Traffic pane's rows and its "more" count add up to
# every instance, each of which the load calls.
# Needs tmux, etcd and etcdctl; the instances are gob-server processes of the test's own,
# registered in a private etcd (TUI_SCALE_N of them, 100 by default; TUI_SCALE_SHOW=1
# prints the screens with the load on).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/tui_lib.sh"
if ! command -v etcdctl >/dev/null; then
    echo "SKIP etcdctl is not installed (make test installs etcd-client)"
    summary
    exit 0
fi
N=${TUI_SCALE_N:-100}
ulimit -n "$(ulimit -Hn)" 2>/dev/null

etcd_or_exit tuiscale
keys() { etcdctl --endpoints "$EP" --dial-timeout 2s get --prefix --keys-only workbench/ | grep -c .; }
for _ in $(seq "$N"); do
    "$BIN/gob-server" --listen 127.0.0.1:0 --quiet --registry "$URL" --service workbench --ttl 30 \
        >/dev/null 2>>"$TMP/instances.err" &
    PIDS="$PIDS $!"
done
wait_until 60 test "$(keys)" -ge "$N"
expect_eq "$N gob-server instances registered" "$N" "$(keys)"

# traffic_total: the Traffic pane's rows on screen plus the count of those below it
traffic_total() {
    local s shown more
    s=$(screen)
    shown=$(echo "$s" | grep -oE '[0-9]+\.[0-9]% +[0-9]+\.[0-9]/s' | grep -c .)
    more=$(echo "$s" | grep -A 100 -E 'load (ON|off)|负载' | grep -m 1 -oE '↓ (还有 )?[0-9]+' | grep -oE '[0-9]+')
    echo $((shown + ${more:-0}))
}

# LANG_ARGS KEYS_TEXT MORE_TEXT NAME
check_screen() {
    start_tui 80 24 "--registry $URL $1"
    if wait_for 30 "$2"; then ok "$4: the Registry pane counts every key ($2)"; else bad "$4: the Registry pane counts every key" "$(screen)"; fi
    if screen | grep -qE "$3"; then ok "$4: it says how many it cannot show ($(screen | grep -oE "$3" | tail -n 1))"
    else bad "$4: it says how many it cannot show" "$(screen)"; fi
    key l
    total=0
    for _ in $(seq 50); do
        total=$(traffic_total)
        [ "$total" = "$N" ] && break
        sleep 0.2
    done
    if [ "$total" = "$N" ]; then ok "$4: the load calls all $N instances (rows shown + the count below)"
    else bad "$4: the load calls all $N instances" "got $total in: $(screen)"; fi
    [ -n "${TUI_SCALE_SHOW:-}" ] && screen # to look at
    if screen | grep -qE 'left out|未收录'; then bad "$4: nothing is left out" "$(screen)"; else ok "$4: nothing is left out"; fi
    key l
    key q
    wait_for 15 'TUI-EXITED' || bad "$4: the TUI quits" "$(screen)"
}

check_screen "" "watch live, $N keys" '↓ [0-9]+ more' "English"
check_screen "--lang zh" "监视[^，]*，$N 个键" '↓ 还有 [0-9]+ 个' "Chinese"
summary
