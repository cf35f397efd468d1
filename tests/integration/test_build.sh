# test_build.sh -- the build on a machine without pkg-config: a pkg-config that always
# fails comes first on PATH, and `make all` into a scratch directory must still compile
# and link every program, with the Makefile's fallback flags.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

DEADLINE=300 # seconds for the whole build; it takes well under a minute on two cores
PROGRAMS="workbench jsonrpc-server gob-server grpc-server user-server order-server post-server shipping-server gateway"

mkdir -p "$TMP/nopkg"
printf '#!/bin/sh\necho "pkg-config: not installed here" >&2\nexit 1\n' >"$TMP/nopkg/pkg-config"
chmod +x "$TMP/nopkg/pkg-config"
NOPKG_PATH="$TMP/nopkg:$PATH"

if PATH=$NOPKG_PATH pkg-config --libs zlib >/dev/null 2>&1; then
    bad "the stand-in pkg-config fails"
else
    ok "the stand-in pkg-config fails"
fi

# -O0 and no sanitizer: only whether everything compiles and links matters here.
PATH=$NOPKG_PATH timeout "$DEADLINE" make --no-print-directory -C "$ROOT" -j2 \
    BUILD="$TMP/b" BIN="$TMP/bin" OPT=-O0 SAN= all >"$TMP/make.log" 2>&1
rc=$?
if [ "$rc" -eq 124 ]; then
    bad "make all finishes within $DEADLINE s without pkg-config" "$(tail -n 20 "$TMP/make.log")"
elif [ "$rc" -ne 0 ]; then
    bad "make all succeeds without pkg-config (exit $rc)" \
        "$( (grep -o "undefined reference to .*" "$TMP/make.log" || grep -E 'error|Error' "$TMP/make.log") |
            sort -u | head -n 20)"
else
    ok "make all succeeds without pkg-config"
fi

for p in $PROGRAMS; do
    if [ -x "$TMP/bin/$p" ]; then ok "$p is linked"; else bad "$p is linked"; fi
done

out=$("$TMP/bin/workbench" --help 2>&1)
expect_grep "the workbench built without pkg-config runs" "Usage: workbench" "$out"

summary
