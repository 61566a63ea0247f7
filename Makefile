# sbx-build — build, test, install.
# Every builder/*.c is part of the program; every tests/test-*.c is a cmocka
# suite linked against all builder objects but main.o.  Adding a module or a
# test suite needs no change here.

VERSION     := 0.1.0
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
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
PKGS        := libguestfs yaml-0.1 libcurl libarchive libcrypto libxcrypt

PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
TEST_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

SBX_CFLAGS  = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	      -Wmissing-prototypes $(WERROR) -D_GNU_SOURCE \
	      -DSBX_VERSION='"$(VERSION)"' -DSBX_DATADIR='"$(DATADIR)/sbx-build"' \
	      -Ibuilder -MMD -MP $(PKG_CFLAGS)

# After CFLAGS, so that -O0 wins: gcov's line counts follow the source.
ifeq ($(COVERAGE),1)
COV_CFLAGS := --coverage -O0
LDFLAGS    += --coverage
endif

SRCS    := $(sort $(wildcard builder/*.c))
OBJS    := $(SRCS:.c=.o)
LIBOBJS := $(filter-out builder/main.o,$(OBJS))
TESTS   := $(patsubst %.c,%,$(sort $(wildcard tests/test-*.c)))

all: sbx-build

sbx-build: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

builder/%.o: builder/%.c
	$(CC) $(SBX_CFLAGS) $(CFLAGS) $(COV_CFLAGS) -c -o $@ $<

tests/test-%: tests/test-%.c $(LIBOBJS) tests/testutil.h
	$(CC) $(SBX_CFLAGS) $(TEST_CFLAGS) $(CFLAGS) $(COV_CFLAGS) -Itests -o $@ $< \
		$(LIBOBJS) $(PKG_LIBS) $(TEST_LIBS)

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
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DATADIR)/sbx-build
	install -m 0755 sbx-build $(DESTDIR)$(BINDIR)/sbx-build
	install -m 0644 doc/sbx-build.1 $(DESTDIR)$(MANDIR)/man1/sbx-build.1
	install -m 0644 contrib/sbx-build.bash \
		$(DESTDIR)$(BASHCOMPDIR)/sbx-build
	cp -R recipes overlays $(DESTDIR)$(DATADIR)/sbx-build/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sbx-build \
		$(DESTDIR)$(MANDIR)/man1/sbx-build.1 \
		$(DESTDIR)$(BASHCOMPDIR)/sbx-build
	rm -rf $(DESTDIR)$(DATADIR)/sbx-build

clean:
	rm -f sbx-build builder/*.o builder/*.d tests/*.d $(TESTS) \
		builder/*.gcno builder/*.gcda tests/*.gcno tests/*.gcda
	rm -rf tests/work

.PHONY: all tests check check-image check-e2e deps test-deps coverage \
	coverage-report images format install uninstall clean

-include $(OBJS:.o=.d) $(TESTS:=.d)
