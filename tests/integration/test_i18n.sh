# test_i18n.sh -- the Chinese catalog (po/zh.po, GNU gettext) covers every marked text,
# writes full-width punctuation after hanzi, and is chosen by --lang zh or a Chinese
# locale, even where no Chinese locale is installed.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

make --no-print-directory -s -C "$ROOT" BUILD="$TMP" pot >"$TMP/pot.log" 2>&1
if [ -s "$TMP/workbench.pot" ]; then
    ok "xgettext lists the marked texts"
    missing=$(msgcmp --use-untranslated "$ROOT/po/zh.po" "$TMP/workbench.pot" 2>&1 | grep -c 'this message is used but not defined')
    expect_eq "every marked text has an entry in po/zh.po" 0 "$missing"
else
    bad "xgettext lists the marked texts" "$(tail -n 5 "$TMP/pot.log")"
fi
untranslated=$(msgattrib --untranslated --no-obsolete "$ROOT/po/zh.po" 2>/dev/null | grep -c '^msgid ' || true)
# the header is one msgid of its own
expect_eq "no entry of po/zh.po is left untranslated" 0 "$((untranslated > 0 ? untranslated - 1 : 0))"
fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$ROOT/po/zh.po" 2>/dev/null | grep -c '^msgid ' || true)
expect_eq "no entry of po/zh.po is fuzzy" 0 "$((fuzzy > 0 ? fuzzy - 1 : 0))"

# ASCII , : ; ( ) ? ! right after a hanzi, in any translation
halfwidth=$(msgattrib --translated --no-obsolete --no-wrap "$ROOT/po/zh.po" | /usr/bin/python3 -c '
import re, sys
text = sys.stdin.read()
for m in re.finditer(r"^msgstr \"(.*)\"$", text, re.M):
    for hit in re.finditer(r"[\u3400-\u9fff][,:;()?!]", m.group(1)):
        print(m.group(1)[max(0, hit.start() - 12):hit.end() + 12])
')
expect_eq "translations use full-width punctuation after hanzi" "" "$halfwidth"

out=$("$BIN/workbench" --lang zh --help)
expect_grep "--lang zh: the help is Chinese" "用法：workbench" "$out"
out=$(LANG=zh_CN.UTF-8 LC_ALL= LANGUAGE= "$BIN/workbench" --help)
expect_grep "LANG=zh_CN.UTF-8 (not installed here): Chinese all the same" "用法：workbench" "$out"
out=$(LANG=zh_CN.UTF-8 LC_ALL= LANGUAGE= "$BIN/workbench" --help --lang en)
expect_grep "--lang en outranks a Chinese locale" "Usage: workbench [--lang" "$out"
out=$(LANG=C LC_ALL= LANGUAGE= "$BIN/workbench" --help)
expect_grep "English by default" "Usage: workbench [--lang" "$out"
out=$("$BIN/workbench" --lang fr 2>&1); rc=$?
expect_eq "--lang fr is refused (exit 2)" 2 "$rc"
expect_grep "and says which languages there are" "takes en or zh" "$out"

# every line of the help fits 80 columns, in both languages (display width)
for lang in en zh; do
    wide=$("$BIN/workbench" --lang $lang --help | /usr/bin/python3 -c '
import sys, unicodedata
for line in sys.stdin.read().splitlines():
    w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
    if w > 80:
        print(w, line)
')
    expect_eq "workbench --help fits 80 columns ($lang)" "" "$wide"
done
summary
