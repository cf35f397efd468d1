# tui_lib.sh -- drives the real TUI in tmux for the TUI tests: start it in a pane of a
# tmux server of the test's own, send keys, read the screen. Sourced after lib.sh.
# Skips the whole script (with a SKIP line) when tmux or etcd is missing.

if ! command -v tmux >/dev/null; then
    echo "SKIP tmux is not installed (make test installs it)"
    summary
    exit 0
fi
if ! command -v etcd >/dev/null; then
    echo "SKIP etcd is not installed (make test installs etcd-server)"
    summary
    exit 0
fi

SOCK=wb-tui-$$
SOCKS=""
tm() { tmux -L "$SOCK" "$@"; }
trap 'for s in $SOCKS; do tmux -L "$s" kill-server 2>/dev/null; done; cleanup' EXIT

# The pane runs the TUI, then says whether the terminal settings came back and how it ended.
cat >"$TMP/run.sh" <<EOF
s=\$(stty -g)
"\${TUI_EXE:-$BIN/workbench}" \$TUI_ARGS
r=\$?
[ "\$(stty -g)" = "\$s" ] && echo TTY-RESTORED
echo TUI-EXITED \$r
exec sleep 300
EOF

screen() { tm capture-pane -p -t tui; }
status_line() { screen | tail -n 1; }
# expect_status NAME TEXT: TEXT (a fixed string) shows on the status line within 3 s: what
# a command says is drawn on the next turn of the TUI's loop, later on a loaded machine
expect_status() { expect_shown "$1" "$2" status_line; }
# expect_shown NAME TEXT FN: TEXT (a fixed string) is in what FN prints within 3 s (a key's
# effect is drawn on the TUI's next turn, later on a loaded machine)
expect_shown() {
    es_n=30
    while [ "$es_n" -gt 0 ]; do
        "$3" | grep -qF -- "$2" && { ok "$1"; return; }
        sleep 0.1
        es_n=$((es_n - 1))
    done
    bad "$1" "want to see: $2
in: $("$3")"
}
# masked_screen: the screen with what changes from run to run masked (tig's way of
# comparing screens): ports (127.0.0.1:PORT) and pids beside them and in the Timeline
# (the blanks after them closed up), Timeline times, ages, lease TTLs and ids (also in
# Chinese), an instance's count of calls, latencies, and blanks at line ends.
masked_screen() {
    screen | sed -E \
        -e 's/127\.0\.0\.1:[0-9]+ */127.0.0.1:PORT /g' \
        -e 's/127\.0\.0\.1:PORT [0-9]+ /127.0.0.1:PORT PID /g' \
        -e '/127\.0\.0\.1:PORT PID /s/ +[0-9]+( +[0-9]+ +[0-9]+ +│)$/ N\1/' \
        -e 's/ *[+-][0-9]+\.[0-9]s / +T.Ts /g' \
        -e 's/pid [0-9]+([)）]?) */pid PID\1 /g' \
        -e 's/(age|reg|已存在|租约) [0-9]+s/\1 Ns/g' \
        -e 's/(lease|租约) [0-9a-f]{16}/\1 L/g' \
        -e 's/p(50|99) [0-9]+\.[0-9]{3} ms/p\1 N ms/g' \
        -e 's/ +$//'
}
# pane_text: the Timeline's text (right of "││" in the rows the Registry and Timeline
# share), its lines joined and blanks closed up, to look for a whole sentence in
pane_text() { screen | grep '││' | sed -E 's/.*││//; s/│$//' | tr '\n' ' ' | tr -s ' '; }
# wait_timeline SECONDS EXTENDED-REGEX: until the Timeline's joined text (pane_text) matches
wait_timeline() {
    n=$(($1 * 10))
    while [ "$n" -gt 0 ]; do
        pane_text | grep -qE -- "$2" && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}
# timeline_has FIXED-STRING: the Timeline shows it now or a few pages back (PgUp, then End
# to come back); prints the text last read when it does not
timeline_has() {
    found=1
    for page in 1 2 3 4 5 6; do
        pane_text | grep -qF -- "$1" && found=0 && break
        key PPage
    done
    [ "$found" = 0 ] || pane_text
    key End
    return $found
}
# column_text FROM TO: characters FROM..TO (from 0) of rows 2 to the last but three, joined
# and blanks closed up: what one column of the Wire pane says
column_text() {
    screen | /usr/bin/python3 -c '
import sys
a, b = int(sys.argv[1]), int(sys.argv[2])
rows = sys.stdin.read().splitlines()
print(" ".join(" ".join(r[a:b].split()) for r in rows[2:-3]))' "$1" "$2"
}
# expect_snapshot NAME FILE: the whole screen, masked, is tests/integration/snapshots/FILE;
# a failure shows the difference. With SNAPSHOT_UPDATE=1 the screen is stored there instead
# (then read the file before committing it).
expect_snapshot() {
    snap=$ROOT/tests/integration/snapshots/$2
    got=$(masked_screen)
    if [ "${SNAPSHOT_UPDATE:-}" = 1 ]; then
        printf '%s\n' "$got" >"$snap"
        ok "$1 (snapshot $2 stored)"
    elif [ -f "$snap" ] && [ "$got" = "$(cat "$snap")" ]; then
        ok "$1"
    else
        bad "$1" "$(printf '%s\n' "$got" | diff -u "$snap" - 2>&1)"
    fi
}
# fixed_lessons: the lessons the help lists (WB_LESSONS, exported), the same on every
# machine for screens compared with snapshots: lesson 13, which needs no program, and
# lesson 19 made to need one no machine has
fixed_lessons() {
    mkdir -p "$TMP/lessons"
    cp "$ROOT/lessons/13-three-encodings.txt" "$TMP/lessons/"
    sed 's/^needs: .*/needs: no-such-program/' "$ROOT/lessons/19-service-hub.txt" >"$TMP/lessons/19-service-hub.txt"
    export WB_LESSONS=$TMP/lessons
}
# wait_for SECONDS EXTENDED-REGEX: until the screen matches (returns 1 on timeout)
wait_for() {
    n=$(($1 * 10))
    while [ "$n" -gt 0 ]; do
        screen | grep -qE -- "$2" && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}
# share_of ID ADDR: the share (integer %) of instance #ID in the Traffic pane
share_of() { screen | grep -E "#$1 +$2 " | grep -oE '[0-9]+\.[0-9]%' | head -n 1 | cut -d. -f1; }
# expect_even_split NAME ADDR1 ADDR2 [NOTE]: instances #1 at ADDR1 and #2 at ADDR2 each
# have 35 to 65 % of the calls in the Traffic pane; a pass shows the shares (and NOTE).
# Leaves the shares in s1 and s2.
expect_even_split() {
    s1=$(share_of 1 "$2"); s2=$(share_of 2 "$3")
    if [ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" -ge 35 ] && [ "$s1" -le 65 ] && [ "$s2" -ge 35 ] && [ "$s2" -le 65 ]; then
        ok "$1 ($s1% / $s2%${4:-})"
    else
        bad "$1" "$(screen)"
    fi
}
# wait_gone SECONDS EXTENDED-REGEX: until the screen no longer matches
wait_gone() {
    n=$(($1 * 10))
    while [ "$n" -gt 0 ]; do
        screen | grep -qE -- "$2" || return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}
key() { tm send-keys -t tui "$@"; sleep 0.2; }
# cmd TEXT: types ':' TEXT Enter (TEXT sent literally)
cmd() { key ':'; tm send-keys -t tui -l -- "$1"; sleep 0.1; key Enter; }
# mouse BUTTON X Y: a mouse event at column X, row Y (from 0, X below 95) as the terminal
# sends it (X10 encoding, what ncurses asks tmux's terminal for): 0 is a left click (press
# and release), 64 wheel up, 65 wheel down.
mouse_event() {
    tm send-keys -t tui -l "$(printf '\033[M%b%b%b' "\\0$(printf %o $((32 + $1)))" \
        "\\0$(printf %o $((33 + $2)))" "\\0$(printf %o $((33 + $3)))")"
}
mouse() {
    mouse_event "$@"
    [ "$1" = 0 ] && mouse_event 3 "$2" "$3"
    sleep 0.2
}
# left_running PID...: those still running (a zombie, state Z, is gone)
left_running() {
    for k in "$@"; do
        st=$(awk '{print $3}' "/proc/$k/stat" 2>/dev/null)
        [ -n "$st" ] && [ "$st" != Z ] && printf ' %s' "$k"
    done
}
# start_tui COLUMNS ROWS [OPTIONS]: the TUI (with the workbench's OPTIONS; TUI_EXE, when
# set, is the workbench binary to run) in a pane of a new tmux server (SOCK, made fresh
# each time); sets WB to the workbench's pid. Ends the script when it does not start.
start_tui() {
    SOCK=wb-tui-$$-$(date +%s%N)
    SOCKS="$SOCKS $SOCK"
    tm new-session -d -x "$1" -y "$2" -s tui "TUI_EXE='${TUI_EXE:-}' TUI_ARGS='${3:-}' sh $TMP/run.sh"
    WB=""
    i=0
    while [ -z "$WB" ] && [ $i -lt 50 ]; do
        pane=$(tm display -p -t tui '#{pane_pid}' 2>/dev/null)
        [ -n "$pane" ] && WB=$(pgrep -P "$pane" workbench)
        sleep 0.1
        i=$((i + 1))
    done
    if [ -z "$WB" ]; then
        bad "the TUI starts in tmux" "$(screen 2>&1)"
        summary
        exit 1
    fi
}

# ---- the TUI's lab (:hosts N) ----
# lab_pids: the lab's holders the TUI started (lab-switch, lab-client, lab-hostN)
lab_pids() { for p in $(pgrep -P "$WB"); do grep -qE '^lab-(switch|client|host[0-9]+)$' "/proc/$p/comm" 2>/dev/null && printf '%s ' "$p"; done; }
# lab_etcds: the etcd members of the TUI's lab (each a child of a lab-run the TUI started)
lab_etcds() { for r in $(pgrep -P "$WB" -x lab-run); do pgrep -P "$r" -x etcd; done | tr '\n' ' '; }
# lab_dir PID: the lab's directory, from the --data-dir of its etcd member PID
lab_dir() { tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | sed -n '/^--data-dir$/{n;s|/m[0-9]*\.etcd$||;p;q}'; }
