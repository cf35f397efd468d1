# test_registry.sh -- the registry client against a real etcd (Debian's etcd-server, started
# here on free loopback ports with a temporary data dir): a keeper registers, keeps alive,
# deregisters; entries expire; an etcd restart is survived; a watch sees PUT and DELETE.
# Needs the helper tests/tools/registry_probe.c (built here). Consul (a private agent -dev):
# the watch reports check status changes; a check kind a server cannot pass is refused.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
trap 'exit 130' INT TERM

export ETCDCTL_API=3
# The helper is built against LIBWB (default: the libwb.a of the build under test), with
# SAN's flags if set.
PROBE=$TMP/registry_probe
LIBWB=${LIBWB:-${BUILD:-$ROOT/build}/libwb.a}
if ! cc -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Wshadow -Wno-missing-field-initializers -I"$ROOT/lib" \
        ${SAN:-} -o "$PROBE" "$ROOT/tests/tools/registry_probe.c" "$LIBWB" \
        $(pkg-config --cflags --libs libcjson libcurl libprotobuf-c libnghttp2 ldns) -lpthread -lm 2>"$TMP/probe-build.log"; then
    bad "build tests/tools/registry_probe.c" "$(head -n 20 "$TMP/probe-build.log")"
    summary
    exit 1
fi

now_ms() { date +%s%3N; }
expect_re() { # expect_re NAME EXTENDED-REGEX TEXT
    if printf '%s\n' "$3" | grep -qE -- "$2"; then ok "$1"; else bad "$1" "want to see: $2
in: $(excerpt "$3")"; fi
}

# ---------------- a broken Consul agent (tests/tools/fake_consul.py) ----------------
# No real agent answers like this; the fake plays one that does.
fake_consul() { # fake_consul MODE TAG: starts it, FCPORT is its port
    /usr/bin/python3 "$ROOT/tests/tools/fake_consul.py" "$1" --port-file "$TMP/fc-$2.port" \
        --count-file "$TMP/fc-$2.count" --deadline 30 2>"$TMP/fc-$2.err" &
    PIDS="$PIDS $!"
    wait_until 5 test -s "$TMP/fc-$2.port" || bad "start tests/tools/fake_consul.py $1" "$(cat "$TMP/fc-$2.err")"
    FCPORT=$(cat "$TMP/fc-$2.port" 2>/dev/null)
}
fc_count() { cat "$TMP/fc-$1.count" 2>/dev/null || echo 0; }
fc_at_least() { [ "$(fc_count "$1")" -ge "$2" ]; }

# A good list, then wrong-typed entries: an error, and the instance is kept.
fake_consul garbage g
"$PROBE" watch "consul://127.0.0.1:$FCPORT" calc >"$TMP/fcg.out" 2>"$TMP/fcg.err" &
P=$!
PIDS="$PIDS $P"
wait_until 5 grep -q "^ERROR" "$TMP/fcg.out"
wait_until 5 fc_at_least g 5 # a few more garbage answers
kill -TERM "$P"
wait "$P" 2>/dev/null
w=$(cat "$TMP/fcg.out" "$TMP/fcg.err")
expect_grep "broken consul: wrong-typed entries are an ERROR" "ERROR    consul: health reply entry 0 has no Service object" "$w"
if grep -q "^DELETE" "$TMP/fcg.out"; then bad "broken consul: the known instance is kept (no DELETE)" "$w"
else ok "broken consul: the known instance is kept (no DELETE)"; fi
expect_eq "broken consul: the error is reported once" 1 "$(grep -c "^ERROR" "$TMP/fcg.out")"

# A blocking query that returns at once at the same index: the watch backs off.
fake_consul sameindex s
"$PROBE" watch "consul://127.0.0.1:$FCPORT" calc >"$TMP/fcs.out" 2>"$TMP/fcs.err" &
P=$!
PIDS="$PIDS $P"
wait_until 5 fc_at_least s 2
sleep 3
n=$(fc_count s)
kill -TERM "$P"
wait "$P" 2>/dev/null
if [ "$n" -le 20 ]; then ok "broken consul: a query that does not block is not repeated in a loop ($n requests in 3 s)"
else bad "broken consul: a query that does not block is not repeated in a loop" "$n requests in 3 s (at most 20)"; fi

# More instances than one listing holds (4096): the listing says how many it left out.
fake_consul big b
out=$("$BIN/workbench" registry "consul://127.0.0.1:$FCPORT" calc 2>&1)
expect_eq "a listing of 4100 Consul entries prints the 4096 it holds" 4096 "$(printf '%s\n' "$out" | grep -c '^calc ')"
expect_grep "and says the rest were left out" "(showing 4096 of 4100 entries: one listing holds at most 4096" "$out"

# ---------------- a registry that answers garbage ----------------
# Its replies (not JSON, and an error body) carry a terminal escape and a line break:
# whoever prints them must print them escaped.
cat >"$TMP/garbage_registry.py" <<'PY'
import http.server, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n: self.rfile.read(n)
        body = b"\x1b[2J\nforged line \xff"
        self.send_response(500 if "/v1/" in self.path else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PUT = answer
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
threading.Timer(float(sys.argv[1]), srv.shutdown).start()
srv.serve_forever()
PY
start garbage python3 "$TMP/garbage_registry.py" 60
GPORT=$ADDR
no_raw() { # no_raw NAME TEXT: TEXT holds no ESC and no invalid byte, and shows the escape
    if printf '%s' "$2" | grep -q $'\x1b' || ! printf '%s' "$2" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; then
        bad "$1" "$(printf '%s' "$2" | od -c | head -5)"
    else
        expect_grep "$1" '\x1b[2J\nforged line \xff' "$2"
    fi
}
out=$("$BIN/workbench" registry "etcd://127.0.0.1:$GPORT" arith 2>&1)
no_raw "workbench registry: an etcd reply that is not JSON is printed escaped" "$out"
out=$("$BIN/workbench" registry "consul://127.0.0.1:$GPORT" arith 2>&1)
no_raw "workbench registry: a Consul error body is printed escaped" "$out"
start regjson "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --registry "consul://127.0.0.1:$GPORT" --service arith
sleep 1
stop "$PID"
no_raw "a server logs a registry's error body escaped" "$(cat "$TMP/regjson.err")"

# ---------------- etcd ----------------
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    echo "SKIP etcd is not installed (apt-get install etcd-server etcd-client)"
    summary
    exit $?
fi

read -r CPORT PPORT <<EOF
$(free_ports 2)
EOF
EP=127.0.0.1:$CPORT
URL=etcd://$EP
DATA=$TMP/etcd-data
ETCD_PID=

start_etcd() { # start_etcd DATA_DIR
    etcd_start wbtest "$1" "$TMP/etcd.log" "$CPORT" "$PPORT"
    started=$?
    PIDS="$PIDS $ETCD_PID"
    [ $started -eq 0 ] || { bad "start etcd on $EP" "$(tail -n 20 "$TMP/etcd.log")"; return 1; }
}

# SIGKILL, quietly (bash reports jobs killed by a signal).
kill_etcd() { { kill -KILL "$ETCD_PID" && wait "$ETCD_PID"; } 2>/dev/null; }

keys() { etcdctl --endpoints "$EP" get --prefix "$1" --keys-only | grep -v '^$'; }

has_key() { [ "$(keys "$1")" = "$2" ]; }
no_key() { [ -z "$(keys "$1")" ]; }

start_etcd "$DATA" || { summary; exit 1; }
ok "etcd started on $EP"

# A watch from the beginning, as a balancer would run it.
REGISTRY_PROBE_REPORT_MS=1000 "$PROBE" watch "$URL" calc >"$TMP/watch.out" 2>"$TMP/watch.err" &
WATCH_PID=$!
PIDS="$PIDS $WATCH_PID"
wait_until 5 grep -q "^listed 0" "$TMP/watch.out" || bad "the watch lists first" "$(cat "$TMP/watch.out" "$TMP/watch.err")"

# The workbench command, if main.c knows it by now: its --watch runs alongside.
HAVE_WB=
if "$BIN/workbench" registry --help >/dev/null 2>&1; then
    HAVE_WB=1
    "$BIN/workbench" registry "$URL" calc --watch >"$TMP/wbwatch.out" 2>"$TMP/wbwatch.err" &
    WBW=$!
    PIDS="$PIDS $WBW"
    wait_until 5 grep -q "watching calc" "$TMP/wbwatch.out" || bad "workbench registry --watch starts" "$(cat "$TMP/wbwatch.err")"
else
    echo "SKIP workbench registry: bin/workbench has no registry command yet"
fi

# Two keepers, TTL 3 s.
"$PROBE" keep "$URL" calc 127.0.0.1:9001 json 3 >"$TMP/k1.out" 2>"$TMP/k1.err" &
K1=$!
"$PROBE" keep "$URL" calc 127.0.0.1:9002 gob 3 >"$TMP/k2.out" 2>"$TMP/k2.err" &
K2=$!
PIDS="$PIDS $K1 $K2"
if wait_until 5 has_key calc "calc/127.0.0.1:9001
calc/127.0.0.1:9002"; then ok "etcdctl get --prefix calc: exactly one key per live instance"
else bad "etcdctl get --prefix calc: exactly one key per live instance" "$(keys calc)"; fi
expect_grep "the keeper logs its registration with a time stamp" "registry: registered calc/127.0.0.1:9001 (json) on lease" "$(cat "$TMP/k1.out")"

val=$(etcdctl --endpoints "$EP" get calc/127.0.0.1:9001 --print-value-only)
expect_eq "the value is etcd's gRPC naming layout" '{"Op":0,"Addr":"127.0.0.1:9001","Metadata":{"protocol":"json"}}' "$val"
lease=$(etcdctl --endpoints "$EP" get calc/127.0.0.1:9001 -w fields | sed -n 's/^"Lease" : //p')
if [ -n "$lease" ] && [ "$lease" != 0 ]; then ok "the key is attached to a lease ($lease)"; else bad "the key is attached to a lease" "lease=$lease"; fi
hex=$(printf '%x' "$lease")
expect_grep "etcdctl lease list shows it" "$hex" "$(etcdctl --endpoints "$EP" lease list)"
expect_grep "the lease was granted with the TTL" "granted with TTL(3s)" "$(etcdctl --endpoints "$EP" lease timetolive "$hex")"

sleep 4.5
if has_key calc "calc/127.0.0.1:9001
calc/127.0.0.1:9002"; then ok "keepalive keeps both keys past the TTL"; else bad "keepalive keeps both keys past the TTL" "$(keys calc)"; fi
expect_grep "keepalive renews the same lease" "remaining" "$(etcdctl --endpoints "$EP" lease timetolive "$hex")"

if [ -n "$HAVE_WB" ]; then
    out=$("$BIN/workbench" registry "$URL" calc 2>&1)
    expect_grep "workbench registry lists 9001 with its protocol" "127.0.0.1:9001           protocol=json  lease=$(printf %016x "$lease") ttl=" "$out"
    expect_grep "workbench registry lists 9002" "127.0.0.1:9002           protocol=gob" "$out"
    "$BIN/workbench" registry etcd://127.0.0.1:1 calc >/dev/null 2>&1
    expect_eq "workbench registry: unreachable registry exits 3" 3 $?
    "$BIN/workbench" registry >/dev/null 2>&1
    expect_eq "workbench registry: no URL exits 2" 2 $?
fi

# Graceful stop: deregistered at once.
t0=$(now_ms)
kill -TERM "$K2"
wait "$K2" 2>/dev/null
if no_key calc/127.0.0.1:9002; then ok "SIGTERM: the key is gone at once ($(( $(now_ms) - t0 )) ms)"
else bad "SIGTERM: the key is gone at once" "$(keys calc)"; fi
expect_grep "the keeper stops quickly" "stopped in " "$(cat "$TMP/k2.out")"
ms=$(sed -n 's/^stopped in \([0-9]*\) ms/\1/p' "$TMP/k2.out")
[ -n "$ms" ] && [ "$ms" -lt 3500 ] && ok "keeper stop + deregister took ${ms} ms (< 3.5 s)" || bad "keeper stop is bounded" "$(cat "$TMP/k2.out")"
expect_grep "deregistration is logged" "registry: deregistered calc/127.0.0.1:9002" "$(cat "$TMP/k2.out")"

# Stop without deregistering (what SIGKILL leaves): the key expires with its lease.
kill -USR1 "$K1"
wait "$K1" 2>/dev/null
t0=$(now_ms)
if has_key calc/127.0.0.1:9001 calc/127.0.0.1:9001; then ok "stopped without deregister: the key is still there"
else bad "stopped without deregister: the key is still there" "$(keys calc)"; fi
if wait_until 6 no_key calc/127.0.0.1:9001; then ok "... and expires within the TTL + a little ($(( $(now_ms) - t0 )) ms after the last keepalive stopped, TTL 3000 ms)"
else bad "the orphaned key expires" "$(keys calc)"; fi

# The watch saw it all.
wait_until 3 grep -q "^DELETE calc 127.0.0.1:9001" "$TMP/watch.out"
w=$(cat "$TMP/watch.out")
expect_grep "watch: PUT of 9001 with its protocol" "PUT calc 127.0.0.1:9001 json" "$w"
expect_grep "watch: PUT of 9002" "PUT calc 127.0.0.1:9002 gob" "$w"
expect_grep "watch: DELETE of 9002 (deregistered)" "DELETE calc 127.0.0.1:9002" "$w"
expect_grep "watch: DELETE of 9001 (expired)" "DELETE calc 127.0.0.1:9001" "$w"
if [ -n "$HAVE_WB" ]; then
    kill -TERM "$WBW"
    wait "$WBW"
    expect_eq "workbench registry --watch exits 0 on SIGTERM" 0 $?
    w=$(cat "$TMP/wbwatch.out")
    expect_grep "workbench registry --watch: time-stamped PUT" "PUT    calc                 127.0.0.1:9002           protocol=gob" "$w"
    expect_grep "workbench registry --watch: DELETE" "DELETE calc                 127.0.0.1:9001" "$w"
    if printf '%s\n' "$w" | grep -E '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} DELETE' >/dev/null; then ok "workbench registry --watch: lines start with the time"
    else bad "workbench registry --watch: lines start with the time" "$w"; fi
fi

# etcd killed and restarted on the same data dir.
REGISTRY_PROBE_REPORT_MS=1000 "$PROBE" keep "$URL" calc 127.0.0.1:9003 json 2 >"$TMP/k3.out" 2>"$TMP/k3.err" &
K3=$!
PIDS="$PIDS $K3"
wait_until 5 has_key calc calc/127.0.0.1:9003 || bad "keeper 3 registers" "$(cat "$TMP/k3.out")"
kill_etcd
if wait_until 5 grep -q "registry unreachable" "$TMP/k3.out"; then ok "etcd killed: the keeper logs 'registry unreachable'"
else bad "etcd killed: the keeper logs 'registry unreachable'" "$(cat "$TMP/k3.out")"; fi
wait_until 5 grep -q "^ERROR" "$TMP/watch.out" && ok "etcd killed: the watch reports it" || bad "etcd killed: the watch reports it" "$(cat "$TMP/watch.out")"
sleep 3 # longer than the TTL
start_etcd "$DATA" || { summary; exit 1; }
if wait_until 10 has_key calc calc/127.0.0.1:9003; then ok "etcd restarted on its data dir: the instance is registered"
else bad "etcd restarted on its data dir: the instance is registered" "$(keys calc; cat "$TMP/k3.out")"; fi
if wait_until 10 grep -qE "reachable again|registered again" "$TMP/k3.out"; then ok "the keeper logs that it is back: $(grep -E "reachable again|registered again" "$TMP/k3.out" | head -n 1 | cut -d' ' -f2-)"
else bad "the keeper logs that it is back" "$(cat "$TMP/k3.out")"; fi
wait_until 10 grep -q "^RESUMED" "$TMP/watch.out" && ok "the watch resumes" || bad "the watch resumes" "$(cat "$TMP/watch.out")"
# The outage (3 s and more) is summarised every second here (REGISTRY_PROBE_REPORT_MS), and its length told at its end.
expect_re "outage: the keeper summarises it while it lasts" "registry: registry unreachable: still unreachable for [0-9]* s, [0-9]* attempts" "$(cat "$TMP/k3.out")"
expect_re "outage: the keeper tells how long it lasted" "registry: reachable again after [0-9.]+ s \\([0-9]+ failed attempts\\)" "$(cat "$TMP/k3.out")"
expect_re "outage: the watch summarises it while it lasts" "^ERROR .*still unreachable for [0-9]* s, [0-9]* attempts" "$(cat "$TMP/watch.out")"
expect_re "outage: the watch tells how long it lasted" "^RESUMED .*reachable again after [0-9.]* s" "$(cat "$TMP/watch.out")"
sleep 3
if has_key calc calc/127.0.0.1:9003; then ok "still registered after another TTL"; else bad "still registered after another TTL" "$(keys calc)"; fi

# etcd lost its data (a new etcd on the same port): the lease is gone, register again.
kill_etcd
start_etcd "$TMP/etcd-data2" || { summary; exit 1; }
if wait_until 10 grep -q "registered again" "$TMP/k3.out"; then ok "a new etcd: the keeper logs 'lease lost' and registers again"
else bad "a new etcd: the keeper registers again" "$(cat "$TMP/k3.out")"; fi
expect_grep "the lease loss is logged" "registry: lease lost" "$(cat "$TMP/k3.out")"
if wait_until 5 has_key calc calc/127.0.0.1:9003; then ok "the new etcd has the key"; else bad "the new etcd has the key" "$(keys calc)"; fi
if wait_until 10 grep -q "history restarted" "$TMP/watch.out"; then ok "the watch notices the new etcd's history"
else bad "the watch notices the new etcd's history" "$(cat "$TMP/watch.out")"; fi
put_after_reset() { awk '/history restarted/ { f = 1 } f && /^PUT calc 127.0.0.1:9003/ { found = 1 } END { exit !found }' "$TMP/watch.out"; }
if wait_until 5 put_after_reset; then ok "the watch reports the registration in the new etcd"
else bad "the watch reports the registration in the new etcd" "$(cat "$TMP/watch.out")"; fi

kill -TERM "$K3"
wait "$K3" 2>/dev/null
if no_key calc; then ok "graceful stop after re-registration deletes the key"; else bad "graceful stop deletes the key" "$(keys calc)"; fi

kill -TERM "$WATCH_PID"
wait "$WATCH_PID" 2>/dev/null
ms=$(sed -n 's/^stopped in \([0-9]*\) ms/\1/p' "$TMP/watch.out")
[ -n "$ms" ] && [ "$ms" -lt 2000 ] && ok "the watch is cancelled in ${ms} ms" || bad "the watch is cancelled quickly" "$(tail -n 3 "$TMP/watch.out")"

# workbench registry over many keys: each lease is asked once, at most 64 of them. etcd's
# own metrics count the /v3/lease/timetolive calls.
if [ -n "$HAVE_WB" ]; then
    /usr/bin/python3 - "$EP" <<'PY' || bad "put many keys on few leases" "python3 failed"
import base64, json, sys, urllib.request
ep = sys.argv[1]
def post(path, body):
    req = urllib.request.Request("http://%s%s" % (ep, path), json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)
def b(s):
    return base64.b64encode(s.encode()).decode()
few = [post("/v3/lease/grant", {"TTL": "60"})["ID"] for _ in range(3)]
for i in range(300):
    post("/v3/kv/put", {"key": b("many/127.0.0.1:%d" % (20000 + i)), "value": b("{}"), "lease": few[i % 3]})
for i in range(100):
    lease = post("/v3/lease/grant", {"TTL": "60"})["ID"]
    post("/v3/kv/put", {"key": b("spread/127.0.0.1:%d" % (30000 + i)), "value": b("{}"), "lease": lease})
PY
    ttl_calls() { curl -s "http://$EP/metrics" | awk '/^grpc_server_started_total\{.*grpc_method="LeaseTimeToLive"/ { n += $2 } END { print n + 0 }'; }
    c0=$(ttl_calls)
    out=$("$BIN/workbench" registry "$URL" many 2>&1)
    c1=$(ttl_calls)
    expect_eq "workbench registry: 300 keys listed" 300 "$(printf '%s\n' "$out" | grep -c 'ttl=')"
    expect_eq "workbench registry: 300 keys on 3 leases ask 3 TTLs" 3 "$((c1 - c0))"
    out=$("$BIN/workbench" registry "$URL" spread 2>&1)
    c2=$(ttl_calls)
    expect_eq "workbench registry: 100 leases, at most 64 TTLs asked" 64 "$((c2 - c1))"
    expect_grep "workbench registry says the TTLs were capped" "(TTL of the first 64 leases shown" "$out"
    expect_eq "workbench registry: all 100 keys listed still" 100 "$(printf '%s\n' "$out" | grep -c '^spread ')"
    etcdctl --endpoints "$EP" del --prefix many >/dev/null
    etcdctl --endpoints "$EP" del --prefix spread >/dev/null
fi

# A user given to an etcd without authentication is not needed, and not an error (as
# with etcd's own client): the workbench passes its user to every server it starts,
# those of its private etcd too.
etcdctl --endpoints "$EP" put noauth/127.0.0.1:9998 x >/dev/null
out=$("$BIN/workbench" registry "$URL" noauth --registry-user root:rootpw 2>&1)
expect_re "a user given to an etcd without authentication lists all the same" '^noauth +127\.0\.0\.1:9998 ' "$out"
etcdctl --endpoints "$EP" del noauth/127.0.0.1:9998 >/dev/null

# etcd with authentication: --registry-user NAME:PASSWORD.
CTL="etcdctl --endpoints $EP"
{ $CTL user add root:rootpw --interactive=false && $CTL role add root && $CTL user grant-role root root &&
    $CTL auth enable; } >"$TMP/auth.log" 2>&1 ||
    bad "enable authentication in etcd"
"$PROBE" watch "$URL" auth root:rootpw >"$TMP/awatch.out" 2>"$TMP/awatch.err" &
AW=$!
wait_until 5 grep -q "^listed 0" "$TMP/awatch.out" || bad "auth: the watch lists with the user" "$(cat "$TMP/awatch.out" "$TMP/awatch.err")"
"$PROBE" keep "$URL" auth 127.0.0.1:9004 grpc 3 root:rootpw >"$TMP/k4.out" 2>"$TMP/k4.err" &
K4=$!
"$PROBE" keep "$URL" auth 127.0.0.1:9005 grpc 3 >"$TMP/k5.out" 2>"$TMP/k5.err" &
K5=$!
PIDS="$PIDS $AW $K4 $K5"
akeys() { $CTL --user root:rootpw get --prefix auth --keys-only | grep -v '^$'; }
auth_only() { [ "$(akeys)" = auth/127.0.0.1:9004 ]; }
if wait_until 5 auth_only; then ok "auth: a keeper with the user registers (and only it)"
else bad "auth: a keeper with the user registers" "$(akeys; cat "$TMP/k4.out" "$TMP/k4.err")"; fi
wait_until 5 grep -q "registry refused" "$TMP/k5.out"
expect_grep "auth: without the user the refusal is logged" "registry refused the registration: etcd: etcdserver: user name is empty" "$(cat "$TMP/k5.out")"
wait_until 5 grep -q "^PUT auth" "$TMP/awatch.out"
expect_grep "auth: the watch with the user sees the PUT" "PUT auth 127.0.0.1:9004 grpc" "$(cat "$TMP/awatch.out")"
sleep 4
if test "$(akeys)" = auth/127.0.0.1:9004; then ok "auth: keepalive works with the token"; else bad "auth: keepalive works with the token" "$(akeys)"; fi
# the keepers first: the watch must still be there to see the deregistration
kill -TERM "$K4" "$K5"
wait "$K4" "$K5" 2>/dev/null
if [ -z "$(akeys)" ]; then ok "auth: deregistered with the token"; else bad "auth: deregistered with the token" "$(akeys)"; fi
wait_until 5 grep -q "^DELETE auth" "$TMP/awatch.out"
kill -TERM "$AW"
wait "$AW" 2>/dev/null
expect_grep "auth: the watch saw the DELETE" "DELETE auth 127.0.0.1:9004" "$(cat "$TMP/awatch.out")"

# The servers and the gateway take the etcd user from the environment or a private file,
# so the password is never in /proc/PID/cmdline.
# in_cmdline PID WORD: WORD is in PID's command line
in_cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"; }
# registered_as SERVICE ADDR: etcd holds SERVICE/ADDR
registered_as() { [ "$(akeys | grep -cxF "$1/$2")" = 1 ]; }
start authenv env WB_REGISTRY_USER=root:rootpw "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "$URL" \
    --service authenv --ttl 3 && ENV_PID=$PID ENV_ADDR=$ADDR
if [ -n "${ENV_PID:-}" ] && wait_until 5 registered_as authenv "$ENV_ADDR"; then
    ok "auth: grpc-server registers with the user from \$WB_REGISTRY_USER"
else bad "auth: grpc-server registers with the user from \$WB_REGISTRY_USER" "$(akeys; cat "$TMP/authenv.err")"; fi
[ -n "${ENV_PID:-}" ] && ! in_cmdline "$ENV_PID" rootpw && ok "auth: the password is not in its /proc/PID/cmdline" ||
    bad "auth: the password is not in its /proc/PID/cmdline"
printf 'root:rootpw\n' >"$TMP/etcd-user"
chmod 600 "$TMP/etcd-user"
start authfile "$BIN/order-server" --listen 127.0.0.1:0 --db "$TMP/orders.db" --registry "$URL" \
    --service authfile --ttl 3 --registry-user-file "$TMP/etcd-user" && FILE_PID=$PID FILE_ADDR=$ADDR
if [ -n "${FILE_PID:-}" ] && wait_until 5 registered_as authfile "$FILE_ADDR"; then
    ok "auth: order-server registers with --registry-user-file (its newline dropped)"
else bad "auth: order-server registers with --registry-user-file" "$(akeys; cat "$TMP/authfile.err")"; fi
[ -n "${FILE_PID:-}" ] && ! in_cmdline "$FILE_PID" rootpw && ok "auth: nor in order-server's" ||
    bad "auth: nor in order-server's"
start authgw env -u WB_REGISTRY_USER "$BIN/gateway" --listen 127.0.0.1:0 --registry "$URL" --service authgw \
    --ttl 3 --registry-user-file "$TMP/etcd-user" && GWA_PID=$PID GWA_ADDR=$ADDR
if [ -n "${GWA_PID:-}" ] && wait_until 5 registered_as authgw "$GWA_ADDR"; then
    ok "auth: the gateway registers itself with --registry-user-file"
else bad "auth: the gateway registers itself with --registry-user-file" "$(akeys; cat "$TMP/authgw.err")"; fi
for p in ${ENV_PID:-} ${FILE_PID:-} ${GWA_PID:-}; do stop "$p"; done
gone_all() { [ -z "$(akeys)" ]; }
wait_until 5 gone_all && ok "auth: all three deregistered on SIGTERM with their user" || bad "auth: all three deregistered" "$(akeys)"
chmod 644 "$TMP/etcd-user"
out=$("$BIN/user-server" --db "$TMP/users.db" --registry "$URL" --registry-user-file "$TMP/etcd-user" 2>&1)
rc=$?
expect_eq "auth: a user file others can read is refused (exit 2)" 2 "$rc"
expect_grep "and the message says how to fix it" "is mode 644: others may read it; chmod o-rwx" "$out"
out=$("$BIN/gateway" --registry "$URL" --registry-token-file "$TMP/etcd-user" 2>&1)
expect_grep "the gateway refuses it too" "--registry-token: $TMP/etcd-user is mode 644" "$out"

# The workbench's commands take the user the same three ways.
chmod 600 "$TMP/etcd-user"
$CTL --user root:rootpw put credwb/127.0.0.1:9999 '{"Op":0,"Addr":"127.0.0.1:9999","Metadata":{"protocol":"json"}}' >/dev/null
LINE='^credwb +127\.0\.0\.1:9999 +protocol=json +lease=none'
out=$(env WB_REGISTRY_USER=root:rootpw "$BIN/workbench" registry "$URL" credwb 2>&1)
expect_re "auth: workbench registry lists with the user from \$WB_REGISTRY_USER" "$LINE" "$out"
out=$(env -u WB_REGISTRY_USER "$BIN/workbench" registry "$URL" credwb --registry-user-file "$TMP/etcd-user" 2>&1)
expect_re "auth: workbench registry lists with --registry-user-file" "$LINE" "$out"
out=$(env WB_REGISTRY_USER=nobody:wrong "$BIN/workbench" registry --registry-user=root:rootpw "$URL" credwb 2>&1)
expect_re "auth: --registry-user goes before \$WB_REGISTRY_USER" "$LINE" "$out"
chmod 644 "$TMP/etcd-user"
out=$("$BIN/workbench" registry "$URL" --registry-user-file "$TMP/etcd-user" 2>&1)
expect_grep "auth: workbench registry refuses a user file others can read" \
    "--registry-user: $TMP/etcd-user is mode 644" "$out"
chmod 600 "$TMP/etcd-user"
$CTL --user root:rootpw del credwb/127.0.0.1:9999 >/dev/null
# workbench load: its own listing and the servers it spawns use the user, and no command
# line shows the password: not the load's, not a spawned server's.
env -u WB_REGISTRY_USER "$BIN/workbench" load --registry "$URL" --service credload --codec json --spawn 1 \
    --rate 20 --duration 3 --registry-user-file "$TMP/etcd-user" >"$TMP/credload.out" 2>&1 &
LP=$!
PIDS="$PIDS $LP"
if wait_until 8 sh -c "$CTL --user root:rootpw get --prefix credload --keys-only | grep -q credload/"; then
    ok "auth: a server spawned by workbench load registers with the user of its --registry-user-file"
else bad "auth: a server spawned by workbench load registers" "$(akeys; cat "$TMP/credload.out")"; fi
shown=""
for p in $LP $(pgrep -P "$LP"); do in_cmdline "$p" rootpw && shown="$shown $p"; done
expect_eq "auth: the password is in no command line of workbench load and its servers" "" "$shown"
wait "$LP"
expect_eq "workbench load with the user exits 0" 0 "$?"
expect_grep "auth: workbench load lists the spawned server" "the registry lists 1 instance(s) of credload" \
    "$(cat "$TMP/credload.out")"
expect_grep "auth: and every call is answered" " 0 failed after retries" "$(cat "$TMP/credload.out")"
out=$(env WB_REGISTRY_USER=root:rootpw "$BIN/workbench" load --registry "$URL" --service credenv --codec json \
    --spawn 1 --rate 20 --duration 1 2>&1)
expect_grep "auth: workbench load takes the user from \$WB_REGISTRY_USER" \
    "the registry lists 1 instance(s) of credenv" "$out"
out=$("$BIN/workbench" --registry-user-file "$TMP/etcd-user" --help 2>&1)
expect_grep "auth: workbench (the TUI) takes --registry-user-file and says so in --help" \
    "\$WB_REGISTRY_TOKEN and \$WB_REGISTRY_USER" "$out"
for c in registry load tui; do
    long=$("$BIN/workbench" $c --help | awk 'length > 80')
    expect_eq "workbench $c --help fits 80 columns where it names the credentials" "" \
        "$(printf '%s' "$long" | grep -i 'registry-\|WB_REGISTRY\|proc/PID')"
done

if [ -n "${VERBOSE:-}" ]; then
    for f in k1 k2 k3 watch; do echo "--- $f"; cat "$TMP/$f.out"; done
fi

# ---------------- Consul ----------------
if ! command -v consul >/dev/null 2>&1; then
    echo "SKIP consul is not installed: Consul is covered by the unit tests (tests/unit/test_registry.c)"
else
    consul_dev_start "$TMP/consul.log"
    started=$?
    PIDS="$PIDS $CONSUL_PID"
    HP=$CONSUL_PORT
    if [ $started -eq 0 ]; then
        "$PROBE" keep "consul://127.0.0.1:$HP?check=ttl" calc 127.0.0.1:9101 json 3 >"$TMP/c1.out" 2>&1 &
        C1=$!
        PIDS="$PIDS $C1"
        if wait_until 10 sh -c "curl -sf 'http://127.0.0.1:$HP/v1/health/service/calc?passing' | grep -q 9101"; then
            ok "consul: registered with a passing TTL check"
        else bad "consul: registered with a passing TTL check" "$(cat "$TMP/c1.out")"; fi
        kill -TERM "$C1"
        wait "$C1" 2>/dev/null
        out=$(curl -s "http://127.0.0.1:$HP/v1/health/service/calc")
        expect_eq "consul: deregistered on SIGTERM" "[]" "$out"

        # A gRPC-checked server killed: the watch prints its check going critical (the check
        # runs every TTL/3 = 1 s), and passing again once a server is back on that address.
        cpassing() { curl -sf "http://127.0.0.1:$HP/v1/health/service/cgrpc?passing" | grep -qE "\"Port\": ?$1\b"; }
        start cgrpc "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "consul://127.0.0.1:$HP" --service cgrpc \
            --ttl 3 && CG_PID=$PID CG_ADDR=$ADDR
        if [ -n "${CG_PID:-}" ] && wait_until 10 cpassing "${CG_ADDR##*:}"; then
            "$BIN/workbench" registry "consul://127.0.0.1:$HP" cgrpc --watch >"$TMP/cwatch.out" 2>&1 &
            PIDS="$PIDS $!"
            wait_until 5 grep -q "watching cgrpc" "$TMP/cwatch.out"
            kill -KILL "$CG_PID"
            wait "$CG_PID" 2>/dev/null
            if wait_until 5 grep -qE "CHECK +cgrpc +$CG_ADDR +passing -> critical +grpc: " "$TMP/cwatch.out"; then
                ok "consul: the watch prints the check going critical within seconds of SIGKILL"
            else bad "consul: the watch prints the check going critical" "$(cat "$TMP/cwatch.out")"; fi
            start cgrpc2 "$BIN/grpc-server" --listen "$CG_ADDR" --registry "consul://127.0.0.1:$HP" --service cgrpc --ttl 3
            if wait_until 8 grep -qE "CHECK +cgrpc +$CG_ADDR +critical -> passing +grpc: gRPC check .*success" \
                "$TMP/cwatch.out"; then
                ok "consul: and passing again after a restart on the same address"
            else bad "consul: and passing again after a restart" "$(cat "$TMP/cwatch.out")"; fi
            expect_no_grep "consul: the instance was never reported gone" "DELETE" "$(cat "$TMP/cwatch.out")"
        else bad "consul: a gRPC-checked server passes its check" "$(cat "$TMP/cgrpc.err")"; fi

        # A check the server could never pass is refused before it starts serving.
        out=$(timeout 10 "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --registry "consul://127.0.0.1:$HP?check=grpc" \
            --service cbad 2>&1)
        expect_eq "consul: a JSON-RPC server given check=grpc is refused (exit 2)" 2 "$?"
        expect_grep "consul: and says why" "check=grpc asks the gRPC health service, which a json server does not serve" "$out"
        if printf '%s\n' "$out" | grep -qE '^127\.0\.0\.1:[0-9]+$'; then bad "consul: and never printed an address" "$out"
        else ok "consul: and never printed an address"; fi
        out=$(timeout 10 "$BIN/gateway" --listen 127.0.0.1:0 --registry "consul://127.0.0.1:$HP?check=grpc" \
            --service cbadgw 2>&1)
        expect_eq "consul: the gateway given check=grpc for itself is refused (exit 2)" 2 "$?"
        expect_grep "consul: and says why" "which a http server does not serve" "$out"
        expect_eq "consul: neither was registered" "[]" "$(curl -s "http://127.0.0.1:$HP/v1/catalog/service/cbad")"
        expect_eq "consul: nor the gateway" "[]" "$(curl -s "http://127.0.0.1:$HP/v1/catalog/service/cbadgw")"
    else
        bad "start consul agent -dev" "$(tail -n 20 "$TMP/consul.log")"
    fi
fi

summary
