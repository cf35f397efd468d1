# test_posts.sh -- tutorial 002's post service: bin/post-server under a real etcd (Debian's
# etcd-server) behind bin/gateway, with curl as the client: a gateway that starts before
# any post-server answers the post routes 503 and the rest as usual; then two post-server
# instances on one SQLite file, every post route and its errors, python3-grpcio calling
# post-server directly through its reflection, the workbench calling it the same way, and
# one instance SIGKILLed under load with every post that got a 2xx read back afterwards.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
PY=/usr/bin/python3 # Debian's, which has python3-grpcio (the python3 on PATH may not)

for tool in etcd etcdctl curl; do
    if ! command -v $tool >/dev/null; then
        echo "SKIP $tool is not installed (make test installs etcd-server, etcd-client and curl)"
        summary
        exit $?
    fi
done
if ! "$PY" -c 'import grpc, google.protobuf' 2>/dev/null; then
    echo "SKIP python3-grpcio is not installed for $PY (make test installs python3-grpcio)"
    summary
    exit $?
fi

etcd_or_exit posttest

count_keys() { etcdctl --endpoints "$EP" get --prefix "$1/" --keys-only | grep -c .; }

# req METHOD PATH [curl options...]: sets CODE (HTTP status) and BODY
req() {
    local m=$1 p=$2
    shift 2
    CODE=$(curl -s -o "$TMP/resp" -w '%{http_code}' --max-time 20 -X "$m" "http://$GW$p" "$@")
    BODY=$(cat "$TMP/resp")
}
# jget FIELD: a top-level field of the JSON in BODY
jget() { printf '%s' "$BODY" | "$PY" -c "import json,sys; print(json.load(sys.stdin).get('$1', ''))" 2>/dev/null; }
# posts_of: the ids of BODY's {"posts": [...]}, space-separated
posts_of() { printf '%s' "$BODY" | "$PY" -c 'import json,sys; print(*[p["id"] for p in json.load(sys.stdin)["posts"]])' 2>/dev/null; }
# expect_status NAME WANT: CODE is WANT; shows the body otherwise
expect_status() {
    if [ "$CODE" = "$2" ]; then ok "$1 ($2)"; else bad "$1" "want HTTP $2, got $CODE: $BODY"; fi
}

# ---- a gateway with no post service yet ----
start user "$BIN/user-server" --listen 127.0.0.1:0 --db "$TMP/users.db" --registry "$URL" --ttl 2 || exit 1
start gateway "$BIN/gateway" --listen 127.0.0.1:0 --registry "$URL" || exit 1
GW=$ADDR
user_ready() { req POST /user/register -d '{"name":"li","password":"secret123"}'; [ "$CODE" = 201 ]; }
if wait_until 10 user_ready; then ok "POST /user/register through the gateway (no post service registered)"
else bad "POST /user/register through the gateway" "$CODE $BODY"; fi
req POST /user/login -d '{"name":"li","password":"secret123"}'
expect_status "POST /user/login" 200
AUTH="Authorization: Bearer $(jget token)"
req POST /post -H "$AUTH" -d '{"title":"t","body":"b"}'
expect_status "POST /post while no post-server is registered" 503
expect_grep "says so" "no live instance of the post service" "$BODY"
req GET /post/1
expect_status "GET /post/1 likewise" 503

# ---- two post-servers on one file ----
umask 022
start post1 "$BIN/post-server" --listen 127.0.0.1:0 --db "$TMP/posts.db" --registry "$URL" --ttl 2 || exit 1
POST1=$ADDR POST1_PID=$PID
start post2 "$BIN/post-server" --listen 127.0.0.1:0 --db "$TMP/posts.db" --registry "$URL" --ttl 2 || exit 1
POST2=$ADDR POST2_PID=$PID
registered() { [ "$(count_keys post)" = 2 ]; }
if wait_until 10 registered; then ok "two post-server instances registered as post/ in etcd (the default name)"
else bad "the post servers register" "$(etcdctl --endpoints "$EP" get --prefix "" --keys-only)"; fi
expect_eq "the shared database is 0600 under umask 022" 600 "$(stat -c %a "$TMP/posts.db")"
posts_ready() { req GET /post; [ "$CODE" = 200 ]; }
wait_until 10 posts_ready
expect_status "GET /post once the gateway has seen them" 200
expect_eq "no posts yet" '{"posts":[]}' "$BODY"

# ---- the routes ----
req POST /post -H "$AUTH" -d '{"title":"静夜思","body":"床前明月光，\n疑是地上霜。"}'
expect_status "POST /post (发帖)" 201
ID=$(jget id)
expect_eq "the post is the token's user's" "li" "$(jget user)"
case "$(jget served_by)" in
    "$POST1" | "$POST2") ok "served_by names the instance that stored it ($(jget served_by))" ;;
    *) bad "served_by names an instance" "$BODY" ;;
esac
req GET "/post/$ID"
expect_status "GET /post/{id} (查看帖子), with no token: posts are public" 200
expect_eq "the post read back" "静夜思" "$(jget title)"
expect_grep "with its body, newline and all" '"body":"床前明月光，\n疑是地上霜。"' "$BODY"
req POST /user/register -d '{"name":"zhang","password":"secret123"}'
req POST /user/login -d '{"name":"zhang","password":"secret123"}'
AUTH2="Authorization: Bearer $(jget token)"
req POST /post -H "$AUTH2" -d '{"title":"zhang says","body":"hi"}'
ZID=$(jget id)
req POST /post -H "$AUTH" -d '{"title":"second","body":"b"}'
ID2=$(jget id)
req GET "/post?user=li"
expect_status "GET /post?user=li" 200
expect_eq "li's posts, newest first" "$ID2 $ID" "$(posts_of)"
req GET "/post?user=li&limit=1"
expect_eq "limit=1" "$ID2" "$(posts_of)"
req GET /post
expect_eq "GET /post without user lists everyone's, newest first" "$ID2 $ZID $ID" "$(posts_of)"
req GET "/post?user=nobody"
expect_eq "a user with no posts" '{"posts":[]}' "$BODY"
req POST /post -H "$AUTH" -H "Idempotency-Key: k1" -d '{"title":"once","body":"b"}'
first=$(jget id)
req POST /post -H "$AUTH" -H "Idempotency-Key: k1" -d '{"title":"once","body":"b"}'
expect_eq "the same Idempotency-Key twice writes one post" "$first" "$(jget id)"
req POST /post -H "$AUTH2" -H "Idempotency-Key: k1" -d '{"title":"once","body":"b"}'
[ -n "$first" ] && [ "$(jget id)" != "$first" ] && ok "another user's same key is another post" ||
    bad "another user's same key is another post" "$first vs $BODY"

# ---- errors ----
req POST /post -d '{"title":"t","body":"b"}'
expect_status "POST /post with no token" 401
expect_grep "says how to get one" "POST /user/login" "$BODY"
req POST /post -H "Authorization: Bearer 0123456789abcdef" -d '{"title":"t","body":"b"}'
expect_status "a wrong token" 401
req POST /post -H "$AUTH" -d '{"title":"t","body":'
expect_status "malformed JSON" 400
expect_grep "says where it broke" "not valid JSON" "$BODY"
req POST /post -H "$AUTH" -d '{"title":"t"}'
expect_status "a missing body" 400
expect_grep "names the field" 'missing field \"body\"' "$BODY"
req POST /post -H "$AUTH" -d '{"title":"t","body":"b","user":"zhang"}'
expect_status "an unknown field (a body cannot choose the user)" 400
req POST /post -H "$AUTH" -d '{"title":1,"body":"b"}'
expect_status "a title that is not a string" 400
title=$(head -c 201 /dev/zero | tr '\0' 't')
req POST /post -H "$AUTH" -d "{\"title\":\"$title\",\"body\":\"b\"}"
expect_status "a 201-byte title is INVALID_ARGUMENT from the post service" 400
expect_grep "says the cap" "title is 201 bytes; at most 200" "$BODY"
expect_eq "is INVALID_ARGUMENT" "INVALID_ARGUMENT" "$(jget code)"
body=$(head -c 10001 /dev/zero | tr '\0' 'b')
req POST /post -H "$AUTH" -d "{\"title\":\"t\",\"body\":\"$body\"}"
expect_status "a 10001-byte body" 400
expect_grep "says the cap" "body is 10001 bytes; at most 10000" "$BODY"
req POST /post -H "$AUTH" -d '{"title":"two\nlines","body":"b"}'
expect_status "a title of two lines" 400
req POST /post -H "$AUTH" -d '{"title":"","body":"b"}'
expect_status "an empty title" 400
req GET /post/999999
expect_status "a post that does not exist" 404
expect_eq "is NOT_FOUND" "NOT_FOUND" "$(jget code)"
req GET /post/abc
expect_status "a non-numeric id" 400
req GET "/post?limit=0"
expect_status "limit=0" 400
req DELETE /post
expect_status "a wrong method" 405
req GET /posts
expect_status "an unknown route" 404
expect_grep "the 404 lists the post routes" "GET /post/{id}" "$BODY"

# ---- real peers calling post-server directly ----
count_checks "python3-grpcio's checks" "$(cd "$ROOT/tests/python" && timeout 60 "$PY" post_checks.py "$POST1" "$ID" "静夜思" 2>&1)"
expect_eq "workbench call, through reflection: post.Post/Get" "静夜思 li" \
    "$("$BIN/workbench" call "grpc://$POST2" post.Post/Get "{\"id\":$ID}" 2>&1 |
        "$PY" -c 'import json,sys; p=json.load(sys.stdin); print(p["title"], p["user"])' 2>&1)"
expect_grep "workbench call: post.Post/Get of an unknown id" "NOT_FOUND: no post 424242" \
    "$("$BIN/workbench" call "grpc://$POST2" post.Post/Get '{"id":424242}' 2>&1)"
expect_grep "workbench list: post-server serves post.Post" "post.Post" "$("$BIN/workbench" list "grpc://$POST1" 2>&1)"
expect_eq "gRPC health for post.Post" '{"status":"SERVING"}' \
    "$("$BIN/workbench" call "grpc://$POST1" grpc.health.v1.Health/Check '{"service":"post.Post"}' 2>&1)"

# ---- one post-server SIGKILLed under load ----
# write N TAG: N sequential POST /post, one "BODY STATUS" line each
write() {
    local i=0
    while [ $i -lt "$1" ]; do
        curl -s --max-time 20 -X POST "http://$GW/post" -H "$AUTH2" -d "{\"title\":\"load-$2-$i\",\"body\":\"b\"}" \
            -w ' %{http_code}\n' || echo " 000"
        i=$((i + 1))
    done
}
write 60 a >"$TMP/load-a" 2>&1 &
LA=$!
write 60 b >"$TMP/load-b" 2>&1 &
LB=$!
taken_by_post1() { [ "$(cat "$TMP/load-a" "$TMP/load-b" | grep -c "\"served_by\":\"$POST1\"")" -ge 10 ]; }
wait_until 20 taken_by_post1
{ kill -KILL "$POST1_PID" && wait "$POST1_PID"; } 2>/dev/null
wait "$LA" "$LB"
cat "$TMP/load-a" "$TMP/load-b" >"$TMP/load"
total=$(grep -c . "$TMP/load")
good=$(grep -cE ' 2[0-9][0-9]$' "$TMP/load")
by_killed=$(grep -E ' 2[0-9][0-9]$' "$TMP/load" | grep -c "\"served_by\":\"$POST1\"")
readable=0
for id in $(grep -E ' 2[0-9][0-9]$' "$TMP/load" | sed -n 's/^{"id":\([0-9]*\),.*/\1/p'); do
    req GET "/post/$id"
    [ "$CODE" = 200 ] && readable=$((readable + 1))
done
echo "     failover: $total requests, $good got a 2xx ($by_killed stored by the killed $POST1), $readable read back"
expect_eq "every request got an answer" 120 "$total"
if [ "$by_killed" -ge 1 ]; then ok "the killed instance had stored posts ($by_killed)"; else bad "the killed instance had stored posts" "$(head -n 3 "$TMP/load")"; fi
expect_eq "no request failed: a broken connection is retried on the other instance" 120 "$good"
expect_eq "every post that got a 2xx is readable afterwards" "$good" "$readable"
# counted in the file itself (a list stops at 100), with Python's sqlite3
stored=$("$PY" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(*db.execute("SELECT count(*), count(DISTINCT title) FROM posts WHERE title LIKE ?", ("load-%",)).fetchone())' \
    "$TMP/posts.db" 2>&1)
expect_eq "the file holds exactly the 2xx posts, each once (a retried Create did not post twice)" "$good $good" \
    "$stored"

# ---- the program itself ----
expect_grep "post-server --help lists its methods" "/post.Post/Create" "$("$BIN/post-server" --help)"
expect_grep "post-server --help documents --db" "--db PATH" "$("$BIN/post-server" --help)"
expect_grep "post-server's default address is the tutorial's 8005" "127.0.0.1:8005" "$("$BIN/post-server" --help)"
expect_grep "post-server --help in Chinese" "帖子" "$("$BIN/post-server" --help --lang zh)"
"$BIN/post-server" --db >/dev/null 2>&1
expect_eq "post-server: --db without a file is a usage error" 2 "$?"
expect_grep "gateway --help lists the post routes" "GET  /post/{id}" "$("$BIN/gateway" --help)"
expect_grep "gateway --help has --post-service" "--post-service NAME" "$("$BIN/gateway" --help)"
# a gateway told another name for the post service finds none
start gateway2 "$BIN/gateway" --listen 127.0.0.1:0 --registry "$URL" --post-service blog || exit 1
GW=$ADDR
req GET "/post/$ID"
expect_status "gateway --post-service blog: no blog service registered" 503
expect_grep "names the service" "no live instance of the blog service" "$BODY"
kill -TERM "$POST2_PID"
wait "$POST2_PID"
expect_eq "post-server exits 0 on SIGTERM" 0 "$?"
gone() { [ "$(count_keys post)" = 0 ]; }
wait_until 10 gone && ok "its entry is gone from etcd (the SIGKILLed one's lease expired)" ||
    bad "the post entries leave etcd" "$(etcdctl --endpoints "$EP" get --prefix post/ --keys-only)"

summary
