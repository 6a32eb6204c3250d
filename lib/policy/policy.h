// SPDX-License-Identifier: Apache-2.0
/*
 * Policy files (docs/policy.md): load, validate and compile one YAML policy into
 * backend-neutral tables. The enforcement backends (BPF LSM maps, the kernel module over
 * netlink, seccomp) read struct fng_policy and never see YAML.
 *
 * Every problem found in a file is reported through struct policy_diags, one entry per
 * problem, as FILE:LINE:COLUMN: message (1-based; LINE 0 for problems with the file as a
 * whole, printed as FILE: message). A file either compiles completely or not at all.
 *
 * The numeric values of the enums below are ABI: they go into maps and netlink messages
 * and never change.
 */
#ifndef FNGUARD_POLICY_H
#define FNGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FNG_POLICY_API_VERSION "fnguard/v1"
/* Files larger than this are refused before parsing. */
#define FNG_POLICY_MAX_SIZE (1024 * 1024)
/* A single load reports at most this many problems, then one "too many errors" entry. */
#define FNG_POLICY_MAX_DIAGS 1000

enum fng_mode {
	FNG_MODE_ENFORCE = 0,
	FNG_MODE_AUDIT = 1,
};

enum fng_verdict {
	FNG_VERDICT_DENY = 0,
	FNG_VERDICT_ALLOW = 1,
};

enum fng_env_kind {
	FNG_ENV_MICROVM = 0,
	FNG_ENV_PROCESS = 1,
};

/* IP protocol numbers, so backends can compare them with sk_protocol directly. */
enum fng_proto {
	FNG_PROTO_ANY = 0,
	FNG_PROTO_TCP = 6,
	FNG_PROTO_UDP = 17,
};

/* File rights (files.rules[].access). */
#define FNG_RIGHT_READ 1u
#define FNG_RIGHT_WRITE 2u

struct fng_file_rule {
	char *path;	 /* absolute, normalized */
	uint32_t rights; /* FNG_RIGHT_* */
	uint32_t line;	 /* line of the rule in the policy file; 0: the runtime baseline's */
};

struct fng_files {
	enum fng_mode mode;
	enum fng_verdict def; /* paths no rule covers */
	size_t n_rules;
	struct fng_file_rule *rules; /* in file order; paths are unique */
};

struct fng_exec_entry {
	char *path; /* absolute, normalized; a directory covers its subtree */
	uint32_t line; /* 0: the runtime baseline's */
};

struct fng_exec {
	enum fng_mode mode;
	enum fng_verdict def;	   /* files no allow entry covers, and files without a path */
	enum fng_verdict children; /* execve after the handler started */
	size_t n_allow;
	struct fng_exec_entry *allow; /* in file order; paths are unique */
};

struct fng_port_range {
	uint16_t first, last; /* inclusive, 1 <= first <= last */
};

struct fng_egress_rule {
	uint8_t family;	    /* AF_INET or AF_INET6; IPv4-mapped IPv6 is stored as AF_INET */
	uint8_t prefix_len; /* 0-32 or 0-128; host bits of addr are zero */
	uint8_t protocol;   /* enum fng_proto */
	uint8_t verdict;    /* enum fng_verdict */
	uint8_t addr[16];   /* network byte order; IPv4 uses addr[0..3], the rest is zero */
	uint32_t line;
	size_t n_ports;		      /* 0: every port */
	struct fng_port_range *ports; /* sorted, merged, non-overlapping */
};

struct fng_network {
	enum fng_mode mode;
	enum fng_verdict egress_default;
	enum fng_verdict loopback; /* 127.0.0.0/8 and ::1 */
	enum fng_verdict bind;	   /* bind() to non-loopback addresses */
	uint64_t families;	   /* bit N set: socket(AF_N, ...) may be created */
	/* A runtime's Runtime API (127.0.0.1:PORT, TCP) is reachable whatever loopback says;
	 * 0 for the stdio runtime. */
	uint16_t runtime_api_port;
	size_t n_egress;
	struct fng_egress_rule *egress; /* egress.allow entries, then egress.deny entries */
};

struct fng_syscall {
	int nr; /* x86_64 system call number */
	char name[32];
};

struct fng_syscalls {
	enum fng_mode mode;
	int errno_nr; /* denied syscalls fail with this errno */
	char errno_name[16];
	size_t n_deny;
	struct fng_syscall *deny; /* baseline + deny - allow, sorted by number */
};

struct fng_environment {
	enum fng_env_kind kind;
	bool reuse;
	bool isolate_invocations;
	uint64_t max_invocations; /* 0: no limit */
	uint64_t max_lifetime_ns; /* 0: no limit */
	uint32_t provisioned;
};

struct fng_limits {
	uint64_t memory_bytes;
	uint64_t timeout_ns;
	uint32_t pids;
	uint32_t cpus;
	uint64_t tmp_size_bytes;
};

/* function.runtime (docs/runtime.md). */
enum fng_runtime {
	FNG_RUNTIME_STDIO = 0,
	FNG_RUNTIME_PROVIDED,
	FNG_RUNTIME_PYTHON3,
	FNG_RUNTIME_NODEJS,
};

#define FNG_LAYERS_MAX 5	 /* Lambda's */
#define FNG_FUNCTION_ENV_MAX 4096 /* bytes of names and values, as Lambda's */
#define FNG_RUNTIME_API_PORT 9001

struct fng_env_var {
	char *name;
	char *value; /* a secret: never printed (policy show, events, logs) */
};

struct fng_function {
	bool present; /* the file has a function: section; the other fields are set */
	char *name;
	char *version;
	char *code; /* absolute, resolved against the policy file's directory */
	char *handler;
	enum fng_runtime runtime;
	size_t n_layers;
	char *layers[FNG_LAYERS_MAX]; /* absolute directories, in order (a later one wins) */
	size_t n_env;
	struct fng_env_var *env;
};

/* "stdio", "provided", "python3", "nodejs". */
const char *fng_runtime_name(enum fng_runtime r);

struct fng_policy {
	char *source; /* the name the policy was loaded under */
	enum fng_mode mode;
	struct fng_function function;
	struct fng_environment environment;
	struct fng_limits limits;
	struct fng_files files;
	struct fng_exec exec;
	struct fng_network network;
	struct fng_syscalls syscalls;
};

/*
 * Diagnostics: every problem of one or more loads, in file, line and column order per load.
 * A note belongs to the error before it and says more about it, at another place (where the
 * flow mapping a syntax error is in began, say); it is kept right after its error.
 */
enum policy_diag_severity {
	POLICY_DIAG_ERROR = 0,
	POLICY_DIAG_NOTE = 1,
};

struct policy_diag {
	char *file;
	uint32_t line; /* 1-based; 0: the file as a whole */
	uint32_t col;  /* 1-based; 0 when line is 0 */
	char *msg;
	enum policy_diag_severity severity;
};

struct policy_diags {
	size_t n, cap;
	struct policy_diag *v;
};

void policy_diags_init(struct policy_diags *d);
void policy_diags_free(struct policy_diags *d);
/*
 * Prints every entry as "FILE:LINE:COLUMN: message\n" ("FILE: message\n" for line 0), a note
 * as "FILE:LINE:COLUMN: note: message\n". 0 or -EIO.
 */
int policy_diags_print(const struct policy_diags *d, FILE *f);

/*
 * For readers of other YAML files (the daemon's configuration): the same diagnostics.
 * policy_diags_add() appends an error, policy_diags_add_note() a note to the error before it;
 * 0 or -ENOMEM.
 */
int policy_diags_add(struct policy_diags *d, const char *file, uint32_t line, uint32_t col,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int policy_diags_add_note(struct policy_diags *d, const char *file, uint32_t line, uint32_t col,
			  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/*
 * The error of a libyaml parser that failed on buf[0..len): "YAML syntax error: PROBLEM" where
 * libyaml stopped, and a note where the construct it was reading began ("this flow mapping
 * began here"), when that is elsewhere. 0 or -ENOMEM.
 */
struct yaml_parser_s;
int policy_diags_add_yaml_error(struct policy_diags *d, const char *file,
				const struct yaml_parser_s *y, const char *buf, size_t len);
/* The candidate close enough to a misspelt word to suggest ("did you mean"), or NULL. */
const char *policy_suggest(const char *word, const char *const *cands, size_t n);

/*
 * Loading. Each returns 0 and sets *out on success; on failure *out is NULL, the problems
 * are appended to diags (which may be NULL) and the return value is
 *   -EINVAL  the policy is invalid (syntax or validation),
 *   -EFBIG   the input is larger than FNG_POLICY_MAX_SIZE,
 *   -ENOMEM, or the -errno of a failed open()/read().
 * base_dir is the directory function.code is resolved against; NULL means the current
 * directory. policy_load_file() uses the file's own directory. name is what diagnostics and
 * fng_policy.source call the input.
 */
int policy_load_file(const char *path, struct fng_policy **out, struct policy_diags *diags);
int policy_load_fd(int fd, const char *name, const char *base_dir, struct fng_policy **out,
		   struct policy_diags *diags);
int policy_load_buffer(const char *name, const char *buf, size_t len, const char *base_dir,
		       struct fng_policy **out, struct policy_diags *diags);
void policy_free(struct fng_policy *p);

/* The normalized policy as pretty-printed JSON (see docs/policy.md). 0, or -EIO. */
int policy_to_json(const struct fng_policy *p, FILE *f);

/* Names used in messages and JSON: "enforce", "deny", "microvm", "tcp", "inet6", ... */
const char *policy_mode_name(enum fng_mode m);
const char *policy_verdict_name(enum fng_verdict v);
const char *policy_env_kind_name(enum fng_env_kind k);
const char *policy_proto_name(enum fng_proto p);
/* NULL when the family has no name in policy files. */
const char *policy_family_name(int af);

/*
 * Values as policy files write them, checked or parsed on their own (the client checks a
 * function's name and version before it sends them; no messages, only the result).
 */
bool policy_function_name_valid(const char *s, size_t len);
bool policy_version_valid(const char *s, size_t len);
int policy_parse_int(const char *s, size_t len, int64_t *out);	    /* 0, -EINVAL, -ERANGE */
int policy_parse_size(const char *s, size_t len, uint64_t *out);    /* 0, -EINVAL, -ERANGE */
int policy_parse_duration(const char *s, size_t len, uint64_t *ns); /* 0, -EINVAL, -ERANGE */
/* Lexical clean, like Go's path.Clean: "a//b/./c/.." -> "a/b". NULL on ENOMEM. */
char *policy_path_clean(const char *s, size_t len);
/* Optimal string alignment distance; large when either string is longer than 64 bytes. */
unsigned policy_edit_distance(const char *a, const char *b);

/* The built-in baseline deny list, for documentation and `fnguard policy show`. */
struct policy_baseline_entry {
	const char *name;
	const char *reason;
};
extern const struct policy_baseline_entry policy_syscall_baseline[];
extern const size_t policy_syscall_baseline_len;

/* Policy sections, as a bitmask, for "what does this policy need / what can be enforced". */
enum {
	FNG_SEC_FILES = 1u << 0,
	FNG_SEC_EXEC = 1u << 1,
	FNG_SEC_FAMILIES = 1u << 2,
	FNG_SEC_EGRESS = 1u << 3, /* egress, loopback, bind */
	FNG_SEC_SYSCALLS = 1u << 4,
};

/* Sections of @p that restrict anything (a section that allows everything needs no backend). */
unsigned policy_sections_needed(const struct fng_policy *p);
/* A name for one section bit, and a description of what in @p makes it needed. */
const char *policy_section_name(unsigned sec);
void policy_section_describe(const struct fng_policy *p, unsigned sec, char *buf, size_t len);

#endif
