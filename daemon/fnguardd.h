/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fnguardd: what the daemon's files share. One thread, one epoll loop: every file descriptor the
 * daemon waits on is a struct watch, and nothing blocks but epoll_wait().
 *
 *   fnguardd.c     main, the loop, signals, shutdown, kernel events
 *   config.c       the settings (one table); config_load.c reads the configuration file
 *   control.c      the API socket: clients, credentials, requests, responses, subscriptions
 *   functions.c    registered functions and their state on disk
 *   env.c          environments: the pool, the agent channel, invocations, timeouts
 *   env_process.c  setting up a process environment (one ordered function)
 *   hub.c          the telemetry hub; export.c its JSON-lines file exporter
 */
#ifndef FNGUARD_FNGUARDD_H
#define FNGUARD_FNGUARDD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "bpf_backend.h"
#include "cgroup.h"
#include "fnguard/v1/agent.pb-c.h"
#include "fnguard/v1/api.pb-c.h"
#include "hub.h"
#include "plan.h"
#include "policy.h"
#include "telemetry.h"
#include "uidrange.h"
#include "wire.h"

#define FNGUARDD_VERSION "0.1"

struct fnguardd;

/* A file descriptor the loop waits on; loop_add() records the daemon it belongs to, so its
 * callback has the daemon's state (w->d) without a global. */
struct watch {
	int fd;
	void (*fn)(struct watch *w, uint32_t events);
	struct fnguardd *d;
};

int loop_add(struct fnguardd *d, struct watch *w, uint32_t events);
int loop_mod(struct watch *w, uint32_t events);
void loop_del(struct watch *w);

struct client;
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
	uint64_t init_ns;     /* start to ready */
	bool cold;	      /* no invocation has run here yet */
	uint64_t invocations;
	struct fng_cgroup cg;
	struct bpf_env benv;
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
	/* The channel's bounds (env_channel.c, issue 13). Frames for the agent not yet
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
	int microvm_accel;	    /* enum microvm_accel */
	unsigned microvm_boot_timeout_s; /* 0: by accelerator (MICROVM_BOOT_TIMEOUT_*) */
};

struct fnguardd {
	struct fnguardd_config cfg;
	int epfd;
	int64_t started_mono;
	char host[256];
	struct hub *hub;
	struct bpf_backend *bpf;
	bool bpf_pinned;
	struct uid_range uids; /* the environments' uids and gids (uid_range) */
	struct fn *fns;
	uint64_t fn_order;
	struct env *envs;
	unsigned n_envs;
	uint64_t next_env, next_inv;
	uint64_t ringbuf_lost; /* reported so far */
	uint64_t probes_missed; /* kmod probe misses reported so far */
	int64_t boot_to_real_ns;
	bool stopping;
	/* Set by the API layer (control_open): a synchronous invocation's result goes to the
	 * client that waits for it. The environments never call the API layer themselves. */
	void (*invoke_done)(struct client *c, uint64_t req_id, const struct inv *inv,
			    Fnguard__V1__InvokeResult *res);
	struct telemetry_event scratch; /* ev_scratch() */
	/* fnguardd.c's own: signals, the one-second tick, the kernel's events */
	struct watch sig_watch, tick_watch, kev_watch;
};

int64_t mono_ns(void);
/* Events the kernel could not put in the ring buffer, since the daemon started. */
uint64_t kernel_lost_total(struct fnguardd *d);

/* Telemetry: publish @t with the origin of @fn / @env / @inv (any may be NULL). */
void emit(struct fnguardd *d, struct telemetry_event *t, const struct fn *fn,
	  const struct env *env, const struct inv *inv);
/* A scratch event for building one event at a time (the loop is single-threaded). */
struct telemetry_event *ev_scratch(struct fnguardd *d);

/* functions.c */
int functions_load(struct fnguardd *d);
struct client_id;
/* Registers a policy file's function; its code is copied with the rights of @who. */
int function_register(struct fnguardd *d, const char *yaml, size_t len, const char *name,
		      const char *code_base, const struct client_id *who, struct fn **out,
		      char *why, size_t whylen);
struct fn *function_find(struct fnguardd *d, const char *name, const char *version);
int function_remove(struct fnguardd *d, const char *name, const char *version, char *why,
		    size_t whylen);
void function_free(struct fn *f);

/* env.c */
int inv_submit(struct fn *fn, const uint8_t *payload, size_t len, bool async,
	       struct client *c, uint64_t req_id, char *id_out, size_t id_len);
void inv_client_gone(struct fnguardd *d, struct client *c);
void envs_stop_function(struct fn *fn, const char *reason);
void envs_stop_all(struct fnguardd *d, const char *reason);
void envs_tick(struct fnguardd *d);
/* Every function's waiting invocations get environments (after the KVM probe answered). */
void envs_dispatch_all(struct fnguardd *d);
struct env *env_by_cgroup(struct fnguardd *d, uint64_t cgroup_id);
/* A denial in @e: from the kernel ring buffer or the agent's seccomp notifications. */
void env_denial(struct env *e, const struct fng_event *ev);
int envs_cleanup_stale(void);

/* The steps every kind of environment takes: its cgroup with limits (-errno, @why set), and
 * its first process, in new namespaces (@ns_flags), which starts in @child with no signal
 * blocked and the control channel as fd 3; sets e->pid and e->ctl.fd. */
int env_cgroup_make(struct env *e, uint32_t pids, uint64_t memory_bytes, uint32_t cpus,
		    char *why, size_t whylen);
int env_spawn(struct env *e, uint64_t ns_flags, void (*child)(struct env *e, void *arg), void *arg,
	      char *why, size_t whylen);

/* env_microvm.c */
#include "env_microvm.h"

/* env_process.c */
int env_process_start(struct env *e, char *why, size_t whylen);
int env_process_enforce(struct env *e, char *why, size_t whylen);
void env_process_destroy(struct env *e);

/* control.c */
int control_open(struct fnguardd *d);
void control_close(struct fnguardd *d);
int client_send(struct client *c, Fnguard__V1__Response *r);
void client_send_error(struct client *c, uint64_t id, Fnguard__V1__ErrorCode code,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
