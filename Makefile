# SPDX-License-Identifier: Apache-2.0
#
# The one entry point. Every output goes under build/.
#
#   make deps        install build/test dependencies and cache the Debian test kernel (root, idempotent)
#   make             BPF objects + skeletons, libfnguard, the CLI, guest test binaries, the kernel module
#   make test        unit tests + every kernel test bench suite, ends with "N passed, N failed"
#   make test-unit   unit tests only
#   make test-vm     bench suites only (SUITE=name for one)
#   make test-one T=NAME  one test by name, any kind: T=test_wire, T=run.sh, T=kernel/daemon_api.sh,
#                    T=daemon/daemon_api.sh (SUITE/TEST), T=conformance/WORD (tools/test-one --help)
#   make check-layers  which lib/ folder may include which (tools/check-layers), part of make test
#   make fuzz        run the fuzz targets (FUZZ_TIME=seconds each)
#   make vmlinux     regenerate the pinned bpf/vmlinux.h from the cached Debian kernel
#   make guest-initrd  the microVM guest image build/guest/microvm-initrd.cpio.gz (needs make deps)
#   V=1              show the commands

.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:
SHELL := /bin/bash

OUT        := build
CACHE      ?= /var/cache/fnguard
CC         ?= gcc
CLANG      ?= clang
BPFTOOL    ?= bpftool
ARCH       := x86

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS       := yaml-0.1 libseccomp libbpf libelf zlib libprotobuf-c libnl-genl-3.0 libnl-route-3.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser

WARN       := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 -Wmissing-prototypes \
	      -Wstrict-prototypes -Wvla
CFLAGS     ?= -O2 -g
# libfnguard by concern (lib/*/): every folder is on the include path, so #include "x.h" names a
# header wherever it lives; which folder may include which is checked by tools/check-layers.
LIB_DIRS   := base policy enforce telemetry wire
LIB_INC    := $(patsubst %,-Ilib/%,$(LIB_DIRS))
# The daemon's folders, on the include path the same way (tools/include-graph checks that
# the daemon's files, subfolders included, include each other without a cycle).
DMN_DIRS   := daemon daemon/agent daemon/microvm daemon/process
DMN_INC    := $(patsubst %,-I%,$(DMN_DIRS))
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) -D_GNU_SOURCE -fno-strict-aliasing \
	      -I$(OUT)/bpf -I$(OUT)/proto $(LIB_INC) -Ibpf -Ikmod/uapi $(DMN_INC) \
	      $(PKG_CFLAGS) -MMD -MP
SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# Guest binaries are static: the test kernel's initramfs has no libc of its own.
GUEST_LIBS := -static -lbpf -lelf -lz -lseccomp -lyaml -lprotobuf-c -lnl-genl-3 -lnl-3 -lhttp_parser -lpthread -lm
# Except the microVM guest's agent: Debian has no static libkmod, so it is linked dynamically,
# with libfnguard's libraries (those it uses: --as-needed), and tools/mkguest puts the
# libraries ldd names, and the loader, in its initramfs.
AGENT_LIBS := -Wl,--as-needed $(PKG_LIBS) -lkmod

# ---------------------------------------------------------------- sources
# Probes (bpf/probe_*.bpf.c) are small stand-alone objects. Every other bpf/*.bpf.c is one
# concern of the enforcement object: they are linked into build/bpf/fnguard.bpf.o.
PROBE_SRCS := $(wildcard bpf/probe_*.bpf.c)
ENF_SRCS   := $(filter-out $(PROBE_SRCS),$(wildcard bpf/*.bpf.c))
ENF_TMPS   := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.tmp.bpf.o,$(ENF_SRCS))
BPF_NAMES  := $(patsubst bpf/%.bpf.c,%,$(PROBE_SRCS)) $(if $(ENF_SRCS),fnguard)
BPF_SKELS  := $(patsubst %,$(OUT)/bpf/%.skel.h,$(BPF_NAMES))

# protobuf definitions (proto/fnguard/v1/*.proto) -> protoc-c C sources under build/proto,
# compiled into libfnguard like lib/*/*.c.
PROTO_SRCS := $(wildcard proto/fnguard/v1/*.proto)
PROTO_C    := $(patsubst proto/%.proto,$(OUT)/proto/%.pb-c.c,$(PROTO_SRCS))
PROTO_H    := $(PROTO_C:.c=.h)

LIB_SRCS   := $(wildcard $(patsubst %,lib/%/*.c,$(LIB_DIRS))) $(PROTO_C)
LIB_OBJS   := $(patsubst %.c,$(OUT)/obj/%.o,$(LIB_SRCS))
SAN_OBJS   := $(patsubst %.c,$(OUT)/san/%.o,$(LIB_SRCS))
GUEST_OBJS := $(patsubst %.c,$(OUT)/gobj/%.o,$(LIB_SRCS))

CLI_SRCS   := $(wildcard tools/fnguard/*.c)
CLI_OBJS   := $(patsubst %.c,$(OUT)/obj/%.o,$(CLI_SRCS))

# fnguardd: its main file, and the rest (the agent included) as a library the unit tests use too.
# daemon/agent/guest.c is the microVM guest's main (fnguard-agent), not part of the daemon.
DMN_SRCS   := $(filter-out daemon/main.c daemon/agent/guest.c,\
		$(wildcard $(patsubst %,%/*.c,$(DMN_DIRS))))
DMN_OBJS   := $(patsubst %.c,$(OUT)/obj/%.o,$(DMN_SRCS))
DMN_SAN    := $(patsubst %.c,$(OUT)/san/%.o,$(DMN_SRCS))

UNIT_SRCS  := $(wildcard tests/host/test_*.c)
UNIT_BINS  := $(patsubst tests/host/%.c,$(OUT)/tests/unit/%,$(UNIT_SRCS))

CLI_TESTS  := $(wildcard tests/host/*.sh tests/host-root/*.sh)

VM_SRCS    := $(wildcard tests/kernel/*.c)
VM_BINS    := $(patsubst tests/kernel/%.c,$(OUT)/guest/%,$(VM_SRCS)) $(OUT)/guest/fng-op \
	      $(OUT)/guest/hello-dyn $(OUT)/guest/fng-bench $(OUT)/guest/fng-echo \
	      $(OUT)/guest/fng-invoke-bench
VM_SUITES  := $(patsubst tests/kernel/%.suite,%,$(wildcard tests/kernel/*.suite))

# The demo: example functions (handlers built where needed) and the script, under build/demo.
DEMO_FNS   := $(notdir $(wildcard examples/functions/*))
DEMO_FILES := $(OUT)/demo/demo.sh $(OUT)/demo/functions/hostile/handler \
	      $(patsubst %,$(OUT)/demo/functions/%/function.yaml,$(DEMO_FNS)) \
	      $(patsubst examples/%,$(OUT)/demo/%,$(filter-out %.c %/function.yaml,$(shell find examples/functions -type f -not -path '*/__pycache__/*'))) \
	      $(OUT)/demo/functions/hostile-python/__pycache__/app.cpython-311.pyc

FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(FUZZ_SRCS))
FUZZ_TIME  ?= 60

KABI       := $(shell cat $(CACHE)/abi 2>/dev/null)
KDIR       ?= $(if $(KABI),/usr/src/linux-headers-$(KABI)-amd64,/nonexistent)

.PHONY: all deps demo demo-bench bench-daemon guest-initrd test test-unit test-vm test-one fuzz fuzz-ci \
	vmlinux module clean bench bench-kmod check-layers check-includes
all: $(BPF_SKELS) $(OUT)/libfnguard.a $(OUT)/fnguard $(OUT)/fnguardd $(OUT)/guest/fnguard \
	$(OUT)/guest/fnguardd $(OUT)/guest/fnguard-agent $(VM_BINS) $(DEMO_FILES) module \
	$(OUT)/libexec/fnguard-runtime

deps:
	$(Q)tools/deps.sh --cache $(CACHE)

# fnguard runtime runs libexec/fnguard-runtime beside it: the script in tools/, which finds the
# bootstraps in runtimes/ beside itself.
$(OUT)/libexec/fnguard-runtime: tools/fnguard-runtime
	$(Q)mkdir -p $(@D) && ln -sfn ../../tools/fnguard-runtime $@

# ---------------------------------------------------------------- BPF
# .bpf.c -> .tmp.bpf.o -> bpftool gen object (static linking) -> .bpf.o -> .skel.h
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Ibpf -Ikmod/uapi -I$(OUT)/bpf \
	      -mcpu=v3

$(OUT)/bpf/%.tmp.bpf.o: bpf/%.bpf.c bpf/vmlinux.h $(wildcard bpf/*.h) kmod/uapi/fnguard_abi.h | $(OUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/bpf/fnguard.bpf.o: $(ENF_TMPS)
	$(call msg,BPF-LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUT)/bpf/probe_%.bpf.o: $(OUT)/bpf/probe_%.tmp.bpf.o
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUT)/bpf/%.skel.h: $(OUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

vmlinux:
	$(Q)tools/gen-vmlinux.sh --cache $(CACHE) bpf/vmlinux.h

# ---------------------------------------------------------------- user space
$(OUT)/proto/%.pb-c.c $(OUT)/proto/%.pb-c.h: proto/%.proto
	$(call msg,PROTOC-C,$<)
	$(Q)mkdir -p $(OUT)/proto
	$(Q)protoc-c --proto_path=proto --c_out=$(OUT)/proto $<

$(OUT)/obj/%.o: %.c $(BPF_SKELS) $(PROTO_H) | $(OUT)/bpf
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUT)/san/%.o: %.c $(BPF_SKELS) $(PROTO_H) | $(OUT)/bpf
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -c $< -o $@

$(OUT)/gobj/%.o: %.c $(BPF_SKELS) $(PROTO_H) | $(OUT)/bpf
	$(call msg,CC-GUEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUT)/libfnguard.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/libfnguard-san.a: $(SAN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/fnguard: $(CLI_OBJS) $(OUT)/libfnguard.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(OUT)/libfnguardd.a: $(DMN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/libfnguardd-san.a: $(DMN_SAN)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/fnguardd: $(OUT)/obj/daemon/main.o $(OUT)/libfnguardd.a $(OUT)/libfnguard.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(OUT)/guest/fnguardd: $(OUT)/obj/daemon/main.o $(OUT)/libfnguardd.a $(OUT)/libfnguard.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(GUEST_LIBS)

# The same CLI, static, for the test kernel's initramfs.
$(OUT)/guest/fnguard: $(CLI_OBJS) $(OUT)/libfnguard.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(GUEST_LIBS)

# PID 1 of a microVM guest, and its initramfs (needs the kernel cache of 'make deps').
$(OUT)/guest/fnguard-agent: $(patsubst %.c,$(OUT)/obj/%.o,$(wildcard daemon/agent/*.c)) \
		$(OUT)/libfnguard.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(AGENT_LIBS)

guest-initrd: $(OUT)/guest/fnguard-agent module
	$(Q)tools/mkguest --cache $(CACHE) --agent $(OUT)/guest/fnguard-agent --out $(OUT)/guest/microvm-initrd.cpio.gz

$(OUT)/guest/%: tests/kernel/%.c tests/kernel/tap.h $(OUT)/libfnguard.a $(BPF_SKELS)
	$(call msg,CC-GUEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/kernel -o $@ $< $(OUT)/libfnguard.a $(GUEST_LIBS)

# Bench tests of the kernel module talk to it through generic netlink (libnl-genl-3, static).
$(OUT)/guest/kmod_%: tests/kernel/kmod_%.c tests/kernel/tap.h tests/kernel/cgtest.h tests/kernel/kmodtest.h \
		 kmod/uapi/fnguard_genl.h
	$(call msg,CC-GUEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-field-initializers -Itests/kernel -o $@ $< -static \
		-lnl-genl-3 -lnl-3 -lpthread

# The conformance suite's operation runner (static) and a dynamically linked program.
$(OUT)/guest/fng-op: tests/conformance/fng-op.c
	$(call msg,CC-GUEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< -static

$(OUT)/guest/fng-bench: tests/bench/fng-bench.c
	$(call msg,CC-GUEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< -static

# The daemon benchmark: its handler (static, no shell) and its socket client.
$(OUT)/guest/fng-echo: tests/bench/fng-echo.c
	$(call msg,CC-GUEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< -static

$(OUT)/guest/fng-invoke-bench: tests/bench/fng-invoke-bench.c $(OUT)/libfnguard.a $(PROTO_H)
	$(call msg,CC-GUEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(OUT)/libfnguard.a $(GUEST_LIBS)

$(OUT)/guest/hello-dyn: tests/conformance/hello-dyn.c
	$(call msg,CC-GUEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $<

$(OUT)/tests/unit/%: tests/host/%.c $(OUT)/libfnguardd-san.a $(OUT)/libfnguard-san.a
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -Itests/host -o $@ $< $(OUT)/libfnguardd-san.a \
		$(OUT)/libfnguard-san.a \
		$(PKG_LIBS) -lcmocka

$(OUT)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(BPF_SKELS) $(PROTO_H)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -std=gnu11 -g -O1 -D_GNU_SOURCE -DFNGUARD_FUZZ -I$(OUT)/bpf -I$(OUT)/proto \
		$(LIB_INC) -Ibpf -Ikmod/uapi $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $< $(LIB_SRCS) $(PKG_LIBS)

# ---------------------------------------------------------------- demo
$(OUT)/demo/%: examples/%
	$(Q)mkdir -p $(@D) && cp -p $< $@

# Imported from its compiled form, checked by hash only (never by reading the source, which
# its policy denies): Debian's python3, the runtime image's.
$(OUT)/demo/functions/hostile-python/__pycache__/app.cpython-311.pyc: $(OUT)/demo/functions/hostile-python/app.py
	$(call msg,PYC,$@)
	$(Q)/usr/bin/python3 -c 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)' $< $@

$(OUT)/demo/functions/hostile/handler: examples/functions/hostile/handler.c
	$(call msg,CC-GUEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< -static

# The main job: the daemon on this host, the example functions in microVM environments and a
# hostile invocation, whose denials the guest's kernel makes. demo-bench: the same with process
# environments, the daemon inside the kernel test bench.
demo: all guest-initrd
	$(Q)rm -f $(OUT)/demo/fnguard.sock
	$(Q)PATH=$(abspath $(OUT)):$$PATH FNGUARD_SOCKET=$(abspath $(OUT))/demo/fnguard.sock \
		sh $(OUT)/demo/demo.sh $(OUT)/demo >$(OUT)/demo.log 2>&1; \
		grep -v '^\(not \)\?ok - ' $(OUT)/demo.log; echo; grep '^\(not \)\?ok - ' $(OUT)/demo.log; \
		! grep -q '^not ok' $(OUT)/demo.log

demo-bench: all
	$(Q)tools/vmtest --cache $(CACHE) --suite tests/kernel/demo.suite --out $(OUT)/vmtest/demo \
		--tap $(OUT)/vmtest/demo.tap >$(OUT)/vmtest/demo.run 2>&1 || \
		{ cat $(OUT)/vmtest/demo.run; exit 1; }
	$(Q)grep -v '^\(not \)\?ok - ' $(OUT)/vmtest/demo/_demo_demo.sh.log || true
	$(Q)echo; cat $(OUT)/vmtest/demo.tap; ! grep -q '^not ok' $(OUT)/vmtest/demo.tap

# ---------------------------------------------------------------- kernel module
# Kbuild writes next to its sources, so the module is built from a copy under build/.
module:
	$(Q)if [ ! -d "$(KDIR)" ]; then \
		echo "  SKIP     kernel module: no headers at '$(KDIR)' (run 'make deps')"; \
	else \
		mkdir -p $(OUT)/kmod && cp -a Kbuild kmod $(OUT)/kmod/ && \
		set -o pipefail; \
		$(MAKE) -s -C $(KDIR) M=$(abspath $(OUT)/kmod) modules 2>&1 | \
			{ grep -v 'Skipping BTF generation' || true; } && \
		echo "  KMOD     $(OUT)/kmod/kmod/fnguard.ko"; \
	fi

# ---------------------------------------------------------------- tests
test: all guest-initrd $(UNIT_BINS)
	$(Q)rm -rf $(OUT)/results && mkdir -p $(OUT)/results
	$(Q)$(MAKE) -s check-layers || true
	$(Q)tools/include-graph --tap $(OUT)/results/include-graph.tap daemon || true
	$(Q)tools/run-unit $(OUT)/results $(UNIT_BINS)
	$(Q)FNGUARD=$(abspath $(OUT)/fnguard) tools/run-cli $(OUT)/results $(CLI_TESTS)
	$(Q)for s in $(VM_SUITES); do \
		tools/vmtest --cache $(CACHE) --suite tests/kernel/$$s.suite --out $(OUT)/vmtest/$$s \
			--tap $(OUT)/results/vm-$$s.tap; \
	done
	$(Q)$(MAKE) -s fuzz-ci
	$(Q)tools/tap-summary $(OUT)/results/*.tap

test-unit: $(UNIT_BINS) $(OUT)/fnguard
	$(Q)rm -rf $(OUT)/results && mkdir -p $(OUT)/results
	$(Q)$(MAKE) -s check-layers || true
	$(Q)tools/include-graph --tap $(OUT)/results/include-graph.tap daemon || true
	$(Q)tools/run-unit $(OUT)/results $(UNIT_BINS)
	$(Q)FNGUARD=$(abspath $(OUT)/fnguard) tools/run-cli $(OUT)/results $(CLI_TESTS)
	$(Q)tools/tap-summary $(OUT)/results/*.tap

test-vm: all
	$(Q)rm -rf $(OUT)/results && mkdir -p $(OUT)/results
	$(Q)for s in $(if $(SUITE),$(SUITE),$(VM_SUITES)); do \
		tools/vmtest --cache $(CACHE) --suite tests/kernel/$$s.suite --out $(OUT)/vmtest/$$s \
			--tap $(OUT)/results/vm-$$s.tap; \
	done
	$(Q)tools/tap-summary $(OUT)/results/*.tap

# No cycle in the daemon's include graph (x.c and x.h one node); prints the cycle if there is.
# `make test` records it as build/results/include-graph.tap.
check-includes:
	$(Q)mkdir -p $(OUT)/results
	$(Q)tools/include-graph --tap $(OUT)/results/include-graph.tap daemon

# One test by name, whatever its kind; tools/test-one builds what that kind needs.
test-one:
	$(Q)MAKE="$(MAKE)" CACHE=$(CACHE) tools/test-one "$(T)"

# The layers of lib/ by their #include lines (fails on a broken rule; in make test, the failure
# is a TAP line that tap-summary counts, and the other tests still run).
check-layers:
	$(Q)mkdir -p $(OUT)/results
	$(Q)tools/check-layers --tap $(OUT)/results/layers.tap

# Short fuzz runs over the seed corpus, as part of `make test` (results as TAP).
fuzz-ci: $(FUZZ_BINS)
	$(Q)tools/run-fuzz --tap $(OUT)/results/fuzz.tap --time 20 $(FUZZ_BINS)

# The enforcement benchmark in the kernel test bench: ratios, side by side, in one run.
bench: all
	$(Q)tools/vmtest --cache $(CACHE) --suite tests/bench/bench.suite --out $(OUT)/vmtest/bench \
		--tap $(OUT)/vmtest/bench/results.tap
	$(Q)grep -h '^bench:\|^# ' $(OUT)/vmtest/bench/run.sh.log $(OUT)/vmtest/bench/bench_run.sh.log 2>/dev/null || true

# Both backends side by side (the module's probes and the BPF LSM programs, in one run).
bench-kmod: all module
	$(Q)tools/vmtest --cache $(CACHE) --suite tests/bench/bench-kmod.suite \
		--out $(OUT)/vmtest/bench-kmod --tap $(OUT)/vmtest/bench-kmod/results.tap
	$(Q)grep -h '^bench:\|^# ' $(OUT)/vmtest/bench-kmod/*run.sh.log 2>/dev/null || true

fuzz: $(FUZZ_BINS)
	$(Q)tools/run-fuzz --time $(FUZZ_TIME) $(FUZZ_BINS)

$(OUT)/bpf:
	$(Q)mkdir -p $@

clean:
	$(Q)rm -rf $(OUT)

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)

# The daemon benchmark: warm invocation latency and cold start through fnguardd, side by side
# with a bare unshare+exec of the same handler (not part of make test).
bench-daemon: all
	$(Q)tools/vmtest --cache $(CACHE) --suite tests/bench/daemon.suite \
		--out $(OUT)/vmtest/bench-daemon --tap $(OUT)/vmtest/bench-daemon.tap
	$(Q)grep -h '^daemon:\|^# ' $(OUT)/vmtest/bench-daemon/bench_daemon.sh.log || true

# The microVM benchmark, on this host as root (TCG): cold start through fnguardd against the
# same QEMU command line started by hand, warm invocation latency, an idle environment's
# memory. ROUNDS=N for more rounds (default 5). Not part of make test.
# The runtime benchmark: one Python function as python3 and as stdio, isolate_invocations true
# and false, cold and warm, and idle memory, in one run (not part of make test).
.PHONY: bench-runtime
bench-runtime: all guest-initrd
	$(Q)tests/bench/runtime.sh $(ROUNDS) 2>&1 | tee $(OUT)/bench-runtime.log; \
		rc=$${PIPESTATUS[0]}; echo "# summary ($(OUT)/bench-runtime.log):"; \
		grep -h '^bench:\|^not ok' $(OUT)/bench-runtime.log; exit $$rc

.PHONY: bench-microvm
bench-microvm: all guest-initrd
	$(Q)tests/bench/microvm.sh $(ROUNDS) 2>&1 | tee $(OUT)/bench-microvm.log; \
		rc=$${PIPESTATUS[0]}; echo "# summary ($(OUT)/bench-microvm.log):"; \
		grep -h '^bench:\|^not ok' $(OUT)/bench-microvm.log; exit $$rc
