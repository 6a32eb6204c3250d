// SPDX-License-Identifier: Apache-2.0
/*
 * Internals of the policy loader, private to lib/policy/ (tools/check-layers refuses an
 * include of this header anywhere else; what others need is in policy.h).
 *
 * Loading is three steps: policy_parse() turns YAML into a tree of pnodes that remembers
 * the line and column of every node; the section validators walk that tree against the
 * schema, report every problem and fill struct fng_policy; policy.c finishes the tables.
 */
#ifndef FNGUARD_POLICY_INT_H
#define FNGUARD_POLICY_INT_H

#include <stdarg.h>

#include "policy.h"

/* The schema nests 7 levels; anything much deeper is not a policy. */
#define POLICY_MAX_DEPTH 16
/* Longest accepted path (PATH_MAX, including the NUL) and path component (NAME_MAX). */
#define POLICY_PATH_MAX 4096
#define POLICY_NAME_MAX 255
/* Unknown-name hints cost a scan of every candidate: only the first errors get one. */
#define POLICY_HINT_LIMIT 100
/* x86_64 system call numbers are below this (456 in 2024). */
#define POLICY_SYSCALL_MAX 1024

enum pnode_kind {
	PNODE_SCALAR,
	PNODE_SEQ,
	PNODE_MAP,
};

/* The YAML 1.2 core schema type of a scalar; quoted scalars are always strings. */
enum pscalar_type {
	PSCALAR_NULL,
	PSCALAR_BOOL,
	PSCALAR_INT,
	PSCALAR_FLOAT,
	PSCALAR_STRING,
};

struct pnode {
	enum pnode_kind kind;
	uint32_t line, col; /* 1-based */
	/* scalar: NUL-terminated copy, len excludes the NUL (the value may contain NULs) */
	char *s;
	size_t len;
	bool plain;
	/* sequence: the items; mapping: key, value, key, value, ... */
	struct pnode **kids;
	size_t n, cap;
};

struct pctx {
	const char *file;
	struct policy_diags *diags;
	size_t first_diag; /* index in diags of this load's first entry */
	size_t nerr;	   /* problems found, including those not recorded */
	bool full;	   /* FNG_POLICY_MAX_DIAGS reached: stop looking */
	int oom;
	const char *base_dir;
	struct fng_policy *p;
	/* the key path of the value being checked, e.g. "network.egress.allow[2].to" */
	char path[256];
	size_t pathlen;
	/* the item that listed each syscall in syscalls.deny / syscalls.allow, or NULL */
	const struct pnode *sc_deny[POLICY_SYSCALL_MAX];
	const struct pnode *sc_allow[POLICY_SYSCALL_MAX];
	/* quote buffers for messages: a message may quote up to four values */
	char qbuf[4][320];
	unsigned qnext;
};

/* policy_diag.c */
void pctx_report(struct pctx *c, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A note to the problem reported last (not counted as one). */
void pctx_note(struct pctx *c, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A problem with the value at n, prefixed with the current key path. */
void pctx_err(struct pctx *c, const struct pnode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* s[0..len) for a message: control characters escaped, long values cut with "...". */
const char *pctx_quote(struct pctx *c, const char *s, size_t len);
/* "first at line L", or "first at column C" when both are on one line. */
const char *pctx_first_at(struct pctx *c, const struct pnode *first, const struct pnode *dup);
size_t pctx_push(struct pctx *c, const char *key);
size_t pctx_push_index(struct pctx *c, size_t i);
void pctx_pop(struct pctx *c, size_t saved);
void policy_diags_finish(struct pctx *c);

/*
 * Runs the statement with the key path extended by key, when the key is present. The
 * statement may "break" out of itself.
 */
#define WITH_KEY(c, key, n, ...)                                                                   \
	do {                                                                                       \
		if (n) {                                                                           \
			size_t saved_ = pctx_push(c, key);                                         \
			do {                                                                       \
				__VA_ARGS__;                                                       \
			} while (0);                                                               \
			pctx_pop(c, saved_);                                                       \
		}                                                                                  \
	} while (0)

/* policy_parse.c */
int policy_parse(struct pctx *c, const char *buf, size_t len, struct pnode **root);
void pnode_free(struct pnode *n);

/* policy_schema.c: type checks and typed getters; each reports its own error, returns ok. */
enum pscalar_type pnode_scalar_type(const struct pnode *n);
const char *pnode_type_name(const struct pnode *n);
bool pnode_expect_map(struct pctx *c, const struct pnode *n);
bool pnode_expect_seq(struct pctx *c, const struct pnode *n);
/*
 * Matches the keys of map against names[0..n): reports unknown keys (with a hint),
 * duplicate keys and keys that are not strings; vals[i] is the value of names[i] or NULL.
 */
void pmap_collect(struct pctx *c, const struct pnode *map, const char *const *names, size_t n,
		  const struct pnode **vals);
void pmap_require(struct pctx *c, const struct pnode *map, const char *name,
		  const struct pnode *val);
bool pnode_as_string(struct pctx *c, const struct pnode *n);
bool pnode_as_bool(struct pctx *c, const struct pnode *n, bool *out);
bool pnode_as_int(struct pctx *c, const struct pnode *n, int64_t min, int64_t max, int64_t *out);
/* Index of the value among choices[0..n). */
bool pnode_as_enum(struct pctx *c, const struct pnode *n, const char *const *choices,
		   size_t nchoices, int *out);
bool pnode_as_mode(struct pctx *c, const struct pnode *n, enum fng_mode *out);
bool pnode_as_verdict(struct pctx *c, const struct pnode *n, enum fng_verdict *out);
/* An absolute, normalized path; *out is a malloc'd copy. */
bool pnode_as_path(struct pctx *c, const struct pnode *n, char **out);
bool pnode_as_size(struct pctx *c, const struct pnode *n, uint64_t *out);
bool pnode_as_duration(struct pctx *c, const struct pnode *n, uint64_t *out);
/* Walks a sequence: calls fn for every item with the key path set to "...[i]". */
void pseq_each(struct pctx *c, const struct pnode *seq,
	       void (*fn)(struct pctx *c, const struct pnode *item, size_t i, void *arg),
	       void *arg);

/* policy_value.c: pure parsers, no messages (those used outside lib/policy are in policy.h). */
enum policy_path_problem {
	PATH_OK,
	PATH_EMPTY,
	PATH_RELATIVE,
	PATH_NUL,
	PATH_TOO_LONG,
	PATH_NOT_NORMALIZED,
};
enum policy_path_problem policy_path_check(const char *s, size_t len);

enum policy_cidr_problem {
	CIDR_OK,
	CIDR_BAD_ADDRESS,
	CIDR_BAD_PREFIX,
	CIDR_HOST_BITS,	    /* r holds the address with the host bits cleared */
	CIDR_MAPPED_PREFIX, /* IPv4-mapped address with a prefix shorter than /96 */
};
/* Parses "ADDR" or "ADDR/LEN" into r->family, addr, prefix_len; maps ::ffff:a.b.c.d to IPv4. */
enum policy_cidr_problem policy_parse_cidr(const char *s, size_t len, struct fng_egress_rule *r);
/* "10.0.0.0/8", "2001:db8::/32" */
void policy_cidr_format(const struct fng_egress_rule *r, char *buf, size_t size);

/* errno number of "EPERM" etc., or -1. */
int policy_errno_lookup(const char *name);
const char *policy_errno_name(int nr);
/* AF_* number of "inet" etc., or -1. */
int policy_family_lookup(const char *name);
/* The known name closest to a misspelt one, or NULL. */
const char *policy_errno_hint(const char *word);
const char *policy_family_hint(const char *word);

/* policy_suggest() and policy_edit_distance() are in policy.h. */
bool policy_suggest_close(const char *word, unsigned distance);

/* Sections (policy_validate.c, policy_network.c, policy_syscalls.c). */
void policy_validate(struct pctx *c, const struct pnode *root);
void policy_network_validate(struct pctx *c, const struct pnode *n);
void policy_syscalls_validate(struct pctx *c, const struct pnode *n);
/* policy_runtime.c: function.handler for a runtime, function.env, and the runtime baseline
 * (the paths and the Runtime API a runtime's environment is given without rules). */
void policy_runtime_handler(struct pctx *c, const struct pnode *n, struct fng_function *f);
void policy_function_env(struct pctx *c, const struct pnode *n, struct fng_function *f);
void policy_runtime_baseline(struct pctx *c);
/* Fills p->syscalls.deny from the baseline and the lists seen. 0 or -errno. */
int policy_syscalls_compile(struct pctx *c);

#endif
