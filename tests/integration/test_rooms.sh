# test_rooms.sh -- the house keeps its shape: every module of lib/ sits in a room, no include
# runs up from a lower room to a higher one, the modules' includes form no circle, includes
# name their room, every file opens with its purpose, and no file or function grows past a
# size a reader can hold (docs/architecture.md draws the rooms).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
cd "$ROOT"

# The rooms of lib/, lowest first: a file may include its own room and the rooms before it.
ROOMS="base value wire capture services proc registry rpc lesson"
MAX_FILE_LINES=800
MAX_FUNCTION_LINES=120

rank() {
    i=0
    for r in $ROOMS; do
        [ "$r" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
    echo -1
}

# Every project include in FILE, one "ROOM/NAME.h" per line (generated .pb-c.h left out).
includes() { sed -n 's/^#include "\([^"]*\)".*/\1/p' "$1" | grep -v '\.pb-c\.h$'; }

# module FILE: a module is its file name up to the first '_' when ROOM/PREFIX.h exists
# (gob_enc.c and gob_int.h belong to gob), else the whole name without its suffix.
module() {
    dir=$(dirname "$1") name=$(basename "$1")
    name=${name%.*}
    prefix=${name%%_*}
    if [ "$prefix" != "$name" ] && [ -e "$dir/$prefix.h" ]; then name=$prefix; fi
    echo "$dir/$name"
}

lib_files=$(git ls-files 'lib/*.c' 'lib/*.h')
src_files=$(git ls-files 'lib/*.c' 'lib/*.h' 'workbench/*.c' 'workbench/*.h' 'servers/*.c' 'servers/*.h')

strays=$(git ls-files 'lib/*' | awk -F/ 'NF != 3')
expect_eq "every file of lib/ is in a room (lib/ROOM/FILE)" "" "$strays"

unknown="" up="" bare="" edges=""
for f in $lib_files; do
    room=$(echo "$f" | cut -d/ -f2)
    from=$(rank "$room")
    [ "$from" -lt 0 ] && unknown="$unknown $f"
    for inc in $(includes "$f"); do
        case "$inc" in
            */*) ;;
            *) bare="$bare $f:$inc"; continue ;;
        esac
        to_room=${inc%%/*}
        to=$(rank "$to_room")
        if [ "$to" -lt 0 ]; then
            up="$up $f->$inc"
        elif [ "$to" -gt "$from" ]; then
            up="$up $f->$inc"
        fi
        edges="$edges$(module "$f") $(module "lib/$inc")
"
    done
done
expect_eq "every room of lib/ is one of: $ROOMS" "" "$unknown"
expect_eq "no include runs up a room, and lib/ includes nothing above it" "" "$up"
expect_eq "lib/'s includes name their room (\"wire/gob.h\")" "" "$bare"

loops=$(printf '%s' "$edges" | awk '$1 != $2' | tsort 2>&1 >/dev/null)
expect_eq "the modules' includes form no circle" "" "$loops"

# Between files, calls run one way too: within a module split over several files, the
# pieces below call nothing in the pieces above. Read from the objects of the build under
# test (a function or variable one object uses and another defines is an arrow).
# (An object whose source is gone, left by an older build, is not read.)
build_dir=${BUILD:-$ROOT/build}
objects=$(find "$build_dir/lib" "$build_dir/workbench" "$build_dir/servers" -name '*.o' 2>/dev/null |
    while read -r o; do src=${o#"$build_dir"/}; [ -e "${src%.o}.c" ] && echo "$o"; done)
if [ -z "$objects" ]; then
    bad "the build's objects to read calls from" "none under $build_dir: build first"
else
    for o in $objects; do nm --defined-only -g "$o" | awk -v o="$o" 'NF == 3 { print $3, o }'; done |
        sort >"$TMP/defined"
    for o in $objects; do nm -u "$o" | awk -v o="$o" '{ print $2, o }'; done | sort >"$TMP/used"
    call_loops=$(join "$TMP/used" "$TMP/defined" | awk '$2 != $3 { print $2, $3 }' | sort -u |
        tsort 2>&1 >/dev/null | grep -v 'input contains a loop' | sed "s|.*$build_dir/||" | sort -u)
    expect_eq "no circle of calls among files (each a .o of the build)" "" "$call_loops"
fi

no_purpose=""
for f in $src_files; do
    head -n 1 "$f" | grep -qE "^/\* $(basename "$f" | sed 's/\./\\./g') -- " || no_purpose="$no_purpose $f"
done
expect_eq "every source file opens with '/* NAME -- its purpose'" "" "$no_purpose"

long_files=""
for f in $src_files; do
    n=$(wc -l <"$f")
    [ "$n" -gt $MAX_FILE_LINES ] && long_files="$long_files $f:$n"
done
expect_eq "no source file over $MAX_FILE_LINES lines" "" "$long_files"

# A function runs from a '{' alone on a line to the next '}' alone on a line (the house's
# brace style); tables end in '};' and are not counted.
long_functions=$(for f in $src_files; do
    case "$f" in *.c) ;; *) continue ;; esac
    awk -v file="$f" -v max=$MAX_FUNCTION_LINES '
        /^\{$/ { start = NR; name = last }
        /^\}$/ && start { if (NR - start > max) printf "%s:%d(%s, %d lines)\n", file, start, name, NR - start; start = 0 }
        /^[a-z]/ { last = $0; sub(/\(.*/, "", last); sub(/.*[ *]/, "", last) }' "$f"
done)
expect_eq "no function over $MAX_FUNCTION_LINES lines" "" "$long_functions"

summary
