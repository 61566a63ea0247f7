# sbx-build — build, test, install.
# Every builder/*.c is part of the program: in sbx-build itself or, for the
# files in GFS_SRCS, CURL_SRCS and ARC_SRCS, in the module that holds all
# calls to that outside library (builder/module.h); every tests/test-*.c is
# a cmocka suite linked against all builder objects but main.o.  Adding a
# module or a test suite needs no change here (a file that calls image.h,
# libcurl or libarchive goes into the list of its module).

VERSION     := 0.1.0
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBEXECDIR  ?= $(PREFIX)/libexec
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
DESTDIR     ?=

CC          ?= cc
PKG_CONFIG  ?= pkg-config
CFLAGS      ?= -O2 -g
# CI builds with WERROR=-Werror; warnings are errors there.
WERROR      ?=
# COVERAGE=1 builds with gcov instrumentation (make coverage; CI).
COVERAGE    ?=
# sbx-build links PKGS; each module links its one library.
PKGS        := yaml-0.1 libcrypto libxcrypt
MOD_PKGS    := libguestfs libcurl libarchive

PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(PKGS) $(MOD_PKGS) 2>/dev/null)
PKG_LIBS    := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
GFS_LIBS    := $(shell $(PKG_CONFIG) --libs libguestfs 2>/dev/null)
CURL_LIBS   := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)
ARC_LIBS    := $(shell $(PKG_CONFIG) --libs libarchive 2>/dev/null)
MOD_LIBS    := $(GFS_LIBS) $(CURL_LIBS) $(ARC_LIBS)
TEST_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
TEST_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

SBX_CFLAGS  = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	      -Wmissing-prototypes $(WERROR) -D_GNU_SOURCE \
	      -DSBX_VERSION='"$(VERSION)"' -DSBX_DATADIR='"$(DATADIR)/sbx-build"' \
	      -DSBX_LIBEXECDIR='"$(LIBEXECDIR)/sbx-build"' \
	      -Ibuilder -MMD -MP $(PKG_CFLAGS)

# After CFLAGS, so that -O0 wins: gcov's line counts follow the source.
ifeq ($(COVERAGE),1)
COV_CFLAGS := --coverage -O0
LDFLAGS    += --coverage
endif

SRCS    := $(sort $(wildcard builder/*.c))
# The modules (builder/module.h): sbx-build loads each the first time it
# needs its library, so the commands that do not (a no-change 'all' above
# all) never load libguestfs, libcurl, libarchive and the libraries they
# pull in (tests/check-lazy.sh).  GFS: the bake inside the appliance and
# the libguestfs layer; CURL: downloads; ARC: bundles and tar indexes.
GFS_SRCS := builder/bake-session.c builder/bake-guest.c \
	    builder/bake-inspect.c builder/bake-files.c builder/bake-users.c \
	    builder/bake-units.c builder/bake-selinux.c \
	    builder/bake-packages.c builder/bake-images.c builder/image.c \
	    builder/image-inspect.c builder/image-quick.c builder/image-grow.c \
	    builder/image-fs.c
CURL_SRCS := builder/fetch-http.c
ARC_SRCS  := builder/pack.c builder/pack-unpack.c builder/tarindex.c
GFS_OBJS  := $(GFS_SRCS:.c=.o)
CURL_OBJS := $(CURL_SRCS:.c=.o)
ARC_OBJS  := $(ARC_SRCS:.c=.o)
MOD_OBJS  := $(GFS_OBJS) $(CURL_OBJS) $(ARC_OBJS)
MODULES   := sbx-build-guestfs.so sbx-build-curl.so sbx-build-archive.so
OBJS      := $(filter-out $(MOD_OBJS),$(SRCS:.c=.o))
LIBOBJS   := $(filter-out builder/main.o,$(OBJS))
TESTS     := $(patsubst %.c,%,$(sort $(wildcard tests/test-*.c)))

all: sbx-build

# -rdynamic: the modules call back into the program.
sbx-build: $(OBJS) | $(MODULES)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(OBJS) $(PKG_LIBS)

sbx-build-guestfs.so: $(GFS_OBJS)
	$(CC) $(LDFLAGS) -shared -o $@ $(GFS_OBJS) $(GFS_LIBS)

sbx-build-curl.so: $(CURL_OBJS)
	$(CC) $(LDFLAGS) -shared -o $@ $(CURL_OBJS) $(CURL_LIBS)

sbx-build-archive.so: $(ARC_OBJS)
	$(CC) $(LDFLAGS) -shared -o $@ $(ARC_OBJS) $(ARC_LIBS)

$(MOD_OBJS): SBX_CFLAGS += -fPIC

builder/%.o: builder/%.c
	$(CC) $(SBX_CFLAGS) $(CFLAGS) $(COV_CFLAGS) -c -o $@ $<

# A suite links the modules' objects in (no dlopen: module_load finds
# them linked).
tests/test-%: tests/test-%.c $(LIBOBJS) $(MOD_OBJS) tests/testutil.h
	$(CC) $(SBX_CFLAGS) $(TEST_CFLAGS) $(CFLAGS) $(COV_CFLAGS) -Itests -o $@ $< \
		$(LIBOBJS) $(MOD_OBJS) $(PKG_LIBS) $(MOD_LIBS) $(TEST_LIBS)

tests: $(TESTS)

# The README's test command: installs what the tests need (test-deps), then
# the unit suites and the checks that feed generated files to the real
# programs that read them.  A sub-make so pkg-config sees what test-deps
# installed.
check: test-deps
	@$(MAKE) -s sbx-build tests
	@tests/run.sh $(TESTS)

# Slow suites: a real libguestfs appliance (TCG here), real QEMU boots.
check-image: test-deps
	@$(MAKE) -s sbx-build
	@tests/image/run.sh

check-e2e: test-deps
	@$(MAKE) -s sbx-build
	@tests/e2e/run.sh

# Sanitizers and fuzzing (issue 19).  Separate object trees, so neither
# clobbers the normal build: build-asan/ (gcc or cc, ASan+UBSan) for the
# unit suites and the fuzz replay, build-fuzz/ (clang, libFuzzer) for the
# fuzzer.  check-asan is what CI runs; check-fuzz-regress replays every
# saved crasher under tests/fixtures/fuzz/; fuzz runs libFuzzer for
# FUZZ_SECONDS into tests/work/fuzz (needs clang and libclang-rt-14-dev).
ASAN_DIR     := build-asan
FUZZ_DIR     := build-fuzz
ASAN_CFLAGS  ?= -O1 -g
SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer
ASAN_OBJS    := $(OBJS:%=$(ASAN_DIR)/%)
ASAN_MOD     := $(MOD_OBJS:%=$(ASAN_DIR)/%)
ASAN_LIBOBJS := $(filter-out $(ASAN_DIR)/builder/main.o,$(ASAN_OBJS))
ASAN_TESTS   := $(TESTS:%=$(ASAN_DIR)/%)
SAN_ENV      := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_WORK    := tests/work/fuzz
FUZZ_FLAGS   := -O1 -g $(SAN_FLAGS)
FUZZ_OBJS    := $(LIBOBJS:%=$(FUZZ_DIR)/%)
FUZZ_REGRESS := $(sort $(wildcard tests/fixtures/fuzz/*))

$(ASAN_DIR)/builder/%.o: builder/%.c
	@mkdir -p $(@D)
	$(CC) $(SBX_CFLAGS) $(ASAN_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(ASAN_MOD): SBX_CFLAGS += -fPIC

# The ASan sbx-build loads no module (asan-cli.sh bakes nothing): a
# command that needs one says it is missing.
$(ASAN_DIR)/sbx-build: $(ASAN_OBJS)
	$(CC) $(SAN_FLAGS) $(LDFLAGS) -rdynamic -o $@ $(ASAN_OBJS) $(PKG_LIBS)

$(ASAN_DIR)/tests/test-%: tests/test-%.c $(ASAN_LIBOBJS) $(ASAN_MOD) \
		tests/testutil.h
	@mkdir -p $(@D)
	$(CC) $(SBX_CFLAGS) $(TEST_CFLAGS) $(ASAN_CFLAGS) $(SAN_FLAGS) \
		-Itests -o $@ $< $(ASAN_LIBOBJS) $(ASAN_MOD) $(PKG_LIBS) \
		$(MOD_LIBS) $(TEST_LIBS)

$(ASAN_DIR)/tests/fuzz-replay: tests/fuzz/replay.c tests/fuzz/fuzz-recipe.c \
		$(ASAN_LIBOBJS)
	@mkdir -p $(@D)
	$(CC) $(SBX_CFLAGS) $(ASAN_CFLAGS) $(SAN_FLAGS) -o $@ \
		tests/fuzz/replay.c tests/fuzz/fuzz-recipe.c $(ASAN_LIBOBJS) \
		$(PKG_LIBS)

# The unit suites built with ASan+UBSan, then the ASan sbx-build on
# check/plan/render (tests/asan-cli.sh); a leak, an overflow or undefined
# behaviour fails.  The check-*.sh scripts run ./sbx-build (test-pack
# does too) and stay with 'make check'.
check-asan: sbx-build $(ASAN_DIR)/sbx-build $(ASAN_TESTS)
	@pass=0; fail=0; failed=; \
	for t in $(ASAN_TESTS) "sh tests/asan-cli.sh $(ASAN_DIR)/sbx-build"; do \
		if $(SAN_ENV) $$t; then pass=$$((pass + 1)); \
		else fail=$$((fail + 1)); failed="$$failed $$t"; \
			echo "FAIL: $$t"; fi; \
	done; echo; [ -z "$$failed" ] || echo "failed:$$failed"; \
	echo "asan: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

# Every saved fuzz input must be refused by the loader, or loaded and
# planned, cleanly under ASan (SBX_FUZZ_STRICT: see tests/fuzz/).
check-fuzz-regress: $(ASAN_DIR)/tests/fuzz-replay
	@pass=0; fail=0; failed=; \
	for f in $(FUZZ_REGRESS); do \
		if $(SAN_ENV) SBX_FUZZ_STRICT=1 timeout 10 \
			./$(ASAN_DIR)/tests/fuzz-replay \
			"$$f" >$(ASAN_DIR)/fuzz-replay.log 2>&1; \
		then pass=$$((pass + 1)); \
		else fail=$$((fail + 1)); failed="$$failed $$f"; \
			echo "FAIL: $$f"; \
			grep -m3 -E '^(SUMMARY|.*runtime error|recipes/)' \
				$(ASAN_DIR)/fuzz-replay.log; fi; \
	done; echo; [ -z "$$failed" ] || echo "failed:$$failed"; \
	echo "fuzz-regress: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

$(FUZZ_DIR)/builder/%.o: builder/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(SBX_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link \
		-c -o $@ $<

$(FUZZ_DIR)/fuzz-recipe: tests/fuzz/fuzz-recipe.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(SBX_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ \
		tests/fuzz/fuzz-recipe.c $(FUZZ_OBJS) $(PKG_LIBS)

fuzz-build: $(FUZZ_DIR)/fuzz-recipe

# Crashers land in $(FUZZ_WORK)/crash-*; minimise one with
# build-fuzz/fuzz-recipe -minimize_crash=1 -runs=10000 FILE and save it
# as tests/fixtures/fuzz/crash-WHAT.yaml.
fuzz: $(FUZZ_DIR)/fuzz-recipe
	@mkdir -p $(FUZZ_WORK)/corpus
	@sh tests/fuzz/seed.sh $(FUZZ_WORK)/corpus $(FUZZ_WORK)/recipe.dict
	$(SAN_ENV) nice -n 10 ./$(FUZZ_DIR)/fuzz-recipe -max_total_time=$(FUZZ_SECONDS) \
		-dict=$(FUZZ_WORK)/recipe.dict -max_len=65536 -timeout=5 \
		-artifact_prefix=$(FUZZ_WORK)/ $(FUZZ_ARGS) $(FUZZ_WORK)/corpus

.PHONY: check-asan check-fuzz-regress fuzz fuzz-build
-include $(ASAN_OBJS:.o=.d) $(ASAN_MOD:.o=.d) $(ASAN_TESTS:=.d) \
	$(FUZZ_OBJS:.o=.d)

# What building and running sbx-build needs; test-deps adds what the test
# suites need (cmocka, the real readers, debootstrap, ...).
deps:
	@sh scripts/deps.sh

test-deps: deps
	@sh scripts/deps.sh --test

# Line coverage per module of whatever ran since the last build with
# COVERAGE=1 (CI: make check, check-image and check-e2e).  'make coverage'
# does the whole round: a clean instrumented build, the three suites, the
# report (a slow suite that fails or cannot run still gives a report).
coverage:
	$(MAKE) clean
	$(MAKE) COVERAGE=1 check
	-$(MAKE) COVERAGE=1 check-image
	-$(MAKE) COVERAGE=1 check-e2e
	@sh scripts/coverage.sh

coverage-report:
	@sh scripts/coverage.sh

# The quick start: install what is needed, build, bake out/*.qcow2.  A
# sub-make so pkg-config sees the libraries deps just installed.
images: deps
	$(MAKE) sbx-build
	./sbx-build all

format:
	clang-format -i builder/*.c builder/*.h tests/*.c tests/*.h

install: sbx-build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DATADIR)/sbx-build \
		$(DESTDIR)$(LIBEXECDIR)/sbx-build
	install -m 0755 sbx-build $(DESTDIR)$(BINDIR)/sbx-build
	install -m 0644 $(MODULES) $(DESTDIR)$(LIBEXECDIR)/sbx-build/
	install -m 0644 doc/sbx-build.1 $(DESTDIR)$(MANDIR)/man1/sbx-build.1
	install -m 0644 contrib/sbx-build.bash \
		$(DESTDIR)$(BASHCOMPDIR)/sbx-build
	cp -R recipes overlays $(DESTDIR)$(DATADIR)/sbx-build/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sbx-build \
		$(MODULES:%=$(DESTDIR)$(LIBEXECDIR)/sbx-build/%) \
		$(DESTDIR)$(MANDIR)/man1/sbx-build.1 \
		$(DESTDIR)$(BASHCOMPDIR)/sbx-build
	rm -rf $(DESTDIR)$(DATADIR)/sbx-build
	-rmdir $(DESTDIR)$(LIBEXECDIR)/sbx-build

clean:
	rm -f sbx-build $(MODULES) builder/*.o builder/*.d tests/*.d $(TESTS) \
		builder/*.gcno builder/*.gcda tests/*.gcno tests/*.gcda
	rm -rf tests/work $(ASAN_DIR) $(FUZZ_DIR)

.PHONY: all tests check check-image check-e2e deps test-deps coverage \
	coverage-report images format install uninstall clean

-include $(OBJS:.o=.d) $(MOD_OBJS:.o=.d) $(TESTS:=.d)
