# Makefile -- builds RPC Workbench into bin/, runs it, tests it, fuzzes it and benchmarks it.
# `make run` and `make test` install any missing Debian packages first (mk/deps.sh).

CC      ?= gcc
BUILD   ?= build
BIN     ?= bin
PKGS    := libcjson libprotobuf-c libnghttp2 libcurl ncursesw readline sqlite3 libcrypt libcrypto zlib ldns libpcap
OPT     ?= -O2
# Without pkg-config, the flags Debian's packages would give.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null || echo -I/usr/include/cjson)
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Wshadow -Wno-missing-field-initializers \
           -Ilib -I$(BUILD)/gen $(PKG_CFLAGS) $(SAN)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcjson -lprotobuf-c -lnghttp2 -lcurl -lncursesw -ltinfo -lreadline -lsqlite3 -lcrypt -lcrypto -lz -lldns -lpcap) -lhttp_parser -lm $(SAN)

# Generated from proto/: protobuf-c message code, and every file's descriptor (for
# server reflection and the JSON mapping), embedded as bytes.
PROTOS   := $(wildcard proto/*.proto)
GEN      := $(BUILD)/gen
# protobuf's own files, from Debian's libprotobuf-dev: descriptor.proto (how the types
# learned at run time are read) and the well-known types of the JSON mapping.
PB_INC   ?= /usr/include
PB_OWN   := descriptor any duration empty field_mask struct timestamp wrappers
GEN_SRC  := $(PROTOS:proto/%.proto=$(GEN)/%.pb-c.c) $(GEN)/descriptors.c \
            $(PB_OWN:%=$(GEN)/google/protobuf/%.pb-c.c)
GEN_HDR  := $(PROTOS:proto/%.proto=$(GEN)/%.pb-c.h) $(PB_OWN:%=$(GEN)/google/protobuf/%.pb-c.h)
GEN_OBJ  := $(GEN_SRC:%.c=%.o)

LIB_SRC  := $(wildcard lib/*/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(GEN_OBJ)
LIB_A    := $(BUILD)/libwb.a
PROGRAMS := $(BIN)/workbench $(BIN)/jsonrpc-server $(BIN)/gob-server $(BIN)/grpc-server \
            $(BIN)/user-server $(BIN)/order-server $(BIN)/post-server $(BIN)/shipping-server $(BIN)/hub-server $(BIN)/gateway
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
# The Chinese catalog (GNU gettext), found by the programs in locale/ beside them.
MO       := $(BIN)/locale/zh/LC_MESSAGES/workbench.mo

.SECONDARY:
.PHONY: all pot deps run-deps test-deps run servers gateway-demo test unit integration fuzz fuzz-smoke bench attack sanitize tsan clean

all: $(PROGRAMS) $(MO)

$(MO): po/zh.po
	@mkdir -p $(dir $@)
	msgfmt --check -o $@ $<

# $(BUILD)/workbench.pot: every marked text of the sources, for a translator (see po/zh.po).
pot:
	@xgettext --from-code=UTF-8 --language=C --keyword=_ --keyword=N_ --add-comments=TRANSLATORS --add-location=file \
	  --package-name=workbench --sort-by-file -o $(BUILD)/workbench.pot \
	  $(sort $(LIB_SRC) $(wildcard lib/*/*.h workbench/*.c workbench/*.h workbench/tui/*.c servers/*.c))

deps:
	@sh mk/deps.sh build
test-deps:
	@sh mk/deps.sh test
	@sh mk/consul.sh $(BIN)

$(BUILD)/%.o: %.c | $(GEN_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto
	@mkdir -p $(GEN)
	protoc-c --proto_path=proto --proto_path=$(PB_INC) --c_out=$(GEN) $<

$(GEN)/google/protobuf/%.pb-c.c $(GEN)/google/protobuf/%.pb-c.h: $(PB_INC)/google/protobuf/%.proto
	@mkdir -p $(GEN)
	protoc-c --proto_path=$(PB_INC) --c_out=$(GEN) $<

$(GEN)/descriptors.c: $(PROTOS) mk/embed.sh
	@mkdir -p $(GEN)
	protoc-c --proto_path=proto --proto_path=$(PB_INC) --include_imports --descriptor_set_out=$(GEN)/descriptors.pb $(PROTOS)
	sh mk/embed.sh proto_descriptor_set $(GEN)/descriptors.pb > $@

$(GEN)/%.o: $(GEN)/%.c | $(GEN_HDR)
	$(CC) $(CFLAGS) -Wno-unused-parameter -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

WB_SRC   := $(wildcard workbench/*.c workbench/tui/*.c)

$(BUILD)/workbench/%.o: CFLAGS += -Iworkbench

$(BIN)/workbench: $(WB_SRC:%.c=$(BUILD)/%.o) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/gateway: $(patsubst %.c,$(BUILD)/%.o,$(wildcard servers/gateway*.c)) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/hub-server: $(patsubst %.c,$(BUILD)/%.o,$(wildcard servers/hub_*.c)) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/%-server: $(BUILD)/servers/%_server.o $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_A) $(LDLIBS) -lcriterion

# test_pbjson's own proto (every kind of field), compiled with it and nothing else.
TEST_GEN := $(BUILD)/testgen
$(TEST_GEN)/%.pb-c.c $(TEST_GEN)/%.pb-c.h: tests/unit/proto/%.proto
	@mkdir -p $(TEST_GEN)
	protoc-c --proto_path=tests/unit/proto --proto_path=$(PB_INC) --c_out=$(TEST_GEN) $<
$(BUILD)/tests/test_pbjson: tests/unit/test_pbjson.c $(TEST_GEN)/kinds.pb-c.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-unused-parameter -I$(TEST_GEN) -o $@ $< $(TEST_GEN)/kinds.pb-c.c $(LIB_A) $(LDLIBS) -lcriterion

# `make bench`'s measure of the JSON mapping, with the same compiled-in Student as test_pbjson.
$(BUILD)/bench/pbjson_bench: tests/tools/pbjson_bench.c $(TEST_GEN)/kinds.pb-c.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-unused-parameter -I$(TEST_GEN) -o $@ $< $(TEST_GEN)/kinds.pb-c.c $(LIB_A) $(LDLIBS)

# `make bench`'s measure of the asynchronous gRPC client (bench/grpcmux.sh).
$(BUILD)/bench/grpcmux_bench: tests/tools/grpcmux_bench.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

# A small HTTP/1.1 server on rpc/http1 for tests/integration/test_http1.sh.
$(BUILD)/tests/http1_echo: tests/tools/http1_echo.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

# The TUI model's test links the model's and the text measure's objects (not in libwb.a).
TUI_MODEL_OBJ := $(BUILD)/workbench/tui/tui_model.o $(BUILD)/workbench/tui/tui_index.o $(BUILD)/workbench/tui/tui_text.o
$(BUILD)/tests/test_tui_model: tests/unit/test_tui_model.c $(TUI_MODEL_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iworkbench -Iworkbench/tui -o $@ $< $(TUI_MODEL_OBJ) $(LIB_A) $(LDLIBS) -lcriterion

# The Sniff pane's model's test links its objects and the text measure's.
TUI_SNIFF_OBJ := $(BUILD)/workbench/tui/tui_sniff.o $(BUILD)/workbench/tui/tui_sniff_run.o $(BUILD)/workbench/tui/tui_text.o
$(BUILD)/tests/test_tui_sniff: tests/unit/test_tui_sniff.c $(TUI_SNIFF_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iworkbench -Iworkbench/tui -o $@ $< $(TUI_SNIFF_OBJ) $(LIB_A) $(LDLIBS) -lcriterion

run-deps:
	@sh mk/deps.sh run
	@sh mk/consul.sh $(BIN)

# The workbench's full-screen UI; `make servers` starts the three sample servers instead.
run: run-deps
	@$(MAKE) --no-print-directory all
	@$(BIN)/workbench

servers: run-deps
	@$(MAKE) --no-print-directory all
	@sh mk/run.sh $(BIN)

# The REST gateway in front of two user-servers, two order-servers and grpc-server, over a private etcd.
gateway-demo: run-deps
	@$(MAKE) --no-print-directory all
	@sh mk/gateway.sh $(BIN)

# The whole suite: unit tests (Criterion), then integration tests against the real peers.
test: test-deps
	@$(MAKE) --no-print-directory -j2 all $(UNIT_BIN) $(BUILD)/tests/http1_echo
	@sh mk/test.sh $(BUILD) $(abspath $(BIN)) $(UNIT_BIN)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; BIN=$(abspath $(BIN)) $$t --jobs 2; done

integration: all $(BUILD)/tests/http1_echo
	@sh mk/consul.sh $(BIN)
	@BIN=$(abspath $(BIN)) BUILD=$(abspath $(BUILD)) SAN='$(SAN)' sh tests/integration/run.sh

# Fuzzing needs clang's libFuzzer. fuzz-smoke runs each target briefly; fuzz runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -Ilib -I$(GEN) $(PKG_CFLAGS) -fsanitize=address,undefined
# The library is compiled for fuzzing once (instrumented, no fuzzer main), and each target
# links against it.
FUZZ_LIB := $(BUILD)/fuzzobj/libwb-fuzz.a
FUZZ_OBJ := $(addprefix $(BUILD)/fuzzobj/,$(LIB_SRC:.c=.o) $(GEN_SRC:.c=.o))
$(BUILD)/fuzzobj/%.o: %.c | $(GEN_HDR)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Wno-unused-parameter -c $< -o $@
$(FUZZ_LIB): $(FUZZ_OBJ)
	ar rcs $@ $^
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzzkit.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LDLIBS)
fuzz: $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
	@for f in $^; do n=$$(basename $$f); echo "== $$n ($(FUZZ_SECONDS)s)"; mkdir -p $(BUILD)/corpus/$$n; \
	  if $$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -artifact_prefix=$(BUILD)/fuzz/$$n- \
	      $(BUILD)/corpus/$$n tests/fuzz/seeds/$$n > $(BUILD)/fuzz/$$n.log 2>&1; then \
	    tail -n 1 $(BUILD)/fuzz/$$n.log; \
	  else tail -n 40 $(BUILD)/fuzz/$$n.log; echo "$$n found a failure; the input is in $(BUILD)/fuzz/"; exit 1; fi; done
fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

bench: test-deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench/pbjson_bench $(BUILD)/bench/grpcmux_bench
	@BIN=$(abspath $(BIN)) BUILD=$(abspath $(BUILD)) sh bench/run.sh

# The attacks at length (every bench/*_attack.sh), with the figures make test does not
# time: a legitimate client's latency, the server's peak memory, when attackers are sent
# away (ATTACK_SECONDS per attack, loopback only).
ATTACK_SECONDS ?= 10
attack: test-deps
	@$(MAKE) --no-print-directory all
	@BIN=$(abspath $(BIN)) bash bench/attack.sh $(ATTACK_SECONDS)

# The unit and integration tests again, built with AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: test-deps
	@WB_TEST_LANES=1 $(MAKE) --no-print-directory BUILD=build/san BIN=build/san/bin OPT=-O1 \
	  SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
	  all unit integration

# The tests whose programs run threads, built with ThreadSanitizer; any race report fails.
tsan: test-deps
	@$(MAKE) --no-print-directory BUILD=build/tsan BIN=build/tsan/bin OPT=-O1 \
	  SAN='-fsanitize=thread -fno-omit-frame-pointer' all
	@sh mk/consul.sh build/tsan/bin
	@sh mk/tsan.sh build/tsan build/tsan/bin

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(patsubst %.c,$(BUILD)/%.d,$(WB_SRC) $(wildcard servers/*.c))
