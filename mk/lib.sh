# lib.sh -- shell helpers shared by mk/*.sh, bench/*.sh and tests/integration/lib.sh:
# free ports, a private etcd or consul -dev, waiting for a server. POSIX sh; functions only.

# free_ports N: N different TCP ports on 127.0.0.1, all free now, on one line, each from
# 20000-32767 at random: below the kernel's ephemeral ports, so no program's bind(0) or
# connect() can take one before it is used, even with test scripts running side by side
# (the kernel's pick if none is free). Ask for all the ports one program needs at once:
# two separate picks can be the same port.
free_ports() {
    if command -v python3 >/dev/null; then
        python3 -c '
import random, socket, sys
held = []
while len(held) < int(sys.argv[1]):
    for port in [random.randint(20000, 32767) for _ in range(50)] + [0]:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            held.append(s)
            break
        except OSError:
            s.close()
print(" ".join(str(s.getsockname()[1]) for s in held))' "$1"
        return
    fi
    # without Python: random ports in 20000-32767 that nothing answers on
    fp_got=""
    while [ "$(echo $fp_got | wc -w)" -lt "$1" ]; do
        p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12768))
        case " $fp_got " in *" $p "*) continue ;; esac
        nc -z 127.0.0.1 "$p" 2>/dev/null || fp_got="$fp_got $p"
    done
    echo $fp_got
}

# free_port: one port, as free_ports picks them.
free_port() { free_ports 1; }

# etcd_start NAME DATA_DIR LOG [CLIENT_PORT PEER_PORT]: starts a one-member etcd called NAME
# in the background on 127.0.0.1 (on free ports unless given), its output appended to LOG.
# Sets EP (its client address, host:port) and ETCD_PID at once, then waits up to 10 s for
# it to answer etcdctl's health check. Returns 0, or 1 when it did not (or died).
etcd_start() {
    set -- "$1" "$2" "$3" ${4:-$(free_ports 2)} ${5:-}
    etcd_cport=$4
    etcd_pport=$5
    EP=127.0.0.1:$etcd_cport
    etcd --name "$1" --data-dir "$2" \
        --listen-client-urls "http://$EP" --advertise-client-urls "http://$EP" \
        --listen-peer-urls "http://127.0.0.1:$etcd_pport" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_pport" \
        --initial-cluster "$1=http://127.0.0.1:$etcd_pport" >>"$3" 2>&1 &
    ETCD_PID=$!
    wait_ready "$ETCD_PID" 100 etcdctl --endpoints "$EP" --dial-timeout 1s endpoint health
}

# wait_ready PID TRIES CMD...: runs CMD (its output dropped) every 0.1 s until it succeeds.
# Returns 0, or 1 after TRIES failed tries or once PID has died.
wait_ready() {
    wr_pid=$1 wr_left=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        wr_left=$((wr_left - 1))
        if [ $wr_left -lt 0 ] || ! kill -0 "$wr_pid" 2>/dev/null; then
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

# consul_dev_start LOG [ARG...]: starts `consul agent -dev` in the background on 127.0.0.1,
# on six different free ports, with any more ARGs; its output goes to LOG. Sets CONSUL_PID,
# CONSUL_PORT (its HTTP API) and CONSUL_DNS_PORT at once, then waits up to 20 s for it to
# elect itself leader. Returns 0, or 1 when it did not (or died).
consul_dev_start() {
    cd_log=$1
    shift
    set -- $(free_ports 6) "$@"
    CONSUL_PORT=$1 CONSUL_DNS_PORT=$2 cd_grpc=$3 cd_lan=$4 cd_wan=$5 cd_server=$6
    shift 6
    consul agent -dev -bind 127.0.0.1 -client 127.0.0.1 -http-port "$CONSUL_PORT" -dns-port "$CONSUL_DNS_PORT" \
        -grpc-port "$cd_grpc" -serf-lan-port "$cd_lan" -serf-wan-port "$cd_wan" -server-port "$cd_server" \
        "$@" >"$cd_log" 2>&1 &
    CONSUL_PID=$!
    wait_ready "$CONSUL_PID" 200 consul_has_leader
}

# consul_has_leader: the agent on CONSUL_PORT names a leader
consul_has_leader() { curl -sf "http://127.0.0.1:$CONSUL_PORT/v1/status/leader" | grep -q '[0-9]'; }

# stop_all: for mk/*.sh, which keep their servers' PIDs in $pids and files in $tmp: stops
# them all, waits for them and removes $tmp.
stop_all() {
    [ -n "$pids" ] && kill $pids 2>/dev/null
    for p in $pids; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
    pids=""
}
