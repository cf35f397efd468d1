# test_gob_own.sh -- `workbench call gob://` against a learner's own Go net/rpc server
# (tests/go/ownserver), whose types the workbench has never seen; each reply is compared
# with what Go's own net/rpc client prints for the same call (tests/go/ownclient).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
export COLUMNS=1000

if ! command -v go >/dev/null 2>&1; then
    echo "SKIP test_gob_own.sh: Go is not installed"
    echo "0 passed, 0 failed"
    exit 0
fi
build_go ownserver && build_go ownclient || { bad "build the Go peers"; summary; exit 1; }
start own "$ROOT/build/go/ownserver" --listen 127.0.0.1:0 || { summary; exit 1; }
A=$ADDR
wb() { "$BIN/workbench" call "gob://$A" "$@"; }
goc() { "$ROOT/build/go/ownclient" -addr "$A" -method "$1" -arg "$2"; }

S='{"Name":"李白","Age":20,"P":{"Weight":60},"Score":[90,80],"Tags":{"b":2,"a":1},"Teacher":{"Weight":70},"Ratio":0.5,"OK":true,"Raw":"aGk="}'
T='Student{Name string, Age int32, P People{Weight int}, Score []int, Tags map[string]int,
  Teacher *People, Ratio float64, OK bool, Raw []byte}'

# gob carries no pointers: a *People field travels as a People, and a nil one is left out.
# A reply's missing field reads as a zero People ({"Weight":0}) where Go's client, knowing
# the field is a pointer, prints null: the wire does not say. The comparisons give Teacher
# a value.

# The same call from Go's own client and from the workbench: the same reply text
want=$(goc School.Enroll "$S")
expect_grep "control: Go's client calls Enroll" '"Name":"李白 你好","Age":21' "$want"
out=$(wb School.Enroll "$S" --type "$T")
expect_eq "Enroll with --type: the reply as Go's encoding/json prints it" "$want" "$out"
out=$(wb School.Count "$S" --type "$T")
expect_eq "Count with --type: as Go's client" "$(goc School.Count "$S")" "$out"

# Without --type the JSON's own type is sent: an object is a struct, so a map field differs
out=$(wb School.Enroll "$S" 2>&1); rc=$?
expect_eq "an object for a map field: the server's error, exit 1" "1" "$rc"
expect_grep "Go's decoder names the field" "gob: wrong type (map[string]int) for received field .Tags" "$out"
expect_grep "and the workbench points to --type" "--type gives it" "$out"

# What the JSON alone can say: lower-case keys are sent as exported fields, once noted
L='{"name":"杜甫","age":30,"p":{"weight":50},"score":[1,2],"ratio":2.25,"teacher":{"weight":9}}'
out=$(wb School.Enroll "$L" 2>"$TMP/notes")
expect_eq "lower-case keys: the reply as Go's client prints it" "$(goc School.Enroll "$L")" "$out"
expect_grep "the renaming is said on stderr" '(field "name" sent as "Name": gob carries only exported fields)' \
    "$(cat "$TMP/notes")"
expect_eq "each renaming once" "1" "$(grep -c '"weight" sent as' "$TMP/notes")"
out=$(wb School.Enroll '{"P":{"weight":1},"Score":[{"weight":1},{"weight":2}]}' 2>&1)
expect_eq "a key renamed in many objects is noted once" "1" "$(echo "$out" | grep -c '"weight" sent as')"
# gob matches names exactly, where Go's encoding/json ignores case: "ok" is sent as "Ok",
# which is not the server's "OK" (so it is dropped); the note says what was sent
out=$(wb School.Enroll '{"Name":"x","ok":true,"Teacher":{}}' 2>&1)
expect_grep "\"ok\" is sent as \"Ok\", and the note says so" '(field "ok" sent as "Ok"' "$out"
expect_grep "\"Ok\" is not \"OK\": the server never sees it" '"OK":false' "$out"
out=$(wb School.Enroll '{"Name":"x","ok":true,"Teacher":{}}' --type "$T")
expect_eq "with --type, keys match fields ignoring case, as in encoding/json" \
    "$(goc School.Enroll '{"Name":"x","ok":true,"Teacher":{}}')" "$out"
out=$(wb School.Enroll '{"名字":"x"}' 2>&1); rc=$?
expect_eq "a key that cannot be exported: usage error" "2" "$rc"
expect_grep "and says why" 'field "名字" cannot be sent: gob carries only exported fields' "$out"

# Numbers: an integer is int, a decimal float64; a list's items must agree
out=$(wb School.Enroll '{"Name":"x","Ratio":1}' 2>&1)
expect_grep "1 is an int, and the server wants float64" "wrong type (float64) for received field .Ratio" "$out"
F='{"Name":"x","Ratio":1.0,"Teacher":{"Weight":1}}'
out=$(wb School.Enroll "$F")
expect_eq "1.0 is a float64" "$(goc School.Enroll "$F")" "$out"
out=$(wb School.Enroll '{"Name":"x","Score":[1,2.5]}' 2>&1); rc=$?
expect_eq "a list of int and float64: usage error" "2" "$rc"
expect_grep "naming the field and both types" "Score: the items of a list must have one Go type: [0] is int, [1] is float64" "$out"
out=$(wb School.Enroll '{"Name":"x","Teacher":null}' 2>&1); rc=$?
expect_eq "null without --type: usage error" "2" "$rc"
expect_grep "null: why" "Teacher: cannot tell the Go type of null" "$out"
out=$(wb School.Enroll '{"Name":"x","Teacher":null,"Score":[]}' --type "$T")
expect_eq "null for a pointer field with --type: left out, as Go leaves out nil" \
    "$(goc School.Enroll '{"Name":"x","Score":[]}' | sed 's/"Teacher":null/"Teacher":{"Weight":0}/')" "$out"

# --type: the argument coerced with Go's rules, errors naming the field
out=$(wb School.Enroll '{"Name":"x","Age":3000000000}' --type "$T" 2>&1); rc=$?
expect_eq "--type: int32 overflow is a usage error" "2" "$rc"
expect_grep "--type: the field and the type" "field Age: number 3000000000 overflows int32" "$out"
out=$(wb School.Enroll '{"Name":"x","Tags":{"a":"b"}}' --type "$T" 2>&1)
expect_grep "--type: a map value of the wrong kind" 'field Tags[key 0]: want int, got string "b"' "$out"
out=$(wb School.Enroll '{}' --type 'Student{name string}' 2>&1); rc=$?
expect_eq "--type with an unexported field: usage error" "2" "$rc"
expect_grep "--type: why" 'field "name": gob carries only exported fields' "$out"
out=$(wb School.Enroll '{}' --type 'Student{Name strin}' 2>&1)
expect_grep "--type: an unknown type is named" "unknown type strin" "$out"
out=$(wb School.Names 3 --type int32)
expect_eq "--type int32 for Names" "$(goc School.Names 3)" "$out"
out=$(wb School.Names 0)
expect_eq "an empty []string reply is null, as Go's client prints it" "$(goc School.Names 0)" "$out"
out=$("$BIN/workbench" call "json://$A" School.Names 3 --type int 2>&1); rc=$?
expect_eq "--type is for gob:// only" "2" "$rc"

# tutorial 001's method: a plain string
out=$(wb world.HelloWorld '"李白"')
expect_eq "HelloWorld(name string, resp *string)" "$(goc world.HelloWorld '"李白"')" "$out"

# an error from the learner's method
out=$(wb School.Fail '{"Name":"x"}' 2>&1); rc=$?
expect_eq "a method's error: exit 1" "1" "$rc"
expect_eq "a method's error: its text" "error from server: school is closed for x" "$out"

# --types: the definitions sent and received, in Go syntax, before the result
out=$(wb School.Enroll "$S" --type "$T" --types)
expect_grep "--types: the argument's definition as sent" \
    "sent type Student struct { Name string; Age int; P People; Score []int; Tags map[string]int; Teacher People; Ratio float64; OK bool; Raw []byte }" "$out"
expect_grep "--types: the nested type" "sent type People struct { Weight int }" "$out"
expect_grep "--types: the server's definition as received" "received type Student struct { Name string;" "$out"
expect_eq "--types: the result comes last" "$want" "$(echo "$out" | tail -n 1)"
out=$(wb School.Names 2 --types)
expect_grep "--types: gob's own types travel without a definition" \
    "sent int (gob's own type: no definition travels)" "$out"
expect_grep "--types: an unnamed slice reply" "received []string" "$out"
out=$(wb School.Enroll "$S" --type "$T" --types --repeat 2)
expect_eq "--types --repeat 2: each definition once per stream" "1" "$(echo "$out" | grep -c '^sent type Student')"
out=$(wb School.Enroll "$L" --types 2>/dev/null)
expect_grep "--types: an inferred struct has no name" "sent struct { Name string; Age int; P struct { Weight int }" "$out"

summary
