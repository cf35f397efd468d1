# test_readme.sh -- the README's example of `workbench compare` is the program's real
# output: the block after "$ bin/workbench compare" is run and compared line by line.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

# The first console block that runs compare: its command line, then its output.
awk '/^```console$/ {inb = 1; next}
     inb && /^```$/ {if (found) exit; inb = 0; next}
     inb && !found && /^\$ bin\/workbench compare / {found = 1; print; next}
     found {print}' "$ROOT/README.md" >"$TMP/block"
cmd=$(head -n 1 "$TMP/block" | sed 's/^\$ bin\/workbench //')
tail -n +2 "$TMP/block" >"$TMP/want"
if [ -z "$cmd" ]; then
    bad "the README shows a workbench compare example"
else
    ok "the README shows a workbench compare example"
    eval "set -- $cmd"
    COLUMNS=80 timeout 60 "$BIN/workbench" "$@" >"$TMP/got" 2>&1
    if diff -u "$TMP/want" "$TMP/got" >"$TMP/diff"; then
        ok "the README's compare output is what the program prints"
    else
        bad "the README's compare output is what the program prints" "$(head -n 30 "$TMP/diff")"
    fi
fi
summary
