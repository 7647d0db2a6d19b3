# sharelog: plain make, warnings are errors.
#
#   make            build the three programs into build/
#   make check      install missing packages, build, run every test, then
#                   run the whole suite again under ASan + UBSan
#   make run        the demo (see README.md)
#   make bench      the benchmarks of docs/BENCHMARKS.md (slow)
#
#   make fuzz       the libFuzzer targets of tests/fuzz/, 5 minutes each
#
# O= names the build folder; SAN=1 builds with the sanitizers; FUZZ=1
# builds with clang for libFuzzer (and the sanitizers).

O ?= build
CC ?= cc
ifeq ($(FUZZ),1)
CC := clang
SAN := 1
endif
PKGS := jansson lmdb libevent libevent_openssl libevent_pthreads openssl check
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Werror
CFLAGS_ALL := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-I. $(WARN) -g -pthread
ifeq ($(SAN),1)
CFLAGS_ALL += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDSAN := -fsanitize=address,undefined
else
CFLAGS_ALL += -O2
endif
ifeq ($(FUZZ),1)
CFLAGS_ALL += -fsanitize=fuzzer-no-link
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs jansson lmdb libevent libevent_pthreads \
	libevent_openssl openssl 2>/dev/null)
LIBS = $(PKG_LIBS) -lcsv -pthread
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

FORMATS_SRC := $(wildcard formats/*.c)
AUDITD_SRC := $(filter-out auditd/main.c,$(wildcard auditd/*.c))
VERIFY_SRC := $(filter-out verify/main.c,$(wildcard verify/*.c))
REPORTS_SRC := $(filter-out reports/main.c,$(wildcard reports/*.c))
LIB_SRC := $(FORMATS_SRC) $(AUDITD_SRC) $(VERIFY_SRC) $(REPORTS_SRC)
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
TEST_SRC := $(wildcard tests/check_*.c) tests/testutil.c
TEST_OBJ := $(TEST_SRC:%.c=$(O)/%.o)

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:%.c=$(O)/%)
FUZZ_SECONDS ?= 6

PROGS := $(O)/sharelogd $(O)/sharelog-verify $(O)/sharelog-report

all: deps-ok $(PROGS)

deps-ok:
	@pkg-config --exists $(PKGS) && test -e /usr/include/csv.h || \
	{ echo "missing build packages: run scripts/deps.sh as root" >&2; \
	exit 1; }

$(O)/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

# The shipped completeness policy is compiled into the programs.
$(O)/verify/policy.o: verify/default-policy.json

$(O)/libsharelog.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(O)/sharelogd: $(O)/auditd/main.o $(O)/libsharelog.a
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/sharelog-verify: $(O)/verify/main.o $(O)/libsharelog.a
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/sharelog-report: $(O)/reports/main.o $(O)/libsharelog.a
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/check_all: $(TEST_OBJ) $(O)/libsharelog.a
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

$(O)/tests/fuzz/fuzz_%: $(O)/tests/fuzz/fuzz_%.o $(O)/tests/fuzz/fuzz.o \
    $(O)/tests/fuzz/mutate.o $(O)/libsharelog.a
	$(CC) -fsanitize=fuzzer,address,undefined $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/fuzz/mkdict: $(O)/tests/fuzz/mkdict.o $(O)/libsharelog.a
	$(CC) -fsanitize=fuzzer-no-link $(LDSAN) $(LDFLAGS) -o $@ $^ $(LIBS)

# kept between runs (make would delete them as intermediate files)
.SECONDARY: $(FUZZ_SRC:%.c=$(O)/%.o) $(O)/tests/fuzz/fuzz.o \
    $(O)/tests/fuzz/mutate.o $(O)/tests/fuzz/mkdict.o

# Every fuzz target from its seeds, FUZZ_SECONDS each (needs FUZZ=1).
fuzz-test: deps-ok $(FUZZ_BIN) $(O)/tests/fuzz/mkdict
	BIN=$(O) FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/fuzz_test.sh

# One pass of every test against the build in $(O). The unit tests run in
# two lanes: those tagged slow (the tamper suite) beside all the others.
test: all $(O)/tests/check_all
	CK_INCLUDE_TAGS=slow ./$(O)/tests/check_all > $(O)/slow.log 2>&1 & \
	CK_EXCLUDE_TAGS=slow ./$(O)/tests/check_all; a=$$?; \
	wait $$!; b=$$?; cat $(O)/slow.log; [ $$a = 0 ] && [ $$b = 0 ]
	BIN=$(O) ./tests/cli_test.sh
	BIN=$(O) ./tests/service_test.sh
	BIN=$(O) ./tests/report_test.sh
	BIN=$(O) ./tests/import_test.sh

deps:
	./scripts/deps.sh

# The builds on every core (they were half of make check's time); the
# test scripts still run one after the other.
NPROC := $(shell nproc 2>/dev/null || echo 1)

check: deps
	$(MAKE) -j$(NPROC) O=build test
	$(MAKE) -j$(NPROC) O=build-san SAN=1 CRASH_ROUNDS=5 test
	$(MAKE) -j$(NPROC) O=build-fuzz FUZZ=1 fuzz-test

fuzz: deps
	$(MAKE) O=build-fuzz FUZZ=1 FUZZ_SECONDS=300 fuzz-test

run: deps
	$(MAKE) O=build all
	./scripts/demo.sh

bench: deps
	$(MAKE) O=build all
	./bench/run.sh
	./bench/service.sh
	./bench/service_big.sh

clean:
	rm -rf build build-san build-fuzz

.PHONY: all deps deps-ok test check run bench clean fuzz fuzz-test
