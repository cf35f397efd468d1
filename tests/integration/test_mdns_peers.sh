# test_mdns_peers.sh -- the two reference mDNS peers find each other: a service registered
# with python3-zeroconf is listed and browsed by hashicorp/mdns, and the other way round,
# and a goodbye (SIGTERM) is seen by the other side as a remove. The baseline the
# workbench's own mDNS registry is held to. Runs in a private network namespace (root).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/mdns_lib.sh"
mdns_netns_reexec "$@"

if ! mdns_have_py; then
    echo "SKIP mdns peers: python3-zeroconf is not installed (mk/deps.sh test)"
    summary
    exit
fi
if ! mdns_go_build 2>"$TMP/go-build.err"; then
    echo "SKIP mdns peers: tests/go/mdnspeer could not be built (golang-github-hashicorp-mdns-dev?)"
    sed 's/^/     /' "$TMP/go-build.err" | head -n 5
    summary
    exit
fi

# ---- zeroconf registers, hashicorp/mdns lists and browses ------------------------------
# --aaaa: with an A record only, zeroconf adds an NSEC that Go's DNS parser refuses (see
# mdns_peer.py). hashicorp/mdns's list runs before its browser starts: with both querying
# at once, zeroconf at times answers neither.
mdns_start zcreg mdns_py register shipping 50061 --protocol json --ttl 10 --aaaa
ZCR=$PID
if mdns_wait_line "$TMP/zcreg.out" "registered shipping-50061" 10; then
    ok "zeroconf registered shipping-50061 (${MDNS_WAITED} ms)"
else
    bad "zeroconf registered shipping-50061" "$(cat "$TMP/zcreg.out" "$TMP/zcreg.err")"
fi
# Either of the host's two addresses: hashicorp/mdns keeps only what follows the SRV in
# zeroconf's answer, whose order changes from run to run (see tests/go/mdnspeer).
ZC_ADDR='(127\.0\.0\.1|\[::1\]):50061'
mdns_list_until 10 "shipping-50061" mdns_go list shipping
if printf '%s\n' "$MDNS_LISTED" | grep -qxE "shipping-50061 $ZC_ADDR protocol=json"; then
    ok "hashicorp/mdns lists it: instance, address, TXT protocol ($MDNS_LISTED)"
else bad "hashicorp/mdns lists it: instance, address, TXT protocol" "$MDNS_LISTED"; fi
mdns_start hcbrowse mdns_go browse shipping --seconds 30
HCB=$PID
if mdns_wait_line "$TMP/hcbrowse.out" "add shipping-50061 " 10 &&
    grep -qE "^[0-9]+ add shipping-50061 $ZC_ADDR protocol=json\$" "$TMP/hcbrowse.out"; then
    ok "hashicorp/mdns browse: add"
else
    bad "hashicorp/mdns browse: add" "$(cat "$TMP/hcbrowse.out")"
fi
mdns_stop "$ZCR"
expect_grep "zeroconf says goodbye on SIGTERM" "goodbye" "$(cat "$TMP/zcreg.out")"
if mdns_wait_line "$TMP/hcbrowse.out" "remove shipping-50061" 10; then
    ok "hashicorp/mdns browse: remove after the goodbye (${MDNS_WAITED} ms)"
else
    bad "hashicorp/mdns browse: remove after the goodbye" "$(cat "$TMP/hcbrowse.out")"
fi
mdns_stop "$HCB"

# ---- hashicorp/mdns registers, zeroconf lists and browses ------------------------------
mdns_start zcbrowse mdns_py browse shipping --seconds 30
ZCB=$PID
mdns_start hcreg mdns_go register shipping 50062 --protocol grpc --ttl 10
HCR=$PID
if mdns_wait_line "$TMP/hcreg.out" "registered shipping-50062" 10; then
    ok "hashicorp/mdns registered shipping-50062"
else
    bad "hashicorp/mdns registered shipping-50062" "$(cat "$TMP/hcreg.out" "$TMP/hcreg.err")"
fi
mdns_list_until 10 "shipping-50062" mdns_py list shipping
expect_eq "zeroconf lists it: instance, address, TXT protocol" \
    "shipping-50062 127.0.0.1:50062 protocol=grpc" "$MDNS_LISTED"
if mdns_wait_line "$TMP/zcbrowse.out" "add shipping-50062 127.0.0.1:50062 protocol=grpc" 10; then
    ok "zeroconf browse: add"
else
    bad "zeroconf browse: add" "$(cat "$TMP/zcbrowse.out")"
fi
mdns_stop "$HCR"
expect_grep "hashicorp/mdns peer says goodbye on SIGTERM" "goodbye" "$(cat "$TMP/hcreg.out")"
if mdns_wait_line "$TMP/zcbrowse.out" "remove shipping-50062" 5; then
    ok "zeroconf browse: remove after the goodbye (${MDNS_WAITED} ms)"
else
    bad "zeroconf browse: remove after the goodbye" "$(cat "$TMP/zcbrowse.out")"
fi
mdns_stop "$ZCB"

# ---- the two browsers' lines have one shape --------------------------------------------
shape='^[0-9]+ (add [^ ]+ ([0-9.]+|\[[0-9a-f:]+\]):[0-9]+ protocol=[a-z?]+|remove [^ ]+)$'
out=$(cat "$TMP/hcbrowse.out" "$TMP/zcbrowse.out")
expect_eq "every browse line is 'MS add I ADDR:PORT protocol=P' or 'MS remove I'" "" \
    "$(printf '%s\n' "$out" | grep -vE "$shape")"

summary
