# Makefile: build, test, check, bench and demo for artifact-watcher.
# `make` builds ./artifact-watcher.  `make check` installs what the tests need
# (deploy/deps.sh, only when missing) and runs every suite.  `make demo` runs
# the main job against a local registry.  Nothing is installed by `make` alone.

CC	?= cc
PKGS	 = libevent libevent_openssl libcurl hiredis yaml-0.1 libcjson openssl \
	   libpcre2-8 lmdb libxml-2.0 librabbitmq libmosquitto libnats \
	   rdkafka libssh2 smbclient
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iwatcher -Iproviders \
	   $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(SANITIZE)
LIBS	 = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

B	 = build
NPROC	:= $(shell nproc 2>/dev/null || echo 2)
SRCS	 = $(filter-out watcher/main.c, \
	   $(wildcard watcher/*.c providers/*.c providers/*/*.c sinks/*.c \
	   config/*.c))
OBJS	 = $(SRCS:%.c=$(B)/%.o)
UNIT	 = $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test-*.c))
FAKES	 = $(patsubst tests/fakes/%.c,$(B)/fakes/%,$(wildcard tests/fakes/fake-*.c))
FUZZERS	 = $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZFLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	   -fsanitize=fuzzer,address,undefined -Iwatcher -Iproviders \
	   $(patsubst %,-I%,$(wildcard providers/*/)) \
	   $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
HDRS	 = $(wildcard watcher/*.h providers/*/*.h sinks/*.h tests/unit/*.h \
	   tests/fakes/*.h)
# The unit suites again, in their own build directory, under AddressSanitizer
# (leaks included) and UndefinedBehaviorSanitizer; any report fails the test.
ASAN_B	 = build-asan
ASAN_FLAGS = -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer

all: artifact-watcher

artifact-watcher: $(B)/watcher/main.o $(B)/libaw.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(B)/libaw.a: $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libaw.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(B)/libaw.a $(LIBS) -lcriterion

$(B)/fakes/%: tests/fakes/%.c $(wildcard tests/fakes/*.c) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/fakes -o $@ $< \
	    $(filter-out $(wildcard tests/fakes/fake-*.c), $(wildcard tests/fakes/*.c)) \
	    $(LIBS)

# The mock Kafka cluster stands alone: none of the fake server's modules.
$(B)/fakes/fake-kafka: tests/fakes/fake-kafka.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIBS)

# libFuzzer builds of the pure parsers, with ASan and UBSan (clang).
$(B)/fuzz/%: tests/fuzz/%.c $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) -o $@ $< $(SRCS) $(LIBS)

deps:
	@sh deploy/deps.sh test

unit: artifact-watcher $(UNIT) $(FAKES)

unit-asan:
	@$(MAKE) --no-print-directory B=$(ASAN_B) SANITIZE="$(ASAN_FLAGS)" \
	    $(UNIT:$(B)/%=$(ASAN_B)/%)

# Every suite: Criterion unit tests (plain, and under the sanitizers) and
# integration tests against real servers on loopback, several at a time
# (tests/run-all.sh).  Ends with one line "N passed, N failed, N skipped".
# The two builds run on every CPU.
check: deps
	@$(MAKE) --no-print-directory -j$(NPROC) unit unit-asan
	@UNIT_DIRS="$(B) $(ASAN_B)" sh tests/run-all.sh

demo: deps
	@$(MAKE) --no-print-directory artifact-watcher
	@sh deploy/demo.sh

# Not part of check: each fuzzer runs FUZZ_SECONDS (default 60).
fuzz:
	@sh deploy/deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZERS)
	@sh tests/fuzz/run.sh

bench:
	@sh deploy/deps.sh bench
	@$(MAKE) --no-print-directory artifact-watcher $(FAKES)
	@sh bench/run.sh

clean:
	rm -rf $(B) $(ASAN_B) artifact-watcher

.PHONY: all deps unit unit-asan check demo bench fuzz clean
