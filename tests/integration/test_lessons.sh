#!/bin/bash
# test_lessons.sh -- every lesson in check mode (each step's commands run against real
# servers and its expectations are checked), plus the runner's own behaviour.
# LESSON_LANES=1 checks them one after another.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

# Every lesson in check mode, in English and then in Chinese (the explainers speak the
# learner's language, and steps whose commands pick their words have Chinese twins),
# three at a time: most of a lesson's time is spent waiting (leases expiring, load
# running), so lanes share the two cores well. The slow ones go first, one to a lane;
# each lesson's lines are printed in lesson order afterwards.
LANES=${LESSON_LANES:-3}
all=$("$BIN/workbench" lesson | sed -n 's/^ *\([0-9][0-9]*\)  .*/\1/p')
order=""
for n in 15 21 11 20 12 10 8 14 9 5 $all; do
    case " $order " in *" $n "*) ;; *) printf '%s\n' "$all" | grep -qx "$n" && order="$order $n" ;; esac
done
i=0
for n in $order; do eval "lane$((i % LANES))=\"\${lane$((i % LANES)):-} $n\""; i=$((i + 1)); done
for lang in en zh; do
    LANE_PIDS=""
    for l in $(seq 0 $((LANES - 1))); do
        eval "set -- \${lane$l:-}"
        (for n in "$@"; do
            "$BIN/workbench" lesson --check "$n" --lang $lang >"$TMP/lesson-$lang-$n.out" 2>&1
            echo $? >"$TMP/lesson-$lang-$n.rc"
         done) &
        LANE_PIDS="$LANE_PIDS $!"
        PIDS="$PIDS $!"
    done
    wait $LANE_PIDS
    for n in $all; do
        out=$(cat "$TMP/lesson-$lang-$n.out")
        rc=$(cat "$TMP/lesson-$lang-$n.rc")
        printf '%s\n' "$out" | grep -E '^(ok  |FAIL|SKIP|     )' | sed "s/^/$lang /"
        steps_ok=$(printf '%s\n' "$out" | grep -c '^ok  ')
        steps_bad=$(printf '%s\n' "$out" | grep -c '^FAIL')
        pass=$((pass + steps_ok))
        fail=$((fail + steps_bad))
        if [ "$steps_bad" -ne 0 ] && [ "$rc" != 1 ]; then bad "lesson --check $n --lang $lang exits 1 when a step fails (it was $rc)"; fi
        if [ "$steps_bad" -eq 0 ] && [ "$rc" != 0 ]; then bad "lesson --check $n --lang $lang exits 0 when every step passes (it was $rc)" "$out"; fi
    done
done
[ -n "$all" ] && ok "workbench lesson lists $(echo $all | wc -w) lessons, all checked above" || bad "workbench lesson lists the lessons"
out=$("$BIN/workbench" lesson --check 4 2>&1)
expect_grep "the check ends with a summary" "lessons: 5 steps passed, 0 failed, 0 lessons skipped" "$out"

# The runner itself: a lesson whose expectation is wrong must fail, one that needs a
# missing program must print SKIP, and a malformed file must be reported with its line.
mkdir -p "$TMP/lessons"
cat > "$TMP/lessons/01-wrong.txt" <<'L'
lesson: 1
title: wrong on purpose
title.zh: 故意出错
step: one
step.zh: 一
say: s
say.zh: s
run: echo hello
look: l
look.zh: l
expect: contains goodbye
L
out=$("$BIN/workbench" lesson --dir "$TMP/lessons" --check 1 2>&1)
expect_eq "a lesson with an unmet expectation fails check mode" 1 "$?"
expect_grep "the failure names the unmet expectation" '✗ output contains `goodbye`' "$out"
expect_grep "the failure shows the output" "| hello" "$out"

cat > "$TMP/lessons/02-needs.txt" <<'L'
lesson: 2
title: needs a program nobody has
title.zh: 需要一个没人装的程序
needs: no-such-program-wb
step: one
step.zh: 一
say: s
say.zh: s
run: true
look: l
look.zh: l
L
out=$("$BIN/workbench" lesson --dir "$TMP/lessons" --check 2 2>&1)
expect_eq "a lesson needing a missing program is not a failure" 0 "$?"
expect_grep "it prints a SKIP line naming the program" "SKIP lesson 2 (needs a program nobody has): no-such-program-wb is not installed" "$out"

out=$(printf '\nq\n' | "$BIN/workbench" lesson --dir "$TMP/lessons" 2 2>&1)
expect_grep "step by step, a lesson needing a missing program says what is missing" "no-such-program-wb is not installed" "$out"
expect_grep "and its steps can still be read" "Step 1/1: one" "$out"
expect_no_grep "without running their commands" "running…" "$out"

cat > "$TMP/lessons/03-nozh.txt" <<'L'
lesson: 3
title: english only
title.zh: 只有英文
step: one
say: s
run: true
look: l
L
out=$("$BIN/workbench" lesson --dir "$TMP/lessons" --check 3 2>&1)
expect_grep "a step without its Chinese text fails the check" 'FAIL lesson 3: lesson 3 step 1 (line 4) has no "step.zh:"' "$out"

cat > "$TMP/lessons/04-slow.txt" <<'L'
lesson: 4
title: too slow
title.zh: 太慢
step: one
step.zh: 一
say: s
say.zh: s
run: sleep 37.25
timeout: 1
look: l
look.zh: l
L
out=$("$BIN/workbench" lesson --dir "$TMP/lessons" --check 4 2>&1)
expect_grep "a step past its deadline is stopped and fails" "(it ran past its 1 s deadline)" "$out"
if pgrep -fx "sleep 37.25" >/dev/null; then bad "the stopped step leaves no process behind"
else ok "the stopped step leaves no process behind"; fi

# A step's Chinese twins replace its commands and checks when the lesson runs in Chinese.
cat > "$TMP/lessons/06-twins.txt" <<'L'
lesson: 6
title: twins
title.zh: 双语
step: one
step.zh: 一
say: s
say.zh: s
run: echo hello
run: echo again
run.zh: echo 你好
look: l
look.zh: l
expect: contains again
expect.zh: contains 你好
expect.zh: lacks hello
L
out=$("$BIN/workbench" lesson --dir "$TMP/lessons" --check 6 --lang en 2>&1)
expect_grep "in English a step runs its run: lines and checks its expect: lines" "ok   lesson 6 step 1" "$out"
out=$("$BIN/workbench" lesson --dir "$TMP/lessons" --check 6 --lang zh 2>&1)
expect_grep "in Chinese it runs its run.zh: lines and checks its expect.zh: lines" "ok   lesson 6 step 1" "$out"
out=$("$BIN/workbench" lesson --dir "$TMP/lessons" 6 --render --lang zh 2>&1)
expect_grep "and shows the learner the Chinese command" "$ echo 你好" "$out"
expect_no_grep "not the English ones" "echo again" "$out"

# needs: root -- a lab's network namespaces. Without CAP_SYS_ADMIN (setpriv drops it from
# the bounding set, which root's next program then lacks) the lesson is a SKIP that says why.
cat > "$TMP/lessons/07-root.txt" <<'L'
lesson: 7
title: needs root
title.zh: 需要 root
needs: root
step: one
step.zh: 一
say: s
say.zh: s
run: echo ran
look: l
look.zh: l
expect: contains ran
L
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    out=$("$BIN/workbench" lesson --dir "$TMP/lessons" --check 7 2>&1)
    expect_grep "as root a lesson that needs root runs" "ok   lesson 7 step 1" "$out"
    NOROOT="setpriv --bounding-set=-sys_admin"
else
    NOROOT=""
    echo "SKIP needs: root as root (not root, or setpriv missing): only the lesson without root is checked"
fi
out=$($NOROOT "$BIN/workbench" lesson --dir "$TMP/lessons" --check 7 2>&1)
expect_eq "without root a lesson that needs root is not a failure" 0 "$?"
expect_grep "it prints a SKIP line saying why" \
    "SKIP lesson 7 (needs root): it needs root (the lab's network namespaces need CAP_SYS_ADMIN" "$out"
out=$(printf '\nq\n' | $NOROOT "$BIN/workbench" lesson --dir "$TMP/lessons" 7 2>&1)
expect_grep "step by step, it says the lesson needs root" "cannot run here: it needs root" "$out"
expect_no_grep "and runs none of its commands" "running…" "$out"

printf 'lesson: 5\ntitle: x\nstep: one\n  indented\nbogus line\n' > "$TMP/lessons/05-bad.txt"
out=$("$BIN/workbench" lesson --dir "$TMP/lessons" 2>&1)
expect_grep "a malformed lesson is reported with its file and line" '05-bad.txt:5: expected "key: value"' "$out"

out=$("$BIN/workbench" lesson 99 2>&1)
expect_eq "an unknown lesson number is a usage error" 2 "$?"
expect_grep "and says so" "there is no lesson 99" "$out"

summary
