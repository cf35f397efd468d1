# test_grpcmux.sh -- the asynchronous gRPC client (lib/rpc/grpcmux) against the Go peers
# its unit test skips when they are not built: grpc-go's Greeter, and tests/go/oddgrpc
# (Go's own HTTP/2 answering as faulty or foreign servers do). Builds them, then runs
# those tests of build/tests/test_grpcmux (make unit builds it), which must not skip.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
BUILD=${BUILD:-$ROOT/build}
. "$ROOT/tests/integration/lib.sh"

build_go_peers greeter oddgrpc
T=$BUILD/tests/test_grpcmux
if [ ! -x "$T" ]; then
    bad "$T is built (make unit builds it)"
    summary
    exit 1
fi
for t in calls_grpc_go_greeter replies_that_are_not_what_grpc_allows; do
    out=$(cd "$ROOT" && timeout 120 "$T" --filter "grpcmux/$t" 2>&1)
    if printf '%s\n' "$out" | grep -q 'Tested: 1 | Passing: 1 | Failing: 0 | Crashing: 0' &&
        ! printf '%s\n' "$out" | grep -q 'SKIP'; then
        ok "grpcmux: $t"
    else
        bad "grpcmux: $t" "$(excerpt "$out")"
    fi
done
summary
