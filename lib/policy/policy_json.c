// SPDX-License-Identifier: Apache-2.0
/*
 * The normalized policy as JSON (`fnguard policy show`): every default filled in, sizes in
 * bytes, durations in nanoseconds, CIDRs normalized, the syscall deny set expanded.
 * The shape is documented in docs/policy.md; keys are only ever added.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "json.h"
#include "policy_int.h"

static void kv_str(struct json_writer *w, const char *k, const char *v)
{
	json_key(w, k);
	json_string(w, v);
}

static void kv_uint(struct json_writer *w, const char *k, uint64_t v)
{
	json_key(w, k);
	json_uint(w, v);
}

static void kv_bool(struct json_writer *w, const char *k, bool v)
{
	json_key(w, k);
	json_bool(w, v);
}

static void json_function(struct json_writer *w, const struct fng_function *f)
{
	json_key(w, "function");
	if (!f->present) {
		json_null(w);
		return;
	}
	json_object_begin(w);
	kv_str(w, "name", f->name);
	kv_str(w, "version", f->version);
	kv_str(w, "code", f->code);
	kv_str(w, "handler", f->handler);
	kv_str(w, "runtime", fng_runtime_name(f->runtime));
	json_key(w, "layers");
	json_array_begin(w);
	for (size_t i = 0; i < f->n_layers; i++)
		json_string(w, f->layers[i]);
	json_array_end(w);
	/* The names only: the values are secrets. */
	json_key(w, "env");
	json_array_begin(w);
	for (size_t i = 0; i < f->n_env; i++)
		json_string(w, f->env[i].name);
	json_array_end(w);
	json_object_end(w);
}

static void json_environment(struct json_writer *w, const struct fng_environment *e)
{
	json_key(w, "environment");
	json_object_begin(w);
	kv_str(w, "kind", policy_env_kind_name(e->kind));
	kv_bool(w, "reuse", e->reuse);
	kv_bool(w, "isolate_invocations", e->isolate_invocations);
	kv_uint(w, "max_invocations", e->max_invocations);
	kv_uint(w, "max_lifetime_ns", e->max_lifetime_ns);
	kv_uint(w, "provisioned", e->provisioned);
	json_object_end(w);
}

static void json_limits(struct json_writer *w, const struct fng_limits *l)
{
	json_key(w, "limits");
	json_object_begin(w);
	kv_uint(w, "memory_bytes", l->memory_bytes);
	kv_uint(w, "timeout_ns", l->timeout_ns);
	kv_uint(w, "pids", l->pids);
	kv_uint(w, "cpus", l->cpus);
	kv_uint(w, "tmp_size_bytes", l->tmp_size_bytes);
	json_object_end(w);
}

static void json_files(struct json_writer *w, const struct fng_files *f)
{
	size_t i;

	json_key(w, "files");
	json_object_begin(w);
	kv_str(w, "mode", policy_mode_name(f->mode));
	kv_str(w, "default", policy_verdict_name(f->def));
	json_key(w, "rules");
	json_array_begin(w);
	for (i = 0; i < f->n_rules; i++) {
		const struct fng_file_rule *r = &f->rules[i];

		json_object_begin(w);
		kv_str(w, "path", r->path);
		json_key(w, "access");
		json_array_begin(w);
		if (r->rights & FNG_RIGHT_READ)
			json_string(w, "read");
		if (r->rights & FNG_RIGHT_WRITE)
			json_string(w, "write");
		json_array_end(w);
		kv_uint(w, "rights", r->rights);
		kv_uint(w, "line", r->line);
		/* Given by the runtime baseline, not written in the file. */
		if (!r->line)
			kv_str(w, "source", "runtime");
		json_object_end(w);
	}
	json_array_end(w);
	json_object_end(w);
}

static void json_exec(struct json_writer *w, const struct fng_exec *e)
{
	size_t i;

	json_key(w, "exec");
	json_object_begin(w);
	kv_str(w, "mode", policy_mode_name(e->mode));
	kv_str(w, "default", policy_verdict_name(e->def));
	kv_str(w, "children", policy_verdict_name(e->children));
	json_key(w, "allow");
	json_array_begin(w);
	for (i = 0; i < e->n_allow; i++) {
		json_object_begin(w);
		kv_str(w, "path", e->allow[i].path);
		kv_uint(w, "line", e->allow[i].line);
		if (!e->allow[i].line)
			kv_str(w, "source", "runtime");
		json_object_end(w);
	}
	json_array_end(w);
	json_object_end(w);
}

static void json_egress_rule(struct json_writer *w, const struct fng_egress_rule *r)
{
	char cidr[64], addr[INET6_ADDRSTRLEN];
	size_t i;

	policy_cidr_format(r, cidr, sizeof(cidr));
	if (!inet_ntop(r->family, r->addr, addr, sizeof(addr)))
		addr[0] = '\0';
	json_object_begin(w);
	kv_str(w, "verdict", policy_verdict_name(r->verdict));
	kv_str(w, "to", cidr);
	kv_str(w, "family", policy_family_name(r->family));
	kv_str(w, "address", addr);
	kv_uint(w, "prefix_len", r->prefix_len);
	kv_str(w, "protocol", policy_proto_name(r->protocol));
	json_key(w, "ports");
	json_array_begin(w);
	for (i = 0; i < r->n_ports; i++) {
		json_object_begin(w);
		kv_uint(w, "first", r->ports[i].first);
		kv_uint(w, "last", r->ports[i].last);
		json_object_end(w);
	}
	json_array_end(w);
	kv_uint(w, "line", r->line);
	json_object_end(w);
}

static void json_network(struct json_writer *w, const struct fng_network *n)
{
	size_t i;
	int af;

	json_key(w, "network");
	json_object_begin(w);
	kv_str(w, "mode", policy_mode_name(n->mode));
	json_key(w, "egress");
	json_object_begin(w);
	kv_str(w, "default", policy_verdict_name(n->egress_default));
	json_key(w, "rules");
	json_array_begin(w);
	for (i = 0; i < n->n_egress; i++)
		json_egress_rule(w, &n->egress[i]);
	json_array_end(w);
	json_object_end(w);
	kv_str(w, "loopback", policy_verdict_name(n->loopback));
	kv_uint(w, "runtime_api_port", n->runtime_api_port);
	kv_str(w, "bind", policy_verdict_name(n->bind));
	json_key(w, "families");
	json_array_begin(w);
	for (af = 0; af < 64; af++)
		if ((n->families & (1ull << af)) && policy_family_name(af))
			json_string(w, policy_family_name(af));
	json_array_end(w);
	kv_uint(w, "families_mask", n->families);
	json_object_end(w);
}

static void json_syscalls(struct json_writer *w, const struct fng_syscalls *s)
{
	size_t i;

	json_key(w, "syscalls");
	json_object_begin(w);
	kv_str(w, "mode", policy_mode_name(s->mode));
	kv_str(w, "errno", s->errno_name);
	kv_uint(w, "errno_nr", (uint64_t)s->errno_nr);
	json_key(w, "deny");
	json_array_begin(w);
	for (i = 0; i < s->n_deny; i++) {
		json_object_begin(w);
		kv_str(w, "name", s->deny[i].name);
		kv_uint(w, "nr", (uint64_t)s->deny[i].nr);
		json_object_end(w);
	}
	json_array_end(w);
	json_object_end(w);
}

int policy_to_json(const struct fng_policy *p, FILE *f)
{
	struct json_writer w;
	int r;

	json_writer_init(&w, f, JSON_PRETTY);
	json_object_begin(&w);
	kv_str(&w, "apiVersion", FNG_POLICY_API_VERSION);
	kv_str(&w, "source", p->source);
	kv_str(&w, "mode", policy_mode_name(p->mode));
	json_function(&w, &p->function);
	json_environment(&w, &p->environment);
	json_limits(&w, &p->limits);
	json_files(&w, &p->files);
	json_exec(&w, &p->exec);
	json_network(&w, &p->network);
	json_syscalls(&w, &p->syscalls);
	json_object_end(&w);
	r = json_writer_finish(&w);
	if (r == 0 && (fputc('\n', f) == EOF || fflush(f) == EOF))
		r = -EIO;
	return r;
}
