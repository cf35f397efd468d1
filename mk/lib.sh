# lib.sh -- shell helpers shared by mk/*.sh, bench/*.sh and tests/integration/lib.sh:
# a free port, a private etcd, waiting for a server's address. POSIX sh; functions only.

# free_port: a TCP port on 127.0.0.1 free now, from 20000-32767 at random: below the
# kernel's ephemeral ports, so no program's bind(0) or connect() can take it before it is
# used, even with test scripts running side by side (the kernel's pick if none is free).
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c '
import random, socket
for port in [random.randint(20000, 32767) for _ in range(50)] + [0]:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(s.getsockname()[1])
        break
    except OSError:
        pass
    finally:
        s.close()'
        return
    fi
    # without Python: a random port in 20000-32767 that nothing answers on
    while :; do
        p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12768))
        nc -z 127.0.0.1 "$p" 2>/dev/null || { echo "$p"; return; }
    done
}

# etcd_start NAME DATA_DIR LOG [CLIENT_PORT PEER_PORT]: starts a one-member etcd called NAME
# in the background on 127.0.0.1 (on free ports unless given), its output appended to LOG.
# Sets EP (its client address, host:port) and ETCD_PID at once, then waits up to 10 s for
# it to answer etcdctl's health check. Returns 0, or 1 when it did not (or died).
etcd_start() {
    etcd_cport=${4:-$(free_port)}
    etcd_pport=${5:-$(free_port)}
    EP=127.0.0.1:$etcd_cport
    etcd --name "$1" --data-dir "$2" \
        --listen-client-urls "http://$EP" --advertise-client-urls "http://$EP" \
        --listen-peer-urls "http://127.0.0.1:$etcd_pport" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_pport" \
        --initial-cluster "$1=http://127.0.0.1:$etcd_pport" >>"$3" 2>&1 &
    ETCD_PID=$!
    etcd_i=0
    until etcdctl --endpoints "$EP" --dial-timeout 1s endpoint health >/dev/null 2>&1; do
        etcd_i=$((etcd_i + 1))
        if [ $etcd_i -gt 100 ] || ! kill -0 "$ETCD_PID" 2>/dev/null; then
            return 1
        fi
        sleep 0.1
    done
}

# wait_addr FILE PID: waits (at most 5 s) while FILE is empty and PID is alive; every server
# prints its address first. Returns 0 when FILE has something in it.
wait_addr() {
    wait_i=0
    while [ ! -s "$1" ] && kill -0 "$2" 2>/dev/null && [ $wait_i -lt 50 ]; do
        sleep 0.1; wait_i=$((wait_i + 1))
    done
    [ -s "$1" ]
}

# stop_all: for mk/*.sh, which keep their servers' PIDs in $pids and files in $tmp: stops
# them all, waits for them and removes $tmp.
stop_all() {
    [ -n "$pids" ] && kill $pids 2>/dev/null
    for p in $pids; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
    pids=""
}
