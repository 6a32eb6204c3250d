/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fnguardd: the types the daemon's files share (the daemon's state, functions, environments,
 * invocations). Each file's functions are declared in its own header; the README's "The
 * daemon's files" draws which includes which (tools/include-graph checks there is no cycle).
 */
#ifndef FNGUARD_FNGUARDD_H
#define FNGUARD_FNGUARDD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "enforcer.h"
#include "cgroup.h"
#include "env_microvm.h"
#include "fnguard/v1/agent.pb-c.h"
#include "fnguard/v1/api.pb-c.h"
#include "hub.h"
#include "loop.h"
#include "plan.h"
#include "policy.h"
#include "telemetry.h"
#include "uidrange.h"
#include "wire.h"

#define FNGUARDD_VERSION "0.1"

struct fnguardd;
struct client;
struct control;
struct env;
struct inv;

/* A registered function version. */
struct fn {
	struct fn *next;
	struct fnguardd *d;	   /* the daemon it is registered with */
	struct fng_policy *policy; /* policy->function names it */
	char *yaml;		   /* the policy file as registered */
	size_t yaml_len;
	char *code_base; /* directory function.code was resolved against */
	char *code_dir;	 /* the daemon's own copy of the code (STATE/code/...), read-only */
	char *layers_dir; /* its copy of function.layers (STATE/layers/...), merged in order in
			   * LAYERS_DIR/opt; NULL without layers */
	char *source;	 /* the policy file's name, for messages */
	int64_t registered_ns;
	uint64_t order; /* registration order: the latest version of a name wins */
	struct enforce_plan plan;
	struct inv *queue, *queue_tail; /* waiting for an environment */
	unsigned queued;
	unsigned n_envs;
	bool removed;  /* removed while its environments stop */
	bool removing; /* function_remove() is stopping them: it frees the function */
};

enum env_state {
	ENV_STARTING,
	ENV_READY,
	ENV_BUSY,
	ENV_RESETTING, /* isolate_invocations: the agent is cleaning up */
	ENV_STOPPING,
};

struct env {
	struct env *next;
	struct fnguardd *d; /* the daemon that runs it */
	char id[32];
	struct fn *fn;
	enum env_state state;
	int64_t started_mono; /* CLOCK_MONOTONIC ns */
	uint64_t init_ns;     /* start to ready, less the runtime's init */
	uint64_t runtime_init_ns; /* a runtime's start to its first request (AgentReady) */
	bool cold;	      /* no invocation has run here yet */
	uint64_t invocations;
	struct fng_cgroup cg;
	struct enforce_env benv;
	pid_t pid; /* the agent (process), QEMU (microvm) */
	struct watch ctl;
	struct wire_decoder dec;
	struct watch timer; /* the running invocation's timeout */
	struct inv *cur;
	uint64_t oom_kills; /* the cgroup's count when the invocation started */
	uint32_t uid;	    /* its own uid and gid, for the VMM or the handlers; 0: none yet */
	/* microVM: the guest's serial console and QEMU's stderr (a socket, never a file on the
	 * host), read at a bounded rate into a ring that keeps the last CONSOLE_RING bytes. */
	struct watch console;
	char *con_ring;
	size_t con_len, con_head; /* bytes in the ring, where the next one goes */
	uint64_t con_bytes;	  /* read in all */
	uint32_t con_budget;	  /* what may still be read this second */
	bool con_paused;	  /* budget spent: not read until the next tick */
	char fail_why[128]; /* set when the channel broke under a caller */
	/* The channel's bounds (channel.c, issue 13). Frames for the agent not yet
	 * written (out_off of out_len; the fd is non-blocking), and whether EPOLLOUT is
	 * asked for. */
	uint8_t *out;
	size_t out_len, out_off;
	bool out_wait;
	double denial_tokens; /* relayed denials: a token bucket, refilled at denial_mono */
	int64_t denial_mono;
	uint64_t denial_flood;	   /* over the rate, since the last invocation started */
	uint64_t refused_idle;	   /* out of place, since the last invocation started */
	uint64_t refused;	   /* agent messages dropped, not of an invocation: in all */
	uint64_t refused_reported; /* ... and as far as a loss event told */
};

/* A microVM environment (its guest's kernel enforces, its agent measures), else a process. */
static inline bool env_is_microvm(const struct env *e)
{
	return e->fn->policy->environment.kind == FNG_ENV_MICROVM;
}

struct inv {
	struct inv *next;
	char id[40];
	struct fn *fn;
	struct env *env;
	uint8_t *payload;
	size_t payload_len;
	bool async;
	unsigned attempts;
	struct client *client; /* sync: who waits for the result; NULL once gone */
	uint64_t req_id;
	int64_t queued_mono, start_mono;
	uint64_t denials;
	uint64_t lost_at_start; /* kernel ring-buffer losses when it started */
	bool cold;
	/* This attempt's log budget (token buckets of lines and bytes, refilled at log_mono),
	 * and what was dropped over it and over the denial rate: its events_lost (issue 13). */
	double log_tokens, log_byte_tokens;
	int64_t log_mono;
	uint64_t log_dropped, denials_dropped;
};

struct fnguardd_config {
	const char *socket_path;
	const char *state_dir;
	const char *export_path;
	uint64_t export_rotate_bytes;
	unsigned export_keep;
	unsigned max_envs_per_function;
	unsigned queue_max; /* per function */
	const char *pin_dir; /* bpffs directory for pinned enforcement */
	/* microVM environments */
	const char *qemu;	    /* qemu-system-x86_64 */
	const char *microvm_kernel; /* the guest kernel */
	const char *microvm_initrd; /* the guest image (make guest-initrd) */
	const char *runtime_dir;    /* the runtimes' images: runtime_dir/NAME/image.erofs */
	int microvm_accel;	    /* enum microvm_accel */
	unsigned microvm_boot_timeout_s; /* 0: by accelerator (MICROVM_BOOT_TIMEOUT_*) */
};

struct fnguardd {
	struct fnguardd_config cfg;
	struct loop loop;
	int64_t started_mono;
	char host[256];
	struct hub *hub;
	struct enforcer *bpf;
	bool bpf_pinned;
	struct uid_range uids; /* the environments' uids and gids (uid_range) */
	struct microvm_state microvm; /* the accelerator, what the VMM's jail holds */
	struct fn *fns;
	uint64_t fn_order;
	struct env *envs;
	unsigned n_envs;
	uint64_t next_env, next_inv;
	uint64_t ringbuf_lost; /* reported so far */
	uint64_t probes_missed; /* kmod probe misses reported so far */
	int64_t boot_to_real_ns;
	bool stopping;
	struct control *control; /* the API socket (control.h), from control_open() */
	/* Set by the API layer (control_open): a synchronous invocation's result goes to the
	 * client that waits for it. The environments never call the API layer themselves. */
	void (*invoke_done)(struct client *c, uint64_t req_id, const struct inv *inv,
			    Fnguard__V1__InvokeResult *res);
	struct telemetry_event scratch; /* ev_scratch() */
	/* main.c's own: signals, the one-second tick, the kernel's events */
	struct watch sig_watch, tick_watch, kev_watch;
};

/* The daemon a watch's loop belongs to (every watch of the daemon is on its loop). */
static inline struct fnguardd *watch_daemon(const struct watch *w)
{
	return (struct fnguardd *)((char *)w->loop - offsetof(struct fnguardd, loop));
}

#endif
