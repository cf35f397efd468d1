# test_gateway.sh -- bin/gateway with curl as the client, a real etcd (Debian's etcd-server) as
# the registry, two user-server and two order-server instances sharing their SQLite files,
# and grpc-server as the arith service: every route, every error status, salted password
# hashes checked with the sqlite3 CLI, an order-server SIGKILLed under load with every
# order that got a 2xx read back afterwards, and services that answer only the caller
# secret's holders (python3-grpcio calling them directly, gateways with and without it).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

for tool in etcd etcdctl curl sqlite3 python3; do
    if ! command -v $tool >/dev/null; then
        echo "SKIP $tool is not installed (make test installs etcd-server, etcd-client, curl and sqlite3)"
        summary
        exit $?
    fi
done

etcd_or_exit gwtest

count_keys() { etcdctl --endpoints "$EP" get --prefix "$1/" --keys-only | grep -c .; }

# The services: two instances of each data service on one database file each, made
# under the usual umask.
umask 022
start user1 "$BIN/user-server" --listen 127.0.0.1:0 --db "$TMP/users.db" --registry "$URL" --ttl 2 || exit 1
USER1_PID=$PID
start user2 "$BIN/user-server" --listen 127.0.0.1:0 --db "$TMP/users.db" --registry "$URL" --ttl 2 || exit 1
USER2_PID=$PID
start order1 "$BIN/order-server" --listen 127.0.0.1:0 --db "$TMP/orders.db" --registry "$URL" --ttl 2 || exit 1
ORDER1_PID=$PID ORDER1=$ADDR
start order2 "$BIN/order-server" --listen 127.0.0.1:0 --db "$TMP/orders.db" --registry "$URL" --ttl 2 || exit 1
ORDER2_PID=$PID ORDER2=$ADDR
start arith "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "$URL" --service arith --ttl 2 || exit 1
ARITH_PID=$PID ARITH=$ADDR
registered() { [ "$(count_keys user)" = 2 ] && [ "$(count_keys order)" = 2 ]; }
if wait_until 10 registered; then
    ok "two user-server and two order-server instances registered as user/ and order/ in etcd"
else
    bad "the services register" "$(etcdctl --endpoints "$EP" get --prefix "" --keys-only)"
fi
# mode_of FILE: its permission bits, e.g. 600
mode_of() { stat -c %a "$1" 2>/dev/null || echo missing; }
modes=""
for f in users.db users.db-wal users.db-shm orders.db orders.db-wal orders.db-shm; do
    modes="$modes $f=$(mode_of "$TMP/$f")"
done
expect_eq "the databases and their -wal and -shm files are 0600 under umask 022 (they hold password hashes)" \
    " users.db=600 users.db-wal=600 users.db-shm=600 orders.db=600 orders.db-wal=600 orders.db-shm=600" "$modes"
USER1=$(head -n 1 "$TMP/user1.out")
expect_eq "user-server answers gRPC health for user.User" '{"status":"SERVING"}' \
    "$("$BIN/workbench" call "grpc://$USER1" grpc.health.v1.Health/Check '{"service":"user.User"}' 2>&1)"
expect_grep "user-server does not serve the sample services" "UNIMPLEMENTED: unknown service arith.Arith" \
    "$("$BIN/workbench" call "grpc://$USER1" Arith.Multiply '{"A":7,"B":8}' 2>&1)"
start gateway "$BIN/gateway" --listen 127.0.0.1:0 --registry "$URL" --max-body 65536 --timeout 2000 || exit 1
GW=$ADDR GW_PID=$PID

# req METHOD PATH [curl options...]: sets CODE (HTTP status), BODY and RETRY (the
# Retry-After header); from the loopback address $FROM when it is set
req() {
    local m=$1 p=$2
    shift 2
    : >"$TMP/resp"; : >"$TMP/hdr" # no answer must not show the one before
    CODE=$(curl -s -o "$TMP/resp" -D "$TMP/hdr" -w '%{http_code}' --max-time 20 ${FROM:+--interface "$FROM"} \
        -X "$m" "http://$GW$p" "$@")
    BODY=$(cat "$TMP/resp")
    RETRY=$(tr -d '\r' <"$TMP/hdr" | sed -n 's/^Retry-After: //Ip')
}
# jget FIELD: a top-level field of the JSON in BODY
jget() { printf '%s' "$BODY" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', ''))" 2>/dev/null; }
# expect_status NAME WANT: CODE is WANT; shows the body otherwise
expect_status() {
    if [ "$CODE" = "$2" ]; then ok "$1 ($2)"; else bad "$1" "want HTTP $2, got $CODE: $BODY"; fi
}

arith_ready() { req GET "/arith/multiply?a=1&b=1"; [ "$CODE" = 200 ]; }
wait_until 10 arith_ready

# ---- arith ----
req GET "/arith/multiply?a=7&b=8"
expect_status "GET /arith/multiply?a=7&b=8 goes to grpc-server found in etcd" 200
expect_eq "7 x 8" '{"value":56}' "$BODY"
req GET "/arith/multiply?a=7&b=x"
expect_status "GET /arith/multiply with a non-integer b" 400
expect_grep "the message says what is wrong" "a and b must be integers" "$BODY"

# ---- users ----
req POST /user/register -d '{"name":"li","password":"secret123"}'
expect_status "POST /user/register" 201
expect_eq "the new account" "li" "$(jget name)"
req POST /user/register -d '{"name":"li","password":"other-pass"}'
expect_status "registering a taken name is ALREADY_EXISTS" 409
expect_eq "the error names the gRPC status" "ALREADY_EXISTS" "$(jget code)"
req POST /user/register -d '{"name":"zhang","password":"secret123"}'
expect_status "a second user with the same password" 201
req POST /user/register -d '{"name":"wang","password":"short"}'
expect_status "a password under 8 bytes is INVALID_ARGUMENT" 400
expect_grep "and says the rule" "must be 8 to 256" "$BODY"

h_li=$(sqlite3 "$TMP/users.db" "SELECT password_hash FROM users WHERE name = 'li'")
h_zhang=$(sqlite3 "$TMP/users.db" "SELECT password_hash FROM users WHERE name = 'zhang'")
case "$h_li" in
    '$y$'*) ok "the stored password is a yescrypt hash (sqlite3 shows ${h_li%%\$*}\$y\$...)" ;;
    *) bad "the stored password is a yescrypt hash" "got: $h_li" ;;
esac
expect_no_grep "the password column does not hold the password" "secret123" "$h_li"
if [ -n "$h_li" ] && [ "$h_li" != "$h_zhang" ]; then
    ok "two users with the same password have different hashes (salted)"
else
    bad "two users with the same password have different hashes" "li: $h_li
zhang: $h_zhang"
fi
if cat "$TMP"/users.db* | grep -aq secret123; then
    bad "the password appears nowhere in the database files (including the WAL)"
else
    ok "the password appears nowhere in the database files (including the WAL)"
fi

req POST /user/login -d '{"name":"li","password":"wrong-password"}'
expect_status "login with a wrong password is UNAUTHENTICATED" 401
req POST /user/login -d '{"name":"nobody","password":"secret123"}'
expect_status "login as an unknown user is UNAUTHENTICATED" 401
req POST /user/login -d '{"name":"li","password":"secret123"}'
expect_status "POST /user/login" 200
TOKEN=$(jget token)
if printf '%s' "$TOKEN" | grep -qE '^[0-9a-f]{64}$'; then ok "login returns a token"; else bad "login returns a token" "$BODY"; fi
req POST /user/login -d '{"name":"zhang","password":"secret123"}'
TOKEN2=$(jget token)
AUTH="Authorization: Bearer $TOKEN"
digest=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
expect_eq "the database keeps the token's SHA-256 (sqlite3 and sha256sum agree)" "1" \
    "$(sqlite3 "$TMP/users.db" "SELECT count(*) FROM token_digests WHERE sha256 = '$digest'")"
if cat "$TMP"/users.db* | grep -aq "$TOKEN"; then
    bad "the token itself appears nowhere in the database files"
else
    ok "the token itself appears nowhere in the database files"
fi

# Sign-ups and logins hash on the user servers' worker threads: 40 of each at once, and
# every account id and token must still be the caller's own.
# post_all ROUTE EXT: POST ROUTE for par1..par40 at once, each answer into $TMP/parN.EXT
post_all() {
    pids=""
    for i in $(seq 1 40); do
        curl -s --max-time 30 -X POST "http://$GW$1" -d "{\"name\":\"par$i\",\"password\":\"secret123\"}" \
            >"$TMP/par$i.$2" &
        pids="$pids $!"
    done
    wait $pids
}
# jfield FILE FIELD: a top-level field of the JSON in FILE
jfield() { python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))" "$1" "$2" 2>/dev/null; }
post_all /user/register reg
good=0
for i in $(seq 1 40); do
    want=$(sqlite3 "$TMP/users.db" "SELECT id FROM users WHERE name = 'par$i'")
    [ -n "$want" ] && [ "$want" = "$(jfield "$TMP/par$i.reg" id)" ] && good=$((good + 1))
done
expect_eq "40 sign-ups at once: each answer carries the id of its own row" 40 "$good"
post_all /user/login login
good=0
for i in $(seq 1 40); do
    req GET "/orders?user=par$i" -H "Authorization: Bearer $(jfield "$TMP/par$i.login" token)" # another's: 403
    [ "$CODE" = 200 ] && good=$((good + 1))
done
expect_eq "40 logins at once: each token is its own user's (GET /orders?user=parN is 200)" 40 "$good"

# ---- password guessing ----
# Each check comes from its own loopback address (127.0.0.N), so the budget of failures
# that 127.0.0.1 has is left to the rest of the script.
# guess N NAME PASSWORD: up to N logins, stopping at the first that is not 401; the
# statuses, space-separated, in CODES
guess() {
    CODES=""
    local i=0
    while [ $i -lt "$1" ]; do
        req POST /user/login -d "{\"name\":\"$2\",\"password\":\"$3\"}"
        CODES="$CODES $CODE"
        [ "$CODE" = 401 ] || break
        i=$((i + 1))
    done
}
req POST /user/register -d '{"name":"guessme","password":"secret123"}'
FROM=127.0.0.3 guess 10 guessme wrong-guess
expect_eq "wrong passwords for one user: five are 401, then 429 without trying the password" \
    " 401 401 401 401 401 429" "$CODES"
expect_eq "the 429 is RESOURCE_EXHAUSTED" "RESOURCE_EXHAUSTED" "$(jget code)"
if [ "${RETRY:-0}" -ge 1 ] 2>/dev/null; then ok "and has Retry-After ($RETRY s)"; else bad "the 429 has Retry-After" "$(cat "$TMP/hdr")"; fi
expect_grep "and says why" "too many failed logins as \\\"guessme\\\": try again in $RETRY s" "$BODY"
req POST /user/login -d '{"name":"guessme","password":"secret123"}'
expect_status "the right password for that user from another address is 429 too: the limit is the user's" 429
FROM=127.0.0.3 req POST /user/login -d '{"name":"zhang","password":"secret123"}'
expect_status "another user logs in meanwhile, from the same address" 200
req POST /user/register -d '{"name":"forgetful","password":"secret123"}'
FROM=127.0.0.4 guess 4 forgetful wrong-guess
FROM=127.0.0.4 req POST /user/login -d '{"name":"forgetful","password":"secret123"}'
expect_status "four wrong passwords, then the right one" 200
FROM=127.0.0.4 guess 2 forgetful wrong-guess
expect_eq "the success cleared the user's count: two more wrong ones are still 401" " 401 401" "$CODES"
# many names from one address: its own budget of 20 failures
i=0 CODES=""
while [ $i -lt 30 ]; do
    FROM=127.0.0.2 req POST /user/login -d "{\"name\":\"sprayed$i\",\"password\":\"wrong-guess\"}"
    CODES="$CODES $CODE"
    [ "$CODE" = 401 ] || break
    i=$((i + 1))
done
expect_eq "wrong logins for 30 names from one address: 20 are 401, then 429" \
    "$(printf ' 401%.0s' $(seq 1 20)) 429" "$CODES"
expect_grep "says it is the address" "too many failed logins from your address" "$BODY"
FROM=127.0.0.2 req POST /user/login -d '{"name":"zhang","password":"secret123"}'
expect_status "that address cannot log in as anyone for now" 429
if [ "${RETRY:-0}" -ge 1 ] 2>/dev/null; then ok "and is told when to retry ($RETRY s)"; else bad "the address's 429 has Retry-After" "$(cat "$TMP/hdr")"; fi
req POST /user/login -d '{"name":"zhang","password":"secret123"}'
expect_status "another address logs in as the same user" 200

# ---- orders ----
req POST /orders -H "$AUTH" -d '{"item":"毛笔","quantity":2}'
expect_status "POST /orders (下订单)" 201
ID=$(jget id)
expect_eq "the order belongs to the token's user" "li" "$(jget user)"
req GET "/orders/$ID" -H "$AUTH"
expect_status "GET /orders/{id} (查看订单)" 200
expect_eq "the order read back" "毛笔 2" "$(jget item) $(jget quantity)"
req GET "/orders?user=li" -H "$AUTH"
expect_status "GET /orders?user=li" 200
expect_grep "the list holds the order" "\"id\":$ID," "$BODY"
req GET "/orders" -H "$AUTH"
expect_grep "GET /orders without ?user= lists the token's own orders" "\"id\":$ID," "$BODY"
req GET "/orders?user=li" -H "Authorization: Bearer $TOKEN2"
expect_status "listing another user's orders is PERMISSION_DENIED" 403
req GET "/orders/$ID" -H "Authorization: Bearer $TOKEN2"
expect_status "another user's order is NOT_FOUND" 404
req GET "/orders/999999" -H "$AUTH"
expect_status "an order that does not exist is NOT_FOUND" 404
req GET "/orders/abc" -H "$AUTH"
expect_status "a non-numeric order id" 400
req POST /orders -H "$AUTH" -H "Idempotency-Key: k1" -d '{"item":"墨","quantity":1}'
first=$(jget id)
req POST /orders -H "$AUTH" -H "Idempotency-Key: k1" -d '{"item":"墨","quantity":1}'
expect_eq "the same Idempotency-Key twice places one order" "$first" "$(jget id)"
# An Idempotency-Key is its user's own: alice:x's key y is not alice's key x:y.
for who in "alice:x" alice; do
    req POST /user/register -d "{\"name\":\"$who\",\"password\":\"secret123\"}"
done
req POST /user/login -d '{"name":"alice:x","password":"secret123"}'
AUTH_AX="Authorization: Bearer $(jget token)"
req POST /user/login -d '{"name":"alice","password":"secret123"}'
AUTH_A="Authorization: Bearer $(jget token)"
req POST /orders -H "$AUTH_AX" -H "Idempotency-Key: y" -d '{"item":"纸","quantity":1}'
expect_status "alice:x places with Idempotency-Key y" 201
ax_id=$(jget id)
req POST /orders -H "$AUTH_A" -H "Idempotency-Key: x:y" -d '{"item":"砚","quantity":2}'
expect_status "alice places with Idempotency-Key x:y: another user's key, another order" 201
expect_eq "alice gets her own order" "alice 砚" "$(jget user) $(jget item)"
[ -n "$ax_id" ] && [ "$(jget id)" != "$ax_id" ] && ok "the two orders are two" || bad "the two orders are two" "$ax_id vs $BODY"
req POST /orders -H "$AUTH_A" -H "Idempotency-Key: k1" -d '{"item":"墨","quantity":1}'
expect_status "alice may use li's key k1 for an order of her own" 201
[ "$(jget id)" != "$first" ] && ok "and it is not li's order" || bad "and it is not li's order" "$BODY"

# ---- request smuggling's shape ----
# raw BYTES: raw_http to the gateway
raw() { raw_http "$GW" "$1"; }
out=$(raw 'GET /arith/multiply?a=6&b=7 HTTP/1.1\r\nHost: gw\r\n\r\nGET /arith/multiply?a=6&b=7 HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n')
expect_eq "two pipelined raw requests are both answered" 2 "$(printf '%s' "$out" | grep -c '{"value":42}')"
smuggle='POST /user/login HTTP/1.1\r\nHost: gw\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /arith/multiply?a=6&b=7 HTTP/1.1\r\nHost: gw\r\n\r\n'
out=$(raw "$smuggle")
expect_grep "Content-Length with Transfer-Encoding is 400" "HTTP/1.1 400 " "$out"
expect_grep "with a JSON error that says why" '"error":"the request has both Content-Length and Transfer-Encoding: send one of them","code":"INVALID_ARGUMENT"' "$out"
if printf '%s' "$out" | grep -q '{"value":42}\|<still open>'; then
    bad "the request hidden behind it is not served, and the connection closes" "$out"
else
    ok "the request hidden behind it is not served, and the connection closes"
fi
out=$(raw 'POST /user/login HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\nContent-Length: 60\r\n\r\n{}GET /arith/multiply?a=6&b=7 HTTP/1.1\r\nHost: gw\r\n\r\n')
expect_grep "two different Content-Length values are 400" "HTTP/1.1 400 " "$out"
expect_grep "with a JSON error that says why" '"error":"the request has Content-Length headers that disagree: send one","code":"INVALID_ARGUMENT"' "$out"
if printf '%s' "$out" | grep -q '{"value":42}\|<still open>'; then
    bad "nothing after it is served, and the connection closes" "$out"
else
    ok "nothing after it is served, and the connection closes"
fi
out=$(raw 'POST /user/login HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n')
expect_grep "a chunked body alone is still read (the route answers it)" 'missing field' "$out"

# ---- bad input ----
req POST /orders -H "$AUTH" -d '{"item":"book","quantity":2'
expect_status "malformed JSON" 400
expect_grep "the message says where it broke" "not valid JSON: unexpected end of input at byte" "$BODY"
req POST /orders -H "$AUTH" -d '{"item":"book",}'
expect_status "malformed JSON (a trailing comma)" 400
req POST /orders -H "$AUTH" -d '[1,2]'
expect_status "a JSON array instead of an object" 400
req POST /orders -H "$AUTH" -d '{"item":"book"}'
expect_status "a missing field" 400
expect_grep "names the field" 'missing field \"quantity\"' "$BODY"
req POST /user/register -d '{"name":"wang"}'
expect_status "register without a password" 400
req POST /orders -H "$AUTH" -d '{"item":"book","quantity":"two"}'
expect_status "a field of the wrong type" 400
expect_grep "says which" 'field \"quantity\" must be an integer' "$BODY"
req POST /orders -H "$AUTH" -d '{"item":"book","quantity":1,"user":"zhang"}'
expect_status "an unknown field (a body cannot choose the user)" 400
req POST /orders -H "$AUTH" -d '{"item":"","quantity":1}'
expect_status "an empty item is INVALID_ARGUMENT from the order service" 400
req POST /orders -H "$AUTH" -d '{"item":"book","quantity":0}'
expect_status "quantity 0 is INVALID_ARGUMENT" 400
expect_grep "and says the range" "quantity must be 1 to 1000000" "$BODY"
head -c 2097152 /dev/zero | tr '\0' 'a' >"$TMP/big"
req POST /orders -H "$AUTH" --data-binary @"$TMP/big"
expect_status "a 2 MiB body" 413
expect_grep "says the cap" "at most 65536" "$BODY"
req POST /user/login -H "Transfer-Encoding: chunked" --data-binary @"$TMP/big"
expect_status "a 2 MiB chunked body (no Content-Length)" 413
req POST /orders -H "Authorization: Bearer 0123456789abcdef" -d '{"item":"book","quantity":1}'
expect_status "a wrong token" 401
expect_eq "is UNAUTHENTICATED" "UNAUTHENTICATED" "$(jget code)"
req POST /orders -d '{"item":"book","quantity":1}'
expect_status "no token" 401
expect_grep "says how to get one" "POST /user/login" "$BODY"
req GET /orders/1 -H "Authorization: Basic Zm9vOmJhcg=="
expect_status "a token of the wrong scheme" 401
req GET /nowhere
expect_status "an unknown route" 404
req DELETE /orders -H "$AUTH"
expect_status "a wrong method" 405
allow=$(curl -s -D - -o /dev/null -X DELETE "http://$GW/orders" | tr -d '\r' | sed -n 's/^Allow: //p')
expect_eq "405 says which methods are allowed" "POST, GET" "$allow"
kill -STOP "$ARITH_PID"
req GET "/arith/multiply?a=2&b=3"
kill -CONT "$ARITH_PID"
expect_status "a backend that does not answer within --timeout is DEADLINE_EXCEEDED" 504
expect_grep "says how long it waited" "did not answer within 2000 ms" "$BODY"
wait_until 10 arith_ready
arith_ready && ok "the gateway still serves after all that" || bad "the gateway still serves after all that" "$BODY"

# ---- an order-server SIGKILLed under load ----
req POST /user/register -d '{"name":"load","password":"load-pass-1"}'
req POST /user/login -d '{"name":"load","password":"load-pass-1"}'
LOAD_AUTH="Authorization: Bearer $(jget token)"
# place N: N sequential POST /orders, one "STATUS BODY" line each
place() {
    local i=0
    while [ $i -lt "$1" ]; do
        curl -s --max-time 20 -X POST "http://$GW/orders" -H "$LOAD_AUTH" -d "{\"item\":\"load-$2-$i\",\"quantity\":1}" \
            -w ' %{http_code}\n' || echo " 000"
        i=$((i + 1))
    done
}
place 150 a >"$TMP/load-a" 2>&1 &
LA=$!
place 150 b >"$TMP/load-b" 2>&1 &
LB=$!
taken_by_order1() { [ "$(cat "$TMP/load-a" "$TMP/load-b" | grep -c "$ORDER1")" -ge 20 ]; }
wait_until 20 taken_by_order1
{ kill -KILL "$ORDER1_PID" && wait "$ORDER1_PID"; } 2>/dev/null
before_kill=$(cat "$TMP/load-a" "$TMP/load-b" | wc -l)
wait "$LA" "$LB"
cat "$TMP/load-a" "$TMP/load-b" >"$TMP/load"
total=$(grep -c . "$TMP/load")
good=$(grep -cE ' 2[0-9][0-9]$' "$TMP/load")
by_killed=$(grep -E ' 2[0-9][0-9]$' "$TMP/load" | grep -c "\"served_by\":\"$ORDER1\"")
grep -E ' 2[0-9][0-9]$' "$TMP/load" | sed -n 's/^{"id":\([0-9]*\),.*/\1/p' >"$TMP/ids"
readable=0
unreadable=""
while read -r id; do
    req GET "/orders/$id" -H "$LOAD_AUTH"
    if [ "$CODE" = 200 ]; then readable=$((readable + 1)); else unreadable="$unreadable $id:$CODE"; fi
done <"$TMP/ids"
echo "     failover: $total requests, $before_kill answered before the SIGKILL, $good got a 2xx" \
    "($by_killed placed by the killed instance $ORDER1), $readable of them read back"
expect_eq "every request got an answer" 300 "$total"
if [ "$by_killed" -ge 1 ]; then ok "the killed instance had taken orders ($by_killed)"; else bad "the killed instance had taken orders" "$(head -n 5 "$TMP/load")"; fi
expect_eq "every order that got a 2xx is readable afterwards ($readable of $good)" "$good" "$readable"
[ -z "$unreadable" ] || bad "unreadable orders" "$unreadable"
expect_eq "no order request failed: a broken connection is retried on the other instance" 300 "$good"
req GET "/orders?user=load" -H "$LOAD_AUTH"
listed=$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["orders"]))' 2>/dev/null)
expect_eq "the user's list holds exactly the 2xx orders (a retried Place did not order twice)" "$good" "$listed"

# ---- no live instance ----
{ kill -KILL "$ORDER2_PID" && wait "$ORDER2_PID"; } 2>/dev/null
req GET "/orders/$ID" -H "$AUTH"
expect_status "both order-servers dead, their entries not yet expired" 503
expect_eq "is UNAVAILABLE" "UNAVAILABLE" "$(jget code)"
gone() { [ "$(count_keys order)" = 0 ]; }
wait_until 10 gone
# the gateway hears of the removal through its watch, a moment after etcd made it
none_left() {
    req POST /orders -H "$AUTH" -d '{"item":"book","quantity":1}'
    [ "$CODE" = 503 ] && printf '%s' "$BODY" | grep -q "no live instance of the order service"
}
wait_until 5 none_left
expect_status "no order-server in the registry" 503
expect_grep "says so" "no live instance of the order service" "$BODY"
req POST /user/login -d '{"name":"li","password":"secret123"}'
expect_status "the user service still answers meanwhile" 200

# ---- a new instance on the same database serves the old orders ----
start order3 "$BIN/order-server" --listen 127.0.0.1:0 --db "$TMP/orders.db" --registry "$URL" --ttl 2 || exit 1
order_back() { req GET "/orders/$ID" -H "$AUTH"; [ "$CODE" = 200 ]; }
if wait_until 10 order_back; then
    ok "a new order-server on the same SQLite file serves the orders placed before"
else
    bad "a new order-server on the same SQLite file serves the orders placed before" "$CODE $BODY"
fi

# ---- workbench load drives the order service through the balancer ----
out=$("$BIN/workbench" load --service order --codec grpc --program order-server --spawn 2 --rate 200 \
    --duration 4 --kill-after 1 --ttl 2 2>&1)
placed=$(echo "$out" | sed -n 's/^Orders: \([0-9]*\) placed.*/\1/p')
back=$(echo "$out" | sed -n 's/.*placed (answered OK), \([0-9]*\) read back.*/\1/p')
echo "     workbench load: ${placed:-?} orders placed while an order-server was SIGKILLed, ${back:-?} read back"
if [ -n "$placed" ] && [ "$placed" -gt 0 ] && [ "$placed" = "$back" ]; then
    ok "workbench load --program order-server: every placed order is read back after a SIGKILL ($back of $placed)"
else
    bad "workbench load --program order-server: every placed order is read back after a SIGKILL" "$out"
fi
expect_grep "workbench load: the killed order-server is marked" "(killed)" "$out"
expect_grep "workbench load: no Place failed after retries" " 0 failed after retries" "$out"
expect_grep "workbench load: spawned through the supervisor, registered as order" "spawned order-server #2" "$out"

# ---- the gateway registers itself when asked ----
start gateway2 "$BIN/gateway" --listen 127.0.0.1:0 --registry "$URL" --service gw --ttl 2 || exit 1
GW2_PID=$PID GW2=$ADDR
gw_listed() { [ "$(etcdctl --endpoints "$EP" get "gw/$GW2" --print-value-only)" = "{\"Op\":0,\"Addr\":\"$GW2\",\"Metadata\":{\"protocol\":\"http\"}}" ]; }
if wait_until 5 gw_listed; then ok "gateway --service gw registers gw/$GW2 (protocol http)"; else bad "gateway --service registers itself" "$(etcdctl --endpoints "$EP" get --prefix gw)"; fi
kill -TERM "$GW2_PID"
wait "$GW2_PID"
expect_eq "on SIGTERM its entry is removed at once" 0 "$(count_keys gw)"

# ---- logins that hang do not take the other routes' threads ----
# A gateway of its own, the user servers stopped: each login waits --timeout for them.
start gateway3 "$BIN/gateway" --listen 127.0.0.1:0 --registry "$URL" --timeout 4000 \
    --login-concurrency 2 --login-queue 4
GW3=$ADDR GW3_PID=$PID
users_known() { curl -s --max-time 5 -X POST "http://$GW3/user/login" -d '{"name":"li","password":"secret123"}' | grep -q token; }
wait_until 10 users_known
kill -STOP "$USER1_PID" "$USER2_PID"
pids=""
for i in $(seq 1 40); do
    curl -s -o /dev/null -D "$TMP/flood$i.hdr" -w '%{http_code}\n' --max-time 15 -X POST "http://$GW3/user/login" \
        -d "{\"name\":\"par$i\",\"password\":\"secret123\"}" >"$TMP/flood$i" &
    pids="$pids $!"
done
flood_in() { [ "$(ss -Htn state established "( dport = :$(port_of "$GW3") )" | grep -c .)" -ge 40 ]; }
wait_until 5 flood_in
sleep 0.3
# three arith calls while 40 logins are in (each given 1.5 s to answer)
apids=""
for i in 1 2 3; do
    curl -s --max-time 1.5 "http://$GW3/arith/multiply?a=6&b=$i" >"$TMP/arith$i" &
    apids="$apids $!"
done
wait $apids
kill -CONT "$USER1_PID" "$USER2_PID"
expect_eq "40 logins hang on stopped user servers: GET /arith/multiply is still answered (3 of 3)" \
    '{"value":6}{"value":12}{"value":18}' "$(cat "$TMP/arith1" "$TMP/arith2" "$TMP/arith3")"
wait $pids
busy=$(cat "$TMP"/flood[0-9]* | grep -c '^429$')
if [ "$busy" -ge 34 ]; then
    ok "--login-concurrency 2 --login-queue 4: the 34 logins beyond them are 429 ($busy of 40)"
else
    bad "--login-concurrency 2 --login-queue 4: the 34 logins beyond them are 429" "$(cat "$TMP"/flood[0-9]* | sort | uniq -c)"
fi
expect_eq "each of them with Retry-After: 1" "$busy" "$(cat "$TMP"/flood*.hdr | tr -d '\r' | grep -c '^Retry-After: 1$')"
kill -TERM "$GW3_PID"
wait "$GW3_PID"
expect_eq "that gateway stops on SIGTERM and exits 0" 0 "$?"

# ---- request heads sent a byte at a time (slowloris) ----
# A gateway of its own with small limits; tests/tools/slowloris.py opens connections
# that send a request head one byte at a time and never finish it, from several
# loopback addresses.
slowloris() { python3 "$ROOT/tests/tools/slowloris.py" "$@"; }
# field NAME FILE: NAME=VALUE from slowloris.py's line in FILE
field() { tr ' ' '\n' <"$2" | sed -n "s/^$1=//p"; }
start gateway4 "$BIN/gateway" --listen 127.0.0.1:0 --registry "$URL" --max-conns 100 --max-conns-per-addr 40 \
    --header-timeout 2
GW4=$ADDR GW4_PID=$PID
arith4() { [ "$(curl -s --max-time 2 "http://$GW4/arith/multiply?a=1&b=1")" = '{"value":1}' ]; }
wait_until 10 arith4
# 200 from 127.0.0.1, and 5 from 127.0.0.8 that go on sending a byte every 0.3 s
slowloris "$GW4" trickle 200 0.4 4 >"$TMP/slow1" &
slow1=$!
slowloris "$GW4" trickle 5 0.3 5 --from 127.0.0.8 >"$TMP/slow8" &
slow8=$!
sleep 1
expect_eq "while 200 connections trickle from 127.0.0.1, a client from 127.0.0.2 is served" '{"value":42}' \
    "$(curl -s --max-time 2 --interface 127.0.0.2 "http://$GW4/arith/multiply?a=6&b=7")"
expect_eq "and one from 127.0.0.1 itself: its address's connection waiting longest makes room" '{"value":12}' \
    "$(curl -s --max-time 2 --interface 127.0.0.1 "http://$GW4/arith/multiply?a=3&b=4")"
wait "$slow1" "$slow8"
alive=$(field alive_at "$TMP/slow1")
if [ -n "$alive" ] && [ "$alive" -le 40 ] && [ "$(field opened "$TMP/slow1")" = 200 ]; then
    ok "--max-conns-per-addr 40: of 200 trickling connections from one address, $alive stay open"
else
    bad "--max-conns-per-addr 40: of 200 trickling connections from one address, at most 40 stay open" \
        "$(cat "$TMP/slow1")"
fi
expect_eq "--header-timeout 2: 5 connections sending a byte every 0.3 s are closed all the same" \
    "closed=5 alive_end=0" "closed=$(field closed "$TMP/slow8") alive_end=$(field alive_end "$TMP/slow8")"
life=$(field life_min "$TMP/slow8")
if awk -v l="${life:--1}" 'BEGIN { exit !(l >= 1.9) }'; then
    ok "and not before the 2 s are up (the first after $life s)"
else
    bad "and not before the 2 s are up" "$(cat "$TMP/slow8")"
fi
# 120 from four addresses, 30 each: under --max-conns-per-addr, over --max-conns 100
slowloris "$GW4" trickle 120 0.4 3 --from 127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6 >"$TMP/slow3" &
slow3=$!
sleep 1
expect_eq "--max-conns 100 reached by trickling connections: a new client (127.0.0.7) is served" '{"value":30}' \
    "$(curl -s --max-time 2 --interface 127.0.0.7 "http://$GW4/arith/multiply?a=5&b=6")"
wait "$slow3"
alive=$(field alive_at "$TMP/slow3")
if [ -n "$alive" ] && [ "$alive" -le 100 ] && [ "$(field opened "$TMP/slow3")" = 120 ]; then
    ok "--max-conns 100: of 120 trickling connections, $alive stay open (the ones waiting longest made room)"
else
    bad "--max-conns 100: of 120 trickling connections, at most 100 stay open" "$(cat "$TMP/slow3")"
fi
expect_grep "the gateway logs what it closed and why" "without a whole request head within --header-timeout" \
    "$(cat "$TMP/gateway4.err")"
stop "$GW4_PID"

# ---- the caller secret ----
# A user-server and an order-server of their own (registered as suser and sorder) that
# answer only calls carrying the secret of a 0600 file: the user server reads the file,
# the order server $WB_CALLER_SECRET. A gateway given the same file, and one given none.
(umask 077 && head -c 24 /dev/urandom | base64 >"$TMP/caller-secret")
SECRET=$(cat "$TMP/caller-secret")
start suser env -u WB_CALLER_SECRET "$BIN/user-server" --listen 127.0.0.1:0 --db "$TMP/susers.db" \
    --registry "$URL" --service suser --ttl 2 --caller-secret-file "$TMP/caller-secret" || exit 1
SUSER=$ADDR
start sorder env WB_CALLER_SECRET="$SECRET" "$BIN/order-server" --listen 127.0.0.1:0 --db "$TMP/sorders.db" \
    --registry "$URL" --service sorder --ttl 2 || exit 1
SORDER=$ADDR
start sgw env -u WB_CALLER_SECRET "$BIN/gateway" --listen 127.0.0.1:0 --registry "$URL" --user-service suser \
    --order-service sorder --caller-secret-file "$TMP/caller-secret" || exit 1
SGW=$ADDR
start nogw env -u WB_CALLER_SECRET "$BIN/gateway" --listen 127.0.0.1:0 --registry "$URL" --user-service suser \
    --order-service sorder || exit 1
NOGW=$ADDR
# direct CHECK...: python3-grpcio calls the secret order-server, one line per check
direct() {
    timeout 20 /usr/bin/python3 - "$SORDER" "$SECRET" "$@" <<'PY' 2>&1
import grpc, sys
addr, secret, checks = sys.argv[1], sys.argv[2], sys.argv[3:]
ch = grpc.insecure_channel(addr)
for check in checks:
    md = {"none": None, "wrong": (("wb-caller-secret", secret[:-1] + ("y" if secret[-1] == "x" else "x")),),
          "right": (("wb-caller-secret", secret),)}.get(check)
    try:
        if check == "reflection":
            f = ch.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
            r = b"".join(f(iter([b"\x3a\x00"]), timeout=5))  # list_services
            print(check, "OK", "order.Order" in r.decode("latin-1"))
        elif check == "health":
            r = ch.unary_unary("/grpc.health.v1.Health/Check")(b"\x0a\x0border.Order", timeout=5)
            print(check, "OK", r.hex())
        else:  # order.Order/List {user: "li"}
            r = ch.unary_unary("/order.Order/List")(b"\x0a\x02li", metadata=md, timeout=5)
            print(check, "OK", r.hex())
    except grpc.RpcError as e:
        print(check, e.code().name, e.details())
PY
}
out=$(direct none)
expect_grep "caller secret: order.Order/List without the wb-caller-secret header is UNAUTHENTICATED" \
    "none UNAUTHENTICATED caller secret missing" "$out"
expect_grep "caller secret: with a wrong one, UNAUTHENTICATED" "wrong UNAUTHENTICATED caller secret wrong" "$(direct wrong)"
expect_eq "caller secret: with the right one, the call is answered (no orders yet)" "right OK " "$(direct right)"
expect_eq "caller secret: health checking stays open (SERVING)" "health OK 0801" "$(direct health)"
expect_eq "caller secret: reflection stays open" "reflection OK True" "$(direct reflection)"
expect_eq "caller secret: the workbench, which sends no header, still gets health" '{"status":"SERVING"}' \
    "$("$BIN/workbench" call "grpc://$SUSER" grpc.health.v1.Health/Check '{"service":"user.User"}' 2>&1)"
expect_grep "caller secret: the refused connection is logged with the peer's address" \
    "127.0.0.1:" "$(grep "a call with no wb-caller-secret header refused" "$TMP/sorder.err")"
refusals() { grep -c "a call with no wb-caller-secret header refused" "$TMP/sorder.err"; }
before=$(refusals)
direct none none none >/dev/null
expect_eq "caller secret: three refused calls on one connection are logged as refused once" $((before + 1)) "$(refusals)"
sgw_ready() { req_at "$SGW" POST /user/register -d '{"name":"mei","password":"secret123"}'; [ "$CODE" = 201 ]; }
req_at() { local gw=$GW; GW=$1; shift; req "$@"; GW=$gw; }
if wait_until 10 sgw_ready; then ok "caller secret: the gateway given the file signs up through the user service"
else bad "caller secret: the gateway given the file signs up through the user service" "$CODE $BODY"; fi
req_at "$SGW" POST /user/login -d '{"name":"mei","password":"secret123"}'
SAUTH="Authorization: Bearer $(jget token)"
req_at "$SGW" POST /orders -H "$SAUTH" -d '{"item":"砚台","quantity":1}'
expect_status "caller secret: the gateway places an order through the order service" 201
req_at "$SGW" GET /orders -H "$SAUTH"
expect_status "caller secret: and lists it" 200
expect_grep "caller secret: the list holds it" '"item":"砚台"' "$BODY"
req_at "$NOGW" POST /user/login -d '{"name":"mei","password":"secret123"}'
expect_status "caller secret: a gateway without it gets 502 from the user service, not 401" 502
expect_grep "caller secret: and says why" "the suser service refused the gateway (caller secret missing" "$BODY"
req_at "$NOGW" GET /orders -H "$SAUTH"
expect_status "caller secret: its order routes are 502 too (the token check is refused)" 502
expect_no_grep "caller secret: never in the services' or gateway's logs" "$SECRET" \
    "$(cat "$TMP/suser.err" "$TMP/sorder.err" "$TMP/sgw.err" "$TMP/nogw.err")"
chmod 644 "$TMP/caller-secret"
out=$("$BIN/order-server" --listen 127.0.0.1:0 --db "$TMP/sorders.db" --caller-secret-file "$TMP/caller-secret" 2>&1)
expect_grep "caller secret: order-server refuses a file others may read" \
    "--caller-secret-file: $TMP/caller-secret is mode 644" "$out"
out=$("$BIN/gateway" --registry "$URL" --caller-secret-file "$TMP/caller-secret" 2>&1)
expect_grep "caller secret: so does the gateway" "--caller-secret-file: $TMP/caller-secret is mode 644" "$out"

# ---- the programs themselves ----
expect_grep "gateway --help lists the routes" "GET  /orders/{id}" "$("$BIN/gateway" --help)"
expect_grep "user-server --help documents --db" "--db PATH" "$("$BIN/user-server" --help)"
expect_grep "order-server --help lists its methods" "/order.Order/Place" "$("$BIN/order-server" --help)"
"$BIN/gateway" --bogus >/dev/null 2>&1
expect_eq "gateway: an unknown option is a usage error" 2 "$?"
"$BIN/order-server" --db >/dev/null 2>&1
expect_eq "order-server: --db without a file is a usage error" 2 "$?"
# SIGTERM while a request waits on a hung backend: it is answered before the gateway exits
kill -STOP "$ARITH_PID"
curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://$GW/arith/multiply?a=2&b=3" >"$TMP/inflight" &
CURL_PID=$!
# the request has reached the backend once its bytes wait in the stopped server's socket
queued() { ss -Htn state established "( sport = :$(port_of "$ARITH") )" | awk '$1 > 0 { q = 1 } END { exit !q }'; }
wait_until 10 queued || bad "the request reaches the stopped backend" "$(ss -tn | grep ":$(port_of "$ARITH")")"
kill -TERM "$GW_PID"
wait "$CURL_PID"
kill -CONT "$ARITH_PID"
expect_eq "a request in flight at SIGTERM is still answered (504 from the hung backend)" 504 "$(cat "$TMP/inflight")"
if wait_until 5 sh -c "! kill -0 $GW_PID"; then ok "the gateway stops on SIGTERM"; else bad "the gateway stops on SIGTERM"; fi
wait "$GW_PID"
expect_eq "and exits 0" 0 "$?"

# ---- sign-ups waiting for a worker while the database is locked ----
# A user-server of its own. A writer holds the database (BEGIN EXCLUSIVE): the first two
# sign-ups take the two workers and wait in SQLite's busy timeout; the other four wait in
# the queue until their 300 ms deadline passes. Those four must never run.
start lonely "$BIN/user-server" --listen 127.0.0.1:0 --db "$TMP/lonely.db" || exit 1
LONELY=$ADDR LONELY_PID=$PID
lock_db() { # lock_db SECONDS: holds the lonely database's write lock that long
    python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE"); print("locked", flush=True); time.sleep(float(sys.argv[2]))' "$TMP/lonely.db" "$1"
}
signups() { # signups PREFIX: six sign-ups at once, each giving up after 300 ms
    pids=""
    for i in 1 2 3 4 5 6; do
        "$BIN/workbench" call "grpc://$LONELY" user.User/SignUp "{\"name\":\"$1$i\",\"password\":\"secret123\"}" \
            --timeout 300 >/dev/null 2>&1 &
        pids="$pids $!"
    done
    wait $pids
}
lock_db 1 >"$TMP/lock1" &
lock=$!
wait_until 5 grep -q locked "$TMP/lock1"
signups late
wait "$lock"
sleep 1.7 # the two running ones finish (the lock is gone), and a worker is free for the rest
expect_eq "six sign-ups against a locked database: the two a worker had begun are stored, the four whose deadline passed in the queue are not" \
    2 "$(sqlite3 "$TMP/lonely.db" "SELECT count(*) FROM users WHERE name LIKE 'late%'")"
# SIGTERM with calls still on the workers: the server joins them (they end within the
# busy timeout) before it closes the database, and exits 0
lock_db 3 >"$TMP/lock2" &
lock=$!
wait_until 5 grep -q locked "$TMP/lock2"
signups gone
kill -TERM "$LONELY_PID"
wait "$LONELY_PID"
expect_eq "SIGTERM with sign-ups on the workers: user-server exits 0" 0 "$?"
expect_no_grep "and with no sanitizer report" "Sanitizer" "$(cat "$TMP/lonely.err")"
wait "$lock"

summary
