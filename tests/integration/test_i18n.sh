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

# every --help fits 80 columns, in both languages (display width): the workbench, each of
# its commands, every server and the gateway
help_wide() {
    /usr/bin/python3 -c '
import sys, unicodedata
for line in sys.stdin.read().splitlines():
    w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
    if w > 80:
        print(w, line)
'
}
# (workbench call's --help is checked where that command is worked on)
for prog in "workbench" "workbench explain" "workbench load" "workbench registry" \
    "workbench lesson" "workbench tui" "workbench compare" gob-server jsonrpc-server \
    grpc-server user-server order-server post-server shipping-server hub-server gateway; do
    set -- $prog
    for lang in en zh; do
        wide=$(COLUMNS=80 "$BIN/$1" ${2:+"$2"} --lang $lang --help 2>&1 | help_wide)
        expect_eq "$prog --help fits 80 columns ($lang)" "" "$wide"
    done
done

# the servers and the commands speak Chinese in --help and in their errors
for prog in gob-server jsonrpc-server grpc-server user-server order-server post-server shipping-server hub-server \
    gateway; do
    out=$(LANG=zh_CN.UTF-8 LC_ALL= LANGUAGE= "$BIN/$prog" --help 2>&1)
    expect_grep "LANG=zh_CN.UTF-8 $prog --help is Chinese" "用法：$prog" "$out"
    out=$("$BIN/$prog" --lang zh --help 2>&1)
    expect_grep "$prog --lang zh --help is Chinese" "用法：$prog" "$out"
    expect_grep "$prog --help documents --lang" "--lang en|zh" "$out"
    out=$("$BIN/$prog" --help --lang en 2>&1)
    expect_grep "$prog --lang en --help stays English" "Usage: $prog" "$out"
done
out=$("$BIN/gob-server" --lang zh --max-conns x 2>&1)
expect_grep "a server's option error in Chinese" "gob-server：--max-conns 的值应为正整数" "$out"
out=$("$BIN/order-server" --lang zh --db 2>&1)
expect_grep "order-server's own option error in Chinese" "--db 需要一个文件名" "$out"
out=$("$BIN/gateway" --lang zh --registry none 2>&1)
expect_grep "the gateway's errors in Chinese" "gateway：需要 --registry" "$out"
out=$("$BIN/gateway" --lang zh --hub 127.0.0.1:8004 --registry etcd://127.0.0.1:2379 2>&1)
expect_grep "the gateway's --hub error in Chinese" "--hub 和 --registry 只能选一个" "$out"
out=$("$BIN/hub-server" --lang zh --registry none 2>&1)
expect_grep "hub-server's errors in Chinese" "服务中心的回答来自注册中心" "$out"
out=$("$BIN/gob-server" --lang fr 2>&1); rc=$?
expect_eq "a server refuses --lang fr (exit 2)" 2 "$rc"
for cmd in load registry lesson; do
    out=$("$BIN/workbench" --lang zh $cmd --help 2>&1)
    expect_grep "workbench $cmd --help in Chinese" "用法：workbench $cmd" "$out"
done

# ---- the wire explanations in Chinese ----
# wide_lines WIDTH: the lines of standard input wider than WIDTH display columns
wide_lines() {
    /usr/bin/python3 -c '
import sys, unicodedata
for line in sys.stdin.read().splitlines():
    w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
    if w > int(sys.argv[1]):
        print(w, line)
' "$1"
}
# meaning_cols EN ZH: the dump lines (those opening with an offset) whose meaning starts at
# another display column in ZH than in EN; empty when every meaning lines up
meaning_cols() {
    /usr/bin/python3 -c '
import re, sys, unicodedata
def cols(path):
    out = []
    for line in open(path, encoding="utf-8").read().splitlines():
        if not re.match(r"[0-9a-f]{4}  ", line):
            continue
        w, col = 0, None
        for i, c in enumerate(line):
            if w >= 40 and c != " " and line[i - 1] == " ":
                col = w
                break
            w += 2 if unicodedata.east_asian_width(c) in "WF" else 1
        out.append(col)
    return out
en, zh = cols(sys.argv[1]), cols(sys.argv[2])
if len(en) != len(zh):
    print("%d dump lines in English, %d in Chinese" % (len(en), len(zh)))
for k, (a, b) in enumerate(zip(en, zh)):
    if a is not None and b is not None and a != b:
        print("dump line %d: meaning at column %d in English, %d in Chinese" % (k + 1, a, b))
' "$1" "$2"
}

start gob "$BIN/gob-server" --listen 127.0.0.1:0 || { summary; exit 1; }
GOB=$ADDR
start json "$BIN/jsonrpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
JSON=$ADDR
start grpc "$BIN/grpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
GRPC=$ADDR
for url in "gob://$GOB" "json://$JSON" "grpc://$GRPC"; do
    proto=${url%%:*}
    for lang in en zh; do
        COLUMNS=80 "$BIN/workbench" --lang $lang call "$url" Arith.Multiply '{"A":7,"B":8}' --wire \
            --repeat 2 --color never >"$TMP/call-$proto-$lang.txt" 2>&1
    done
    expect_eq "call $proto --wire in Chinese: every line fits 80 columns" "" \
        "$(wide_lines 80 <"$TMP/call-$proto-zh.txt")"
    expect_eq "call $proto --wire in Chinese: the meanings start where English ones do" "" \
        "$(meaning_cols "$TMP/call-$proto-en.txt" "$TMP/call-$proto-zh.txt")"
done
# wrapped meanings: whole UTF-8 characters, and no line opening with a full-width closing
# mark (，。：；）), also where a narrow terminal wraps almost every meaning
COLUMNS=60 "$BIN/workbench" --lang zh call "gob://$GOB" Arith.Multiply '{"A":7,"B":8}' --wire \
    --color never >"$TMP/call-gob-zh60.txt" 2>&1
bad_wraps=$(/usr/bin/python3 -c '
import re, sys
for path in sys.argv[1:]:
    try:
        text = open(path, "rb").read().decode("utf-8")
    except UnicodeDecodeError as e:
        print(path, e)
        continue
    for line in text.splitlines():
        if re.match("^ +[\uff0c\u3002\u3001\uff1a\uff1b\uff09\uff01\uff1f]", line):
            print(path.rsplit("/", 1)[-1], line.strip())
' "$TMP"/call-*-zh.txt "$TMP/call-gob-zh60.txt")
expect_eq "wrapped Chinese meanings: whole characters, no line opens with a closing mark" "" "$bad_wraps"
out=$(cat "$TMP/call-gob-zh.txt")
expect_grep "call gob --wire: the type definition is explained in Chinese" "消息，48 字节：id 65" "$out"
expect_grep "call gob --wire: a field delta in Chinese" "字段增量 +1 → A（Args 的第 0" "$out"
expect_grep "call gob --wire: the byte totals in Chinese" "字节：封装" "$out"
expect_grep "call gob --wire: the titles in Chinese" "── 发出（gob，" "$out"
expect_no_grep "call gob --wire: no English meaning is left" "type definition" "$out"
out=$(cat "$TMP/call-json-zh.txt")
expect_grep "call json --wire: the JSON-RPC meanings in Chinese" '字段名 "A"（JSON' "$out"
out=$(cat "$TMP/call-grpc-zh.txt")
expect_grep "call grpc --wire: the HTTP/2 frames in Chinese" "SETTINGS 帧" "$out"
expect_grep "call grpc --wire: the HPACK fields in Chinese" "hpack: 头部 :path:" "$out"
expect_grep "call grpc --wire: the protobuf fields in Chinese" "字段 1 A（int64） = 7" "$out"

seed=$ROOT/tests/fuzz/seeds/fuzz_gob/request_multiply_two_calls.bin
for lang in en zh; do
    COLUMNS=80 "$BIN/workbench" --lang $lang explain gob "$seed" --color never \
        >"$TMP/explain-$lang.txt" 2>&1
done
out=$(cat "$TMP/explain-zh.txt")
expect_grep "explain gob in Chinese: the type definition" "（Request）的类型定义" "$out"
expect_grep "explain gob in Chinese: the zigzag integer spelled out" "= 129，奇数" "$out"
expect_grep "explain gob in Chinese: the legend" "类型信息" "$out"
expect_eq "explain gob in Chinese: every line fits 80 columns" "" "$(wide_lines 80 <"$TMP/explain-zh.txt")"
expect_eq "explain gob in Chinese: the meanings start where English ones do" "" \
    "$(meaning_cols "$TMP/explain-en.txt" "$TMP/explain-zh.txt")"
out=$(COLUMNS=80 "$BIN/workbench" --lang zh explain gob --help)
expect_grep "explain --help in Chinese" "用法：workbench explain" "$out"

# compare: Chinese labels, and bars that end where the English ones do
for lang in en zh; do
    COLUMNS=80 "$BIN/workbench" --lang $lang compare Arith.Multiply '{"A":7,"B":8}' \
        --gob "gob://$GOB" --json "json://$JSON" --grpc "grpc://$GRPC" --no-dump --color never \
        >"$TMP/compare-$lang.txt" 2>&1
done
out=$(cat "$TMP/compare-zh.txt")
expect_grep "compare in Chinese: the first call's label" "第一次调用（请求 + 响应）" "$out"
expect_grep "compare in Chinese: where the bytes go" "封装 48 · 类型信息 139 · 载荷 3" "$out"
expect_grep "compare in Chinese: the results" "结果：" "$out"
expect_eq "compare in Chinese: every line fits 80 columns" "" "$(wide_lines 80 <"$TMP/compare-zh.txt")"
bars() {
    /usr/bin/python3 -c '
import sys, unicodedata
for line in open(sys.argv[1], encoding="utf-8").read().splitlines():
    if line.endswith(" B"):
        print(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line), line.split()[0])
' "$1"
}
expect_eq "compare in Chinese: the bars end at the English bars' column" "$(bars "$TMP/compare-en.txt")" \
    "$(bars "$TMP/compare-zh.txt")"

# ---- the reasons inside errors, in Chinese ----
# a gob capture cut inside a type definition (the type name's length is missing)
printf '\x05\xff\x81\x03\x01\x01' >"$TMP/cut.gob"
out=$(COLUMNS=200 "$BIN/workbench" --lang zh explain gob --color never "$TMP/cut.gob" 2>&1)
expect_grep "explain gob on a cut capture: the reason is Chinese" "不是有效的 gob：数据在应是类型名的地" "$out"
out=$(COLUMNS=200 "$BIN/workbench" --lang en explain gob --color never "$TMP/cut.gob" 2>&1)
expect_grep "... and English with --lang en" "not valid gob: the data ends where type name" "$out"
# a gRPC request whose protobuf field announces more bytes than the message holds
cp "$ROOT/tests/fuzz/seeds/fuzz_h2/grpcio_request.bin" "$TMP/badpb.bin"
printf '\x09' | dd of="$TMP/badpb.bin" bs=1 seek=$((0x16a)) conv=notrunc 2>/dev/null
out=$(COLUMNS=200 "$BIN/workbench" --lang zh explain grpc --color never "$TMP/badpb.bin" 2>&1)
expect_grep "explain grpc on a malformed protobuf: the reason is Chinese" "字段 1 说后面有 9 字节，但只剩 5 字节" "$out"
# a registry where nothing listens
port=$(free_port)
out=$("$BIN/workbench" --lang zh registry "etcd://127.0.0.1:$port" 2>&1)
expect_grep "registry with nothing listening: the reason is Chinese" "127.0.0.1:$port：这个地址上没有程序应答" "$out"
out=$("$BIN/workbench" --lang en registry "etcd://127.0.0.1:$port" 2>&1)
expect_no_grep "... and libcurl's own words in English" "没有" "$out"
out=$("$BIN/workbench" --lang zh registry "etcd://127.0.0.1:$port/x?check=ttl" 2>&1)
expect_grep "a registry URL's error is Chinese" "注册中心 URL" "$out"
summary
