#!/usr/bin/env bash
# registry_scale.sh -- what a registry client pays as the registry grows: 10, 1,000 and
# 10,000 instances under one service, in a private etcd and a private `consul agent -dev`
# on free loopback ports. Per size, a client (tests/tools/registry_scale.c, linked to the
# project's library) lists the service as a program does at its start, watches it (etcd:
# a /v3/watch stream; Consul: blocking queries on /v1/health/service/NAME), and adds or
# removes one instance at a time: the time until the watch delivers it, the bytes the
# watch read for it, its CPU, and the client's memory. The entries: etcd keys put through
# the v3 JSON gateway in transactions (100 puts each) on one lease; Consul services
# registered through the agent API without checks, 8 at a time (curl --parallel).
# Bounded: each fill and each client run has a deadline; about four minutes in all.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
PATH=$BIN:$PATH
SIZES=${BENCH_REGISTRY_SIZES:-10 1000 10000}
CHANGES=${BENCH_REGISTRY_CHANGES:-10}
ulimit -n "$(ulimit -Hn)" 2>/dev/null

PROBE=$TMP/registry_scale
if ! cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -I"$ROOT/lib" -o "$PROBE" "$ROOT/tests/tools/registry_scale.c" \
        "$ROOT/build/libwb.a" $(pkg-config --cflags --libs libcjson libcurl libprotobuf-c libnghttp2 ldns) \
        -lpthread -lm 2>"$TMP/build.log"; then
    echo "registry scale: skipped (tests/tools/registry_scale.c did not build: $(head -n 3 "$TMP/build.log"))"
    exit 0
fi

# bodies KIND SERVICE FROM TO [LEASE]: the fill of instances FROM..TO-1 (10.H.L.x:9000, one
# address each) as a curl config: etcd txn bodies of 100 puts, or Consul registrations.
bodies() {
    python3 - "$@" <<'EOF'
import base64, json, sys
kind, svc, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lease = sys.argv[5] if len(sys.argv) > 5 else "0"
b64 = lambda s: base64.b64encode(s.encode()).decode()
addr = lambda i: "10.%d.%d.%d" % (1 + i // 65536, i // 256 % 256, i % 256)
first = [True]
def emit(url, body):
    if not first[0]:
        print("next")
    first[0] = False
    print('url = "%s"\nrequest = "%s"\noutput = "/dev/null"\ndata = "%s"'
          % (url, "POST" if kind == "etcd" else "PUT", json.dumps(body, separators=(",", ":")).replace('"', '\\"')))
if kind == "etcd":
    for s in range(lo, hi, 100):
        ops = []
        for i in range(s, min(s + 100, hi)):
            a = addr(i) + ":9000"
            v = {"Op": 0, "Addr": a, "Metadata": {"protocol": "grpc"}}
            ops.append({"request_put": {"key": b64(svc + "/" + a), "lease": lease,
                                        "value": b64(json.dumps(v, separators=(",", ":")))}})
        emit("/v3/kv/txn", {"success": ops})
else:
    for i in range(lo, hi):
        emit("/v1/catalog/register", {"Node": "scale-bench", "Address": "127.0.0.1", "Service": {
             "ID": "%s-%s-9000" % (svc, addr(i)), "Service": svc, "Tags": ["grpc"], "Address": addr(i),
             "Port": 9000, "Meta": {"protocol": "grpc"}}})
EOF
}

# fill KIND HOSTPORT SERVICE FROM TO [LEASE]: sends the fill (at most 8 requests at once, 300 s)
fill() {
    local kind=$1 hp=$2
    shift 2
    bodies "$kind" "$@" | sed "s|^url = \"|url = \"http://$hp|" >"$TMP/fill.cfg"
    timeout 300 curl -sS --no-progress-meter --fail --parallel --parallel-max 8 -K "$TMP/fill.cfg" >/dev/null 2>"$TMP/fill.err"
}

# count KIND HOSTPORT SERVICE: the instances the registry holds under SERVICE now
count() {
    if [ "$1" = etcd ]; then
        curl -sf -X POST "http://$2/v3/kv/range" -d "{\"key\":\"$(printf '%s/' "$3" | base64)\",\"range_end\":\"$(printf '%s0' "$3" | base64)\",\"count_only\":true}" |
            python3 -c 'import json,sys; print(json.load(sys.stdin).get("count", 0))'
    else
        curl -sf "http://$2/v1/catalog/service/$3" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
    fi
}

# measure KIND URL HOSTPORT: fills each size (cumulative, one service per size), then runs
# the client on it; results in $TMP/KIND-SIZE.res
measure() {
    local kind=$1 url=$2 hp=$3 size lease=0 have
    if [ "$kind" = etcd ]; then
        lease=$(curl -sf -X POST "http://$hp/v3/lease/grant" -d '{"TTL":"3600"}' | sed -n 's/.*"ID":"\([0-9]*\)".*/\1/p')
    fi
    for size in $SIZES; do
        if ! fill "$kind" "$hp" "scale$size" 0 "$size" "$lease"; then
            echo "registry scale: $kind fill of $size failed: $(head -n 3 "$TMP/fill.err")"
            continue
        fi
        have=0
        for _ in $(seq 600); do # the agent syncs its services to the catalog: at most 60 s
            have=$(count "$kind" "$hp" "scale$size")
            [ "${have:-0}" -ge "$size" ] && break
            sleep 0.1
        done
        [ "${have:-0}" -ge "$size" ] || echo "registry scale: $kind holds $have of $size entries"
        timeout 600 "$PROBE" "$url" "scale$size" "$CHANGES" >"$TMP/$kind-$size.res" 2>"$TMP/$kind-$size.err" ||
            echo "registry scale: $kind $size: $(tail -n 2 "$TMP/$kind-$size.err")"
        if [ "$kind" = consul ] && [ "$size" -gt 4096 ]; then
            # the agent's node (agent) sorts before the entries' (scale-bench): the changes above
            # were within the listing's first 4096; one on a node that sorts last is past them
            "$PROBE" "$url" "scale$size" 1 5000 zz-past >"$TMP/past.res" 2>/dev/null
            printf ' past_cut=%s' "$(sed -n 's/.*delivered=\([^ ]*\).*/\1/p' "$TMP/past.res")" >>"$TMP/$kind-$size.res"
        fi
        if [ "$kind" = consul ]; then # the same answer compressed, as a client across a network asks it
            curl -s -o /dev/null -H "Accept-Encoding: gzip" -w ' gzip_bytes=%{size_download} gzip_ms=%{time_total}' \
                "http://$hp/v1/health/service/scale$size?passing=1" >>"$TMP/$kind-$size.res"
            curl -s -o /dev/null -w ' plain_ms=%{time_total}' "http://$hp/v1/health/service/scale$size?passing=1" \
                >>"$TMP/$kind-$size.res"
        fi
    done
}

field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" "$TMP/$1.res" 2>/dev/null; }

etcd_start scale "$TMP/etcd" "$TMP/etcd.log"
started=$?
PIDS="$PIDS $ETCD_PID"
KINDS=""
if [ $started -eq 0 ]; then
    measure etcd "etcd://$EP" "$EP"
    KINDS="etcd"
else
    echo "registry scale: etcd did not start: $(tail -n 3 "$TMP/etcd.log")"
fi
stop "$ETCD_PID"

if command -v consul >/dev/null; then
    consul_dev_start "$TMP/consul.log" -node agent
    started=$?
    CPID=$CONSUL_PID
    PIDS="$PIDS $CPID"
    HP=$CONSUL_PORT
    if [ $started -eq 0 ]; then
        measure consul "consul://127.0.0.1:$HP" "127.0.0.1:$HP"
        KINDS="$KINDS consul"
    else
        echo "registry scale: the Consul agent did not start: $(tail -n 3 "$TMP/consul.log")"
    fi
    stop "$CPID"
else
    echo "registry scale: Consul skipped (no consul: sh mk/consul.sh bin fetches Debian 11's)"
fi

echo "registry size: one client lists a service, watches it, and sees $CHANGES changes (one instance"
echo "added or removed at a time); etcd $(etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p'), consul $(consul version 2>/dev/null | sed -n '1s/^Consul //p')"
printf '%-7s %7s %9s %9s %11s %11s %12s %10s %9s %9s %10s\n' registry entries listed "list ms" "change ms" "max ms" \
    "bytes/chg" "cpu ms/chg" "rss KiB" "peak KiB" "gzip B"
for kind in $KINDS; do
    for size in $SIZES; do
        res=$kind-$size
        if [ ! -s "$TMP/$res.res" ]; then
            printf '%-7s %7s %9s\n' "$kind" "$size" "failed"
            continue
        fi
        listed=$(field "$res" listed)
        [ "$(field "$res" left_out)" != 0 ] && listed="$listed*"
        gz=$(field "$res" gzip_bytes)
        printf '%-7s %7s %9s %9s %11s %11s %12s %10s %9s %9s %10s\n' "$kind" "$size" "$listed" "$(field "$res" list_ms)" \
            "$(field "$res" change_ms)" "$(field "$res" change_max_ms)" "$(field "$res" bytes_per_change)" \
            "$(field "$res" cpu_ms_per_change)" "$(field "$res" rss_kb)" "$(field "$res" hwm_kb)" "${gz:--}"
    done
    lo=${SIZES%% *} hi=${SIZES##* }
    if [ -s "$TMP/$kind-$lo.res" ] && [ -s "$TMP/$kind-$hi.res" ]; then
        awk -v k="$kind" -v lo="$lo" -v hi="$hi" \
            -v l1="$(field "$kind-$lo" list_ms)" -v l2="$(field "$kind-$hi" list_ms)" \
            -v c1="$(field "$kind-$lo" change_ms)" -v c2="$(field "$kind-$hi" change_ms)" \
            -v b1="$(field "$kind-$lo" bytes_per_change)" -v b2="$(field "$kind-$hi" bytes_per_change)" \
            -v u1="$(field "$kind-$lo" cpu_ms_per_change)" -v u2="$(field "$kind-$hi" cpu_ms_per_change)" \
            -v r1="$(field "$kind-$lo" hwm_kb)" -v r2="$(field "$kind-$hi" hwm_kb)" '
            function ratio(a, b) { return a > 0 ? sprintf("%.1fx", b / a) : "-" }
            BEGIN { printf "%-7s %7s %9s %9s %11s %11s %12s %10s %9s %9s\n", k, hi "/" lo, "", ratio(l1, l2), ratio(c1, c2), "",
                        ratio(b1, b2), ratio(u1, u2), "", ratio(r1, r2) }'
    fi
done
echo "  listed: what one list returned (* cut at REGISTRY_MAX_INSTANCES = 4096, the rest counted); list"
echo "  ms: registry_list; change ms: from the change request to the watch's event (mean, max); bytes/chg,"
echo "  cpu ms/chg: what the watch read from the registry and the CPU its thread spent, per change; rss,"
echo "  peak: the client process's VmRSS at the end and VmHWM. etcd sends the one event; Consul's blocking"
echo "  query answers the whole (passing) list on every change: read an entry at a time, diffed by address;"
echo "  gzip B: that answer gzip-compressed, as the client asks an agent that is not on loopback (on"
echo "  loopback it asks none: compressing costs the agent more time than the bytes save). The -dev"
echo "  agent indents its JSON (about 1 KiB an entry here)."
for size in $SIZES; do
    [ "$size" -gt 4096 ] || continue
    [ -s "$TMP/etcd-$size.res" ] && printf '  etcd %s entries: the changes were past the listing'"'"'s cut (keys 127.* sort after 10.*): the watch\n  saw %s of them (it follows every key under the prefix, listed or not)\n' \
        "$size" "$(field "etcd-$size" delivered)"
    past=$(field "consul-$size" past_cut)
    [ -n "$past" ] && printf '  consul %s entries: a change on a node sorting last, past the listing'"'"'s cut: the watch saw %s\n  of them (the blocking query answers the list Consul sorts by node, then ID; a listing keeps the\n  first 4096, a watch up to 65536, to see a change to any)\n' "$size" "$past"
done
for size in $SIZES; do
    [ -s "$TMP/consul-$size.res" ] && [ -n "$(field "consul-$size" gzip_ms)" ] &&
        printf '  consul %s entries: one answer plain %s s, gzip %s s (curl)\n' "$size" \
            "$(field "consul-$size" plain_ms)" "$(field "consul-$size" gzip_ms)"
done
