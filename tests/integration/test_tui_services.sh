#!/bin/bash
# test_tui_services.sh -- the order and user services and the REST gateway, driven from the
# TUI like the sample servers: spawned with keys, registered under their own names in the
# private etcd, called with curl through the gateway, an order instance killed, quit clean.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
if ! command -v curl >/dev/null; then
    echo "SKIP curl is not installed (make test installs it)"
    summary
    exit 0
fi
. "$ROOT/tests/integration/tui_lib.sh"

# the TUI makes its scratch directory (databases included) under a TMPDIR of this test's own
export TMPDIR=$TMP/tui-tmp
mkdir -p "$TMPDIR"
start_tui 130 40
wait_for 15 'Instances' || bad "the TUI starts" "$(screen)"
key o; key o; key u
cmd "spawn gateway"
if wait_for 20 '^│.4 +gw +127' && wait_for 20 'gateway/127'; then ok "o, u and :spawn gateway start two order servers, a user server and the gateway"
else bad "o, u and :spawn gateway start two order servers, a user server and the gateway" "$(screen)"; fi
n=$(screen | grep -cE '^│ *▶?[0-9]+ +order +127.* running')
expect_eq "two order rows are running" 2 "$n"
if wait_for 10 'order/127.*order/127' || [ "$(screen | grep -c 'order/127')" -ge 2 ]; then ok "both order servers are in the Registry pane under their own name"
else bad "both order servers are in the Registry pane under their own name" "$(screen)"; fi
expect_grep "the user server is in the Registry pane" "user/127" "$(screen)"
GW=$(screen | sed -n 's/.*gateway\/\(127\.0\.0\.1:[0-9]*\).*/\1/p' | head -n 1)

# req METHOD PATH [curl options...]: sets CODE and BODY
req() {
    m=$1 p=$2
    shift 2
    CODE=$(curl -s -o "$TMP/resp" -w '%{http_code}' --max-time 20 -X "$m" "http://$GW$p" "$@")
    BODY=$(cat "$TMP/resp" 2>/dev/null)
}
req POST /user/register -d '{"name":"du","password":"spring-dawn"}'
expect_eq "POST /user/register through the TUI's gateway" 201 "$CODE"
req POST /user/login -d '{"name":"du","password":"spring-dawn"}'
TOKEN=$(printf '%s' "$BODY" | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
expect_eq "login gives a token" 64 "${#TOKEN}"
req POST /orders -H "Authorization: Bearer $TOKEN" -d '{"item":"茶","quantity":1}'
expect_eq "POST /orders" 201 "$CODE"
FIRST=$(printf '%s' "$BODY" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')

# kill -9 the first order server (row 1: the selection is on the newest row, the gateway)
for _ in 1 2 3; do key Up; done
if screen | grep -qE '^│▶1 +order'; then ok "↑ selects the first order server"; else bad "↑ selects the first order server" "$(screen)"; fi
key k
if wait_for 10 '^│▶1 +order.*killed'; then ok "k kills it"; else bad "k kills it" "$(screen)"; fi
placed=0
for i in 1 2 3 4 5 6; do
    req POST /orders -H "Authorization: Bearer $TOKEN" -d "{\"item\":\"after-$i\",\"quantity\":1}"
    [ "$CODE" = 201 ] && placed=$((placed + 1))
done
expect_eq "orders go on through the other order server" 6 "$placed"
req GET "/orders/$FIRST" -H "Authorization: Bearer $TOKEN"
expect_eq "the order placed before the kill is still there (shared SQLite)" 200 "$CODE"

expect_grep "while it runs, the session's databases are in its scratch directory under TMPDIR" ".db" \
    "$(ls "$TMPDIR"/wb-tui.* 2>/dev/null)"
pids=$(pgrep -P "$WB" | tr '\n' ' ')
key q
if wait_for 20 'TUI-EXITED 0'; then ok "q quits"; else bad "q quits" "$(screen)"; fi
sleep 0.5
expect_eq "no server, gateway or etcd is left running" "" "$(left_running $pids)"
expect_eq "the session's databases are removed" "" "$(ls -d "$TMPDIR"/wb-tui.* 2>/dev/null)"
summary
