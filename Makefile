# geoblock: build, test, demo. `make help` lists the targets.
# Sources: bpf/ (the XDP program and the ABI header shared with userspace), user/ (the controller,
# by layer: lib < geoip < kern < state < metrics < api < cli; a layer includes only those below
# it and its own; see user/README.md), tests/ (unit, bpf, e2e, faults, fuzz, diff, bench).
# The release: what `geoblock --version` prints and the Debian package's version (debian/changelog's
# top entry must carry the same; `make deb` and tests/dist/deb_installs_runs_and_purges_clean.sh
# check it).
VERSION	:= 0.1.0
CC	?= gcc
CLANG	?= clang
BPFTOOL	?= bpftool
PKGS	:= libbpf libmaxminddb json-c zlib libmicrohttpd libcurl libcrypto
BUILD	:= build
# SANITIZE=1: controller and C tests with ASan, UBSan and LeakSanitizer, built apart from the rest.
# clang, because gcc 12's runtime prints UBSan reports on stderr whatever log_path says.
ifeq ($(SANITIZE),1)
BUILD	:= build-san
CC	:= $(CLANG)
SAN_CFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ARCH_INC   := /usr/include/$(shell $(CLANG) -print-multiarch 2>/dev/null)

CFLAGS	?= -O2 -g
CFLAGS	+= -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -DGB_VERSION='"$(VERSION)"' -MMD -MP \
	   -Ibpf -Iuser -I$(BUILD) $(PKG_CFLAGS) $(SAN_CFLAGS)
LDLIBS	+= $(PKG_LIBS) -lelf -pthread
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -Ibpf -I$(ARCH_INC)

# make fuzz: libFuzzer targets (clang), each run for FUZZ_SECONDS; built apart, in build-fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
ifeq ($(FUZZ),1)
BUILD	:= build-fuzz
CC	:= $(CLANG)
SAN_CFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	      -fno-sanitize-recover=all
endif

# The builds inside test, fuzz, bench and demo use every core, unless the caller gave -j (then
# they share its job slots: each such line names $(MAKE) itself, which is how make knows them).
NPROC	:= $(shell nproc 2>/dev/null || echo 1)
JOBS	= $(if $(filter -j%,$(MAKEFLAGS)),,-j$(NPROC))

ifeq ($(V),1)
Q :=
else
Q := @
endif

# make install: PREFIX (default /usr/local) and DESTDIR, as usual.
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
UNITDIR	?= $(PREFIX)/lib/systemd/system
COMPDIR	?= $(PREFIX)/share/bash-completion/completions
DOCDIR	?= $(PREFIX)/share/doc/geoblock
INSTALL	?= install
UNITS	:= geoblock-restore.service geoblock-daemon.service
INSTALLED := $(SBINDIR)/geoblock $(MANDIR)/man8/geoblock.8 $(addprefix $(UNITDIR)/,$(UNITS)) \
	     $(COMPDIR)/geoblock $(DOCDIR)/rules.example

USER_SRCS := $(wildcard user/*/*.c)
LIB_OBJS  := $(patsubst user/%.c,$(BUILD)/user/%.o,$(filter-out user/cli/main.c,$(USER_SRCS)))
TEST_BINS := $(BUILD)/tests/unit_country $(BUILD)/tests/unit_prefix $(BUILD)/tests/unit_table \
	     $(BUILD)/tests/unit_metrics $(BUILD)/tests/unit_exporter $(BUILD)/tests/unit_parse \
	     $(BUILD)/tests/bpf_packets $(BUILD)/tests/mmdb_ref $(BUILD)/tests/udp_send \
	     $(BUILD)/tests/udp_recv $(BUILD)/tests/tcp_probe $(BUILD)/tests/expire_pass \
	     $(BUILD)/bench/xdp_bench $(BUILD)/tests/unit_csv $(BUILD)/tests/csv_ref \
	     $(BUILD)/tests/mmdb_resize $(BUILD)/tests/diff_packets $(BUILD)/tests/unit_geoip \
	     $(BUILD)/tests/unit_fleet_layout $(BUILD)/tests/unit_ice_hash $(BUILD)/tests/unit_hot $(BUILD)/tests/unit_shared_ports \
	     $(BUILD)/tests/unit_fleet_store \
	     $(patsubst %,$(BUILD)/tests/fuzz_%,$(FUZZ_TARGETS)) $(BUILD)/tests/mkmmdb \
	     $(BUILD)/bench/api_load
DIFF_OBJS := $(patsubst tests/diff/%.c,$(BUILD)/tests/%.o,$(wildcard tests/diff/*.c))

.PHONY: all test demo bench bench-ab bench-maps bench-metrics bench-geoip bench-api bench-policy bench-fleet bench-fleet-list fuzz \
	fuzz-build deps \
	clean help install uninstall deb
.SECONDARY:
all: $(BUILD)/geoblock

help:
	@echo "make            build build/geoblock"
	@echo "make test       install missing packages, build, run every test"
	@echo "make test SANITIZE=1  the same, built with ASan+UBSan+LeakSanitizer (in build-san/)"
	@echo "make demo       install missing packages, build, run the namespace demo on real data"
	@echo "make fuzz       run each fuzz target for FUZZ_SECONDS (default 60) (in build-fuzz/)"
	@echo "make bench      scrape benchmark (below), then the data-path benchmark (Mpps vs bare"
	@echo "                XDP_DROP, LPM, nftables; typical policies vs no lookup; ns/packet),"
	@echo "                then the GeoIP load and policy-change benchmarks; BENCH_SHARED=1"
	@echo "                adds the shared-port (ICE) runs: RTP and Binding Requests vs the"
	@echo "                meeting's own port"
	@echo "make bench-ab BENCH_AB_OLD=PATH  drop path of this build against another build's"
	@echo "                geoblock binary (PATH), attached in turn; then both builds' ns/packet"
	@echo "                (BENCH_AB_SHARED=1: also Binding Requests and RTP on a shared port)"
	@echo "make bench-metrics  /metrics scrape time with 1,000 meetings x 20 countries"
	@echo "make bench-geoip    geoip load time and peak memory on full world databases"
	@echo "make bench-api      control API changes/s and latency, 8 clients, 4,000 meetings;"
	@echo "                then CLI meeting add time"
	@echo "make bench-policy   time until a meeting change that makes the data path's table"
	@echo "                tell a new country apart (or no longer) is enforced, CLI and API"
	@echo "make bench-fleet    time from an etcd put to enforcement on every node of a fleet"
	@echo "                (3-member etcd, BENCH_FLEET_NODES=20 daemons): p50, p99"
	@echo "make bench-fleet-list  fleet list's time on two big stores (1 etcd member)"
	@echo "make bench-maps ns per lookup of a random entry, by kind of BPF map (arrays and"
	@echo "                hash maps as the shared-port tables are, or might be) and by"
	@echo "                working set (32 KiB to 32 MiB): what one read at random costs"
	@echo "make deps       install the Debian packages the build and tests need"
	@echo "make install    install binary, man page, systemd units, bash completion, example"
	@echo "                rules (PREFIX=/usr/local, DESTDIR=); make uninstall removes them"
	@echo "make deb        install missing packages, build build/geoblock_$(VERSION)_ARCH.deb from"
	@echo "                debian/ (dpkg-buildpackage), fail on lintian errors or warnings"
	@echo "make clean      remove build/, build-san/, build-fuzz/"
	@echo "V=1 shows the commands"

$(BUILD)/geoblock.bpf.o: bpf/geoblock.bpf.c bpf/geoblock.h bpf/table_layout.h bpf/parse.h
	@mkdir -p $(@D)
	@echo "  CLANG   $@"
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/geoblock.skel.h: $(BUILD)/geoblock.bpf.o
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< name geoblock > $@.tmp && mv $@.tmp $@

$(BUILD)/bench/%.bpf.o: tests/bench/%.bpf.c tests/bench/xdpgen.h
	@mkdir -p $(@D)
	@echo "  CLANG   $@"
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/%.skel.h: $(BUILD)/bench/%.bpf.o
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@.tmp && mv $@.tmp $@

$(BUILD)/bench/xdp_bench: tests/bench/xdp_bench.c tests/bench/xdpgen.h $(BUILD)/bench/xdpgen.skel.h $(BUILD)/geoblock.skel.h
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/bench -I$(BUILD) -o $@ $< $(LDLIBS)

$(BUILD)/bench/map_probe.bpf.o: tests/bench/map_probe.h
$(BUILD)/bench/map_probe: tests/bench/map_probe.c tests/bench/map_probe.h $(BUILD)/bench/map_probe.skel.h
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/bench -o $@ $< $(LDLIBS)

# The control API's load generator (bench-api, and the daemon kill -9 fault test): libcurl.
$(BUILD)/bench/api_load: tests/bench/api_load.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(shell pkg-config --cflags libcurl) -o $@ $< \
		$(shell pkg-config --libs libcurl json-c) -pthread

$(BUILD)/user/%.o: user/%.c $(BUILD)/geoblock.skel.h
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# A thin archive: members keep their paths, so user/cli/geoip.o and user/geoip/geoip.o are two.
$(BUILD)/libgeoblock.a: $(LIB_OBJS)
	$(Q)rm -f $@ && $(AR) rcsT $@ $^

$(BUILD)/geoblock: $(BUILD)/user/cli/main.o $(BUILD)/libgeoblock.a
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%.o: tests/*/%.c $(BUILD)/geoblock.skel.h
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -Itests/lib -c $(firstword $(wildcard tests/*/$*.c)) -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libgeoblock.a
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/diff_packets: $(DIFF_OBJS) $(BUILD)/libgeoblock.a
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# A fuzz target without libFuzzer, replaying saved inputs (its corpus, its regressions) in make test.
$(BUILD)/tests/fuzz_%: $(BUILD)/tests/fuzz_%.o $(BUILD)/tests/replay.o $(BUILD)/libgeoblock.a
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The libFuzzer build of a target (make fuzz, FUZZ=1).
$(BUILD)/fuzz/%: tests/fuzz/fuzz_%.c $(BUILD)/libgeoblock.a
	@mkdir -p $(@D)
	@echo "  FUZZER  $@"
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer -Itests/lib -o $@ $< $(BUILD)/libgeoblock.a $(LDLIBS)

# fuzz_stun checks the XDP program against the differential test's reference classifier.
STUN_REF := tests/diff/ref_classifier.c tests/diff/ref_lpm.c tests/diff/ref_ice.c

$(BUILD)/tests/fuzz_stun: $(BUILD)/tests/fuzz_stun.o $(BUILD)/tests/replay.o \
		$(patsubst tests/diff/%.c,$(BUILD)/tests/%.o,$(STUN_REF)) $(BUILD)/libgeoblock.a
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/stun: tests/fuzz/fuzz_stun.c $(STUN_REF) $(BUILD)/libgeoblock.a
	@mkdir -p $(@D)
	@echo "  FUZZER  $@"
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer -Itests/lib -o $@ $< $(STUN_REF) \
		$(BUILD)/libgeoblock.a $(LDLIBS)

fuzz-build: $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_TARGETS))

deps:
	$(Q)bash scripts/install-deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all $(TEST_BINS)
	$(Q)GB_BUILD=$(abspath $(BUILD)) GB_SANITIZE=$(SANITIZE) bash tests/run.sh

fuzz: deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) FUZZ=1 fuzz-build
	$(Q)bash scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all $(BUILD)/bench/xdp_bench \
		$(BUILD)/tests/mmdb_ref $(BUILD)/tests/metrics_fill
	$(Q)bash scripts/bench-metrics.sh
	$(Q)bash scripts/bench.sh
	$(Q)bash scripts/bench-geoip.sh
	$(Q)bash scripts/bench-policy.sh

bench-ab: deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all $(BUILD)/bench/xdp_bench $(BUILD)/tests/mmdb_ref
	$(Q)bash scripts/bench-ab.sh

bench-geoip: deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all
	$(Q)bash scripts/bench-geoip.sh

bench-api: deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all $(BUILD)/bench/api_load
	$(Q)bash scripts/bench-api.sh

bench-policy: deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all
	$(Q)bash scripts/bench-policy.sh

bench-fleet: deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all
	$(Q)bash scripts/bench-fleet.sh

bench-fleet-list: deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all
	$(Q)bash scripts/bench-fleet-list.sh $(BENCH_BINS)

bench-metrics: deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all $(BUILD)/tests/metrics_fill
	$(Q)bash scripts/bench-metrics.sh

bench-maps: deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) $(BUILD)/bench/map_probe
	$(Q)$(BUILD)/bench/map_probe $(BENCH_MAPS_ROUNDS)

demo: deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all $(BUILD)/tests/udp_send \
		$(BUILD)/tests/udp_recv $(BUILD)/tests/mmdb_ref
	$(Q)bash scripts/demo.sh

install: $(BUILD)/geoblock
	$(INSTALL) -D -m 0755 $(BUILD)/geoblock $(DESTDIR)$(SBINDIR)/geoblock
	$(INSTALL) -D -m 0644 scripts/dist/geoblock.8 $(DESTDIR)$(MANDIR)/man8/geoblock.8
	$(INSTALL) -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' scripts/dist/$$u.in >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	$(INSTALL) -D -m 0644 scripts/dist/geoblock.bash-completion $(DESTDIR)$(COMPDIR)/geoblock
	$(INSTALL) -D -m 0644 scripts/dist/rules.example $(DESTDIR)$(DOCDIR)/rules.example

# The Debian package, built by dpkg-buildpackage in a copy of the tree under build/deb/ (so that
# its output, written beside the tree it builds, lands there too), checked by lintian.
deb: deps
	$(Q)bash scripts/deb.sh $(VERSION)

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf build build-san build-fuzz

-include $(wildcard $(BUILD)/user/*/*.d $(BUILD)/tests/*.d $(BUILD)/fuzz/*.d)
