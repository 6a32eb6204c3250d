// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "event_json.h"
#include "telemetry.h"

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void event_ctx_init(struct event_ctx *c, const struct fng_policy *p, const char *env)
{
	static char host[256];

	memset(c, 0, sizeof(*c));
	if (!host[0] && gethostname(host, sizeof(host) - 1))
		strcpy(host, "unknown");
	c->policy = p;
	c->host = host;
	c->env = env;
	c->boot_to_real_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
}

const char *event_class_name(unsigned class)
{
	static const char *const names[] = {
		[FNG_CLASS_FILE] = "file",
		[FNG_CLASS_EXEC] = "exec",
		[FNG_CLASS_NETWORK] = "network",
		[FNG_CLASS_SYSCALL] = "syscall",
	};

	return class < sizeof(names) / sizeof(names[0]) && names[class] ? names[class] : "unknown";
}

const char *event_op_name(unsigned op)
{
	static const char *const names[] = {
		[FNG_OP_OPEN] = "open",	      [FNG_OP_CREATE] = "create",
		[FNG_OP_UNLINK] = "unlink",   [FNG_OP_RENAME] = "rename",
		[FNG_OP_LINK] = "link",	      [FNG_OP_EXEC] = "exec",
		[FNG_OP_MMAP] = "mmap",	      [FNG_OP_CONNECT] = "connect",
		[FNG_OP_SENDMSG] = "sendmsg", [FNG_OP_BIND] = "bind",
		[FNG_OP_SOCKET] = "socket",   [FNG_OP_MKDIR] = "mkdir",
		[FNG_OP_RMDIR] = "rmdir",     [FNG_OP_SYMLINK] = "symlink",
		[FNG_OP_MKNOD] = "mknod",     [FNG_OP_SETATTR] = "setattr",
		[FNG_OP_TRUNCATE] = "truncate", [FNG_OP_MPROTECT] = "mprotect",
		[FNG_OP_SYSCALL] = "syscall",
	};

	return op < sizeof(names) / sizeof(names[0]) && names[op] ? names[op] : "unknown";
}

/* Position of egress entry @i among the entries with the same verdict. */
static size_t egress_position(const struct fng_network *n, size_t i)
{
	size_t pos = 0;

	for (size_t k = 0; k < i && k < n->n_egress; k++)
		if (n->egress[k].verdict == n->egress[i].verdict)
			pos++;
	return pos;
}

void event_rule_name(const struct fng_policy *p, const struct fng_event *e, char *buf, size_t len)
{
	const char *sec = e->class == FNG_CLASS_FILE ? "files" : e->class == FNG_CLASS_EXEC ? "exec"
						   : e->class == FNG_CLASS_SYSCALL ? "syscalls"
										   : "network.egress";

	switch (e->rule_kind) {
	case FNG_RULE_DEFAULT:
		snprintf(buf, len, "%s.default", sec);
		return;
	case FNG_RULE_CHILDREN:
		snprintf(buf, len, "exec.children");
		return;
	case FNG_RULE_LOOPBACK:
		snprintf(buf, len, "network.loopback");
		return;
	case FNG_RULE_BIND:
		snprintf(buf, len, "network.bind");
		return;
	case FNG_RULE_FAMILIES:
		snprintf(buf, len, "network.families");
		return;
	case FNG_RULE_NO_PATH:
		snprintf(buf, len, "exec.default (file without a path)");
		return;
	case FNG_RULE_TOO_DEEP:
		snprintf(buf, len, "%s (path deeper than %d levels: denied)", sec,
			 FNG_MAX_PATH_DEPTH);
		return;
	case FNG_RULE_CROSS:
		snprintf(buf, len, "files (rename or link would gain rights)");
		return;
	case FNG_RULE_RAW:
		snprintf(buf, len, "network.egress (raw and ICMP sockets bypass egress rules)");
		return;
	case FNG_RULE_ENTRY:
		break;
	default:
		snprintf(buf, len, "%s (rule kind %u)", sec, e->rule_kind);
		return;
	}
	if (e->class == FNG_CLASS_FILE && p && e->rule_index < p->files.n_rules)
		snprintf(buf, len, "files.rules[%u] (%s)", e->rule_index,
			 p->files.rules[e->rule_index].path);
	else if (e->class == FNG_CLASS_EXEC && p && e->rule_index < p->exec.n_allow)
		snprintf(buf, len, "exec.allow[%u] (%s)", e->rule_index,
			 p->exec.allow[e->rule_index].path);
	else if (e->class == FNG_CLASS_NETWORK && p && e->rule_index < p->network.n_egress)
		snprintf(buf, len, "network.egress.%s[%zu] (line %u)",
			 p->network.egress[e->rule_index].verdict == FNG_VERDICT_ALLOW ? "allow"
										: "deny",
			 egress_position(&p->network, e->rule_index),
			 p->network.egress[e->rule_index].line);
	else if (e->class == FNG_CLASS_SYSCALL)
		snprintf(buf, len, "syscalls.deny");
	else
		snprintf(buf, len, "%s[%u]", sec, e->rule_index);
}

static const char *proto_name(unsigned proto)
{
	return proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 0 ? "any" : "other";
}

void event_target_text(const struct fng_event *e, char *buf, size_t len)
{
	const struct fng_addr *a = &e->target.addr;
	char ip[INET6_ADDRSTRLEN];

	switch (e->target_kind) {
	case FNG_TARGET_PATH:
	case FNG_TARGET_TEXT:
		snprintf(buf, len, "%.*s", FNG_TARGET_LEN, e->target.path);
		return;
	case FNG_TARGET_ADDR:
		if (e->op == FNG_OP_SOCKET) {
			const char *fam = policy_family_name(a->family);

			if (fam)
				snprintf(buf, len, "family=%s type=%u protocol=%u", fam, a->port,
					 a->protocol);
			else
				snprintf(buf, len, "family=%u type=%u protocol=%u", a->family,
					 a->port, a->protocol);
			return;
		}
		if (a->family == AF_INET) {
			inet_ntop(AF_INET, a->addr, ip, sizeof(ip));
			snprintf(buf, len, "%s:%u/%s", ip, a->port, proto_name(a->protocol));
		} else {
			inet_ntop(AF_INET6, a->addr, ip, sizeof(ip));
			snprintf(buf, len, "[%s]:%u/%s", ip, a->port, proto_name(a->protocol));
		}
		return;
	default:
		buf[0] = 0;
	}
}

/* The common fields of @c's events; the sequence number is counted here. */
static void ctx_stamp(struct event_ctx *c, struct telemetry_event *t)
{
	struct telemetry_origin o = {.host = c->host, .env = c->env};

	if (c->policy && c->policy->function.present) {
		o.function = c->policy->function.name;
		o.version = c->policy->function.version;
	}
	telemetry_stamp(t, &o, ++c->seq);
}

/* The rendering is telemetry.c's, so that `fnguard run` and `fnguard events --json` agree. */
int event_json_write(FILE *f, struct event_ctx *c, const struct fng_event *e)
{
	struct telemetry_event t;

	telemetry_denial(&t, e, c->policy, c->boot_to_real_ns);
	ctx_stamp(c, &t);
	return telemetry_json_write(f, &t.ev);
}

int event_json_write_loss(FILE *f, struct event_ctx *c, uint64_t lost, const char *where)
{
	struct telemetry_event t;

	telemetry_loss(&t, lost, where);
	ctx_stamp(c, &t);
	return telemetry_json_write(f, &t.ev);
}
