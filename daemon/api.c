// SPDX-License-Identifier: Apache-2.0
/*
 * The API socket (proto/fnguard/v1/api.proto): a Unix stream socket, varint-delimited
 * Requests in, Responses out. This file handles requests, one handler per method in the
 * table methods[]; control.h lists the files below it (the connections and their limits, the
 * socket file, credentials and records).
 *
 * Who may do what: the socket is mode 0660, group fnguard when that group exists. Each
 * request has the rights of the process that sent its bytes (the kernel's SCM_CREDENTIALS,
 * never what a client says, nor who opened the connection): root, the daemon's own user and
 * the users that the group database makes members of group fnguard (as their primary group
 * or listed in it), looked up at each request, may do everything; anyone else who can
 * connect may only read status, functions and environments. Every call is recorded as an
 * `api_call` event; read-only ones and refusals coalesced per user and method (control_auth.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "kernel_support.h"
#include "api.h"
#include "clientfs.h"
#include "control.h"
#include "invocations.h"
#include "env_microvm.h"
#include "fsutil.h"
#include "pool.h"
#include "registry.h"
#include "log.h"

static Fnguard__V1__ErrorCode code_of(int err)
{
	switch (err) {
	case -EINVAL:
	case -EFBIG:
		return FNGUARD__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT;
	case -ENOENT:
		return FNGUARD__V1__ERROR_CODE__ERROR_CODE_NOT_FOUND;
	case -EEXIST:
		return FNGUARD__V1__ERROR_CODE__ERROR_CODE_ALREADY_EXISTS;
	case -EPERM:
	case -EACCES:
		return FNGUARD__V1__ERROR_CODE__ERROR_CODE_PERMISSION_DENIED;
	case -EOPNOTSUPP:
	case -ESHUTDOWN:
		return FNGUARD__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE;
	case -ENOSPC:
		return FNGUARD__V1__ERROR_CODE__ERROR_CODE_RESOURCE_EXHAUSTED;
	case -EMSGSIZE:
		return FNGUARD__V1__ERROR_CODE__ERROR_CODE_TOO_LARGE;
	default:
		return FNGUARD__V1__ERROR_CODE__ERROR_CODE_INTERNAL;
	}
}

/* @from: who sent the request (its credentials as the kernel attached them to it). */
static int api_register(struct fnguardd *d, const struct ucred *from, const Fnguard__V1__RegisterFunction *m,
			char *target, size_t tlen, char *why, size_t whylen)
{
	char *buf = NULL, *dir = NULL, *tmp;
	const char *name, *base;
	size_t len;
	struct fn *f;
	int err;

	struct client_id who = {.uid = from->uid, .gid = from->gid};
	char rwhy[256];

	if (m->policy_case == FNGUARD__V1__REGISTER_FUNCTION__POLICY_POLICY_PATH) {
		/* Read as the client may read it, never as root: no byte of a file the client
		 * could not read ever reaches a diagnostic, and a FIFO is refused, not waited on. */
		err = clientfs_read_file(&who, m->policy_path, FNG_POLICY_MAX_SIZE, &buf, &len, rwhy,
					 sizeof(rwhy));
		if (err) {
			snprintf(why, whylen, "%s, read as uid %u: %s", m->policy_path,
				 (unsigned)who.uid,
				 err == -EFBIG ? "larger than 1 MiB (FNG_POLICY_MAX_SIZE)" : rwhy);
			return err == -ENOENT || err == -EFBIG ? -EINVAL : err;
		}
		name = m->policy_path;
		tmp = strdup(m->policy_path);
		dir = tmp ? strdup(dirname(tmp)) : NULL;
		free(tmp);
		base = m->code_dir && *m->code_dir ? m->code_dir : dir;
	} else if (m->policy_case == FNGUARD__V1__REGISTER_FUNCTION__POLICY_POLICY_YAML) {
		buf = malloc(m->policy_yaml.len + 1);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, m->policy_yaml.data, m->policy_yaml.len);
		len = m->policy_yaml.len;
		name = m->policy_name && *m->policy_name ? m->policy_name : "(policy)";
		base = m->code_dir;
	} else {
		snprintf(why, whylen, "register_function: no policy given");
		return -EINVAL;
	}
	if (len > FNG_POLICY_MAX_SIZE) {
		snprintf(why, whylen, "%s: larger than %d bytes", name, FNG_POLICY_MAX_SIZE);
		free(buf);
		free(dir);
		return -EINVAL;
	}
	if (!base || base[0] != '/') {
		snprintf(why, whylen,
			 "register_function: code_dir must be an absolute directory "
			 "(the policy file's)");
		free(buf);
		free(dir);
		return -EINVAL;
	}
	err = function_register(d, buf, len, name, base, &who, &f, why, whylen);
	if (!err) {
		snprintf(target, tlen, "%s:%s", f->policy->function.name,
			 f->policy->function.version);
		log_info("registered %s (%s) for uid %u", target, name, from->uid);
		if (f->policy->environment.provisioned)
			envs_tick(d);
	}
	free(buf);
	free(dir);
	return err;
}

static void fn_to_proto(const struct fn *f, Fnguard__V1__Function *pf)
{
	fnguard__v1__function__init(pf);
	pf->name = f->policy->function.name;
	pf->version = f->policy->function.version;
	pf->code_dir = f->policy->function.code;
	pf->handler = f->policy->function.handler;
	pf->kind = f->policy->environment.kind == FNG_ENV_PROCESS
		       ? FNGUARD__V1__ENV_KIND__ENV_KIND_PROCESS
		       : FNGUARD__V1__ENV_KIND__ENV_KIND_MICROVM;
	pf->registered_unix_nano = f->registered_ns;
}

static void api_list_functions(struct client *c, uint64_t id)
{
	struct fnguardd *d = c->d;
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	Fnguard__V1__FunctionList fl = FNGUARD__V1__FUNCTION_LIST__INIT;
	size_t n = 0;

	for (struct fn *f = d->fns; f; f = f->next)
		n++;
	fl.functions = calloc(n ? n : 1, sizeof(*fl.functions));
	Fnguard__V1__Function *v = calloc(n ? n : 1, sizeof(*v));
	if (!fl.functions || !v) {
		free(fl.functions);
		free(v);
		client_send_error(c, id, FNGUARD__V1__ERROR_CODE__ERROR_CODE_INTERNAL,
				  "out of memory");
		return;
	}
	/* Oldest first. */
	for (struct fn *f = d->fns; f; f = f->next) {
		size_t i = n - 1 - fl.n_functions;

		fn_to_proto(f, &v[i]);
		fl.functions[i] = &v[i];
		fl.n_functions++;
	}
	r.id = id;
	r.result_case = FNGUARD__V1__RESPONSE__RESULT_FUNCTIONS;
	r.functions = &fl;
	client_send(c, &r);
	free(fl.functions);
	free(v);
}

static Fnguard__V1__EnvPhase phase_of(const struct env *e)
{
	switch (e->state) {
	case ENV_STARTING:
		return FNGUARD__V1__ENV_PHASE__ENV_PHASE_STARTING;
	case ENV_READY:
		return FNGUARD__V1__ENV_PHASE__ENV_PHASE_READY;
	case ENV_BUSY:
	case ENV_RESETTING:
		return FNGUARD__V1__ENV_PHASE__ENV_PHASE_BUSY;
	default:
		return FNGUARD__V1__ENV_PHASE__ENV_PHASE_RECYCLED;
	}
}

static void api_list_envs(struct client *c, uint64_t id)
{
	struct fnguardd *d = c->d;
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	Fnguard__V1__EnvList el = FNGUARD__V1__ENV_LIST__INIT;
	Fnguard__V1__Env *v = calloc(d->n_envs ? d->n_envs : 1, sizeof(*v));
	int64_t now = mono_ns();

	el.envs = calloc(d->n_envs ? d->n_envs : 1, sizeof(*el.envs));
	if (!v || !el.envs) {
		free(v);
		free(el.envs);
		client_send_error(c, id, FNGUARD__V1__ERROR_CODE__ERROR_CODE_INTERNAL,
				  "out of memory");
		return;
	}
	for (struct env *e = d->envs; e && el.n_envs < d->n_envs; e = e->next) {
		Fnguard__V1__Env *pe = &v[el.n_envs];

		fnguard__v1__env__init(pe);
		pe->id = e->id;
		pe->function = e->fn->policy->function.name;
		pe->version = e->fn->policy->function.version;
		pe->kind = e->fn->policy->environment.kind == FNG_ENV_PROCESS
			       ? FNGUARD__V1__ENV_KIND__ENV_KIND_PROCESS
			       : FNGUARD__V1__ENV_KIND__ENV_KIND_MICROVM;
		pe->state = phase_of(e);
		pe->age_ns = (uint64_t)(now - e->started_mono);
		pe->invocations = e->invocations;
		el.envs[el.n_envs++] = pe;
	}
	r.id = id;
	r.result_case = FNGUARD__V1__RESPONSE__RESULT_ENVS;
	r.envs = &el;
	client_send(c, &r);
	free(v);
	free(el.envs);
}

static void api_status(struct client *c, uint64_t id)
{
	struct fnguardd *d = c->d;
	const struct backend_status *st = backend_status_get();
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	Fnguard__V1__StatusResult sr = FNGUARD__V1__STATUS_RESULT__INIT;
	Fnguard__V1__Backend b[6], *bp[6];
	const struct backend_support *sup[4] = {&st->bpf_lsm, &st->kmod, &st->cgroup_net,
						&st->seccomp};
	static const char *const names[4] = {"bpf-lsm", "kmod", "cgroup-net", "seccomp"};
	char vmwhy[400] = "", kvmwhy[200] = "";

	for (int i = 0; i < 4; i++) {
		fnguard__v1__backend__init(&b[i]);
		b[i].name = (char *)names[i];
		b[i].available = sup[i]->ok;
		b[i].reason = (char *)(sup[i]->ok ? "" : sup[i]->why);
		bp[i] = &b[i];
	}
	/* microVM environments (their guest's kernel enforces), and whether KVM runs them. */
	fnguard__v1__backend__init(&b[4]);
	b[4].name = "microvm";
	b[4].available = !env_microvm_available(&d->cfg, vmwhy, sizeof(vmwhy));
	b[4].reason = vmwhy;
	fnguard__v1__backend__init(&b[5]);
	b[5].name = "kvm";
	b[5].available = env_microvm_accel_known(d) && !strcmp(env_microvm_accel(d), "kvm");
	if (!env_microvm_accel_known(d))
		snprintf(kvmwhy, sizeof(kvmwhy), "not probed yet (at the first microVM start)");
	else if (!b[5].available)
		snprintf(kvmwhy, sizeof(kvmwhy), "guests run on TCG: %s", env_microvm_accel_why(d));
	b[5].reason = kvmwhy;
	bp[4] = &b[4];
	bp[5] = &b[5];
	sr.n_backends = 6;
	sr.backends = bp;
	sr.version = FNGUARDD_VERSION;
	sr.uptime_ns = (uint64_t)(mono_ns() - d->started_mono);
	for (struct fn *f = d->fns; f; f = f->next)
		sr.functions++;
	sr.envs = d->n_envs;
	r.id = id;
	r.result_case = FNGUARD__V1__RESPONSE__RESULT_STATUS;
	r.status = &sr;
	client_send(c, &r);
}

static int api_subscribe(struct client *c, uint64_t id, const Fnguard__V1__Subscribe *m, char *why,
			 size_t whylen)
{
	struct fnguardd *d = c->d;
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	uint32_t mask = 0;

	for (size_t i = 0; i < m->n_types; i++) {
		if (telemetry_filter_add(&mask, m->types[i])) {
			snprintf(why, whylen, "unknown event type '%s' (%s)", m->types[i],
				 TELEMETRY_TYPES);
			return -EINVAL;
		}
	}
	if (!m->follow) {
		uint64_t saved = c->sub_id;

		c->sub_id = id;
		hub_replay(d->hub, mask, client_deliver, c);
		c->sub_id = saved;
		r.id = id;
		client_send(c, &r);
		return 0;
	}
	if (c->sub) {
		snprintf(why, whylen, "this connection already follows the stream");
		return -EEXIST;
	}
	c->sub_id = id;
	c->sub = hub_subscribe(d->hub, mask, true, client_deliver, c);
	if (!c->sub)
		return -ENOMEM;
	client_flush(c);
	return 0;
}

static void api_invoke(struct client *c, uint64_t id, const Fnguard__V1__Invoke *m, char *target,
		       size_t tlen, int *err, char *why, size_t whylen)
{
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	Fnguard__V1__InvokeResult ir = FNGUARD__V1__INVOKE_RESULT__INIT;
	char inv_id[64];
	struct fn *f;

	snprintf(target, tlen, "%s%s%s", m->name, m->version && *m->version ? ":" : "",
		 m->version ? m->version : "");
	if (m->payload.len > FNGUARD_PAYLOAD_MAX) {
		snprintf(why, whylen, "payload of %zu bytes is over the 6 MiB limit",
			 m->payload.len);
		*err = -EMSGSIZE;
		return;
	}
	f = function_find(c->d, m->name ? m->name : "", m->version);
	if (!f) {
		snprintf(why, whylen, "%s is not registered", target);
		*err = -ENOENT;
		return;
	}
	*err =
	    inv_submit(f, m->payload.data, m->payload.len, m->async, c, id, inv_id, sizeof(inv_id));
	if (!*err)
		env_dispatch(f);
	if (*err == -ENOSPC) {
		snprintf(why, whylen,
			 "%s: %u invocations are already waiting (queue full); retry "
			 "later",
			 target, f->queued);
		return;
	}
	if (*err) {
		snprintf(why, whylen, "%s", strerror(-*err));
		return;
	}
	snprintf(target + strlen(target), tlen - strlen(target), " %s", inv_id);
	if (m->async) {
		ir.invocation = inv_id;
		r.id = id;
		r.result_case = FNGUARD__V1__RESPONSE__RESULT_INVOKE;
		r.invoke = &ir;
		client_send(c, &r);
	}
}

/* ------------------------------------------------------------------ the methods */

/*
 * Each method's handler: 0, or -errno with @why (the error the client gets). It answers the
 * client itself on success; @target names what the call was about, for its api_call record.
 */
typedef int method_fn(struct client *c, const Fnguard__V1__Request *rq, const struct ucred *from,
		      char *target, size_t tlen, char *why, size_t whylen);

static int m_register(struct client *c, const Fnguard__V1__Request *rq, const struct ucred *from,
		      char *target, size_t tlen, char *why, size_t whylen)
{
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	int err = api_register(c->d, from, rq->register_function, target, tlen, why, whylen);

	if (!err) {
		r.id = rq->id;
		client_send(c, &r);
	}
	return err;
}

static int m_list_functions(struct client *c, const Fnguard__V1__Request *rq,
			    const struct ucred *from, char *target, size_t tlen, char *why,
			    size_t whylen)
{
	(void)from, (void)target, (void)tlen, (void)why, (void)whylen;
	api_list_functions(c, rq->id);
	return 0;
}

static int m_remove(struct client *c, const Fnguard__V1__Request *rq, const struct ucred *from,
		    char *target, size_t tlen, char *why, size_t whylen)
{
	const Fnguard__V1__RemoveFunction *m = rq->remove_function;
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	int err;

	snprintf(target, tlen, "%s%s%s", m->name, *m->version ? ":" : "", m->version);
	err = function_remove(c->d, m->name, m->version, envs_stop_function, why, whylen);
	if (!err) {
		log_info("removed %s for uid %u", target, from->uid);
		r.id = rq->id;
		client_send(c, &r);
	}
	return err;
}

static int m_invoke(struct client *c, const Fnguard__V1__Request *rq, const struct ucred *from,
		    char *target, size_t tlen, char *why, size_t whylen)
{
	int err = 0;

	(void)from;
	api_invoke(c, rq->id, rq->invoke, target, tlen, &err, why, whylen);
	return err;
}

static int m_list_envs(struct client *c, const Fnguard__V1__Request *rq, const struct ucred *from,
		       char *target, size_t tlen, char *why, size_t whylen)
{
	(void)from, (void)target, (void)tlen, (void)why, (void)whylen;
	api_list_envs(c, rq->id);
	return 0;
}

static int m_status(struct client *c, const Fnguard__V1__Request *rq, const struct ucred *from,
		    char *target, size_t tlen, char *why, size_t whylen)
{
	(void)from, (void)target, (void)tlen, (void)why, (void)whylen;
	api_status(c, rq->id);
	return 0;
}

static int m_subscribe(struct client *c, const Fnguard__V1__Request *rq, const struct ucred *from,
		       char *target, size_t tlen, char *why, size_t whylen)
{
	(void)from, (void)target, (void)tlen;
	return api_subscribe(c, rq->id, rq->subscribe, why, whylen);
}

/* The API's methods: their names (in records and errors), whether anyone who can connect may
 * call them (read-only) or only an admin (control_uid_admin), and their handlers. */
static const struct method {
	Fnguard__V1__Request__MethodCase which;
	const char *name;
	bool read_only;
	method_fn *handle;
} methods[] = {
    {FNGUARD__V1__REQUEST__METHOD_REGISTER_FUNCTION, "register_function", false, m_register},
    {FNGUARD__V1__REQUEST__METHOD_LIST_FUNCTIONS, "list_functions", true, m_list_functions},
    {FNGUARD__V1__REQUEST__METHOD_REMOVE_FUNCTION, "remove_function", false, m_remove},
    {FNGUARD__V1__REQUEST__METHOD_INVOKE, "invoke", false, m_invoke},
    {FNGUARD__V1__REQUEST__METHOD_LIST_ENVS, "list_envs", true, m_list_envs},
    {FNGUARD__V1__REQUEST__METHOD_STATUS, "status", true, m_status},
    {FNGUARD__V1__REQUEST__METHOD_SUBSCRIBE, "subscribe", false, m_subscribe},
};

/* @m's entry, or NULL (a method of a newer client). */
static const struct method *method_of(Fnguard__V1__Request__MethodCase m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].which == m)
			return &methods[i];
	return NULL;
}

static const char *method_name(Fnguard__V1__Request__MethodCase m)
{
	const struct method *e = method_of(m);

	return e ? e->name : "unknown";
}

static bool method_read_only(Fnguard__V1__Request__MethodCase m)
{
	const struct method *e = method_of(m);

	return e && e->read_only;
}

void control_request(struct client *c, const Fnguard__V1__Request *rq, const struct ucred *from)
{
	char target[256] = "", why[2048] = "";
	const struct method *m = method_of(rq->method_case);
	const char *method = method_name(rq->method_case);
	struct fnguardd *d = c->d;
	int err = 0;

	if (d->stopping) {
		err = -ESHUTDOWN;
		snprintf(why, sizeof(why), "the daemon is stopping");
	} else if (!method_read_only(rq->method_case) && !control_uid_admin(from->uid)) {
		err = -EPERM;
		snprintf(why, sizeof(why),
			 "%s: uid %u may not do this (root, the daemon's user "
			 "or members of group fnguard may)",
			 method, from->uid);
	} else if (!m) {
		err = -EINVAL;
		snprintf(why, sizeof(why), "unknown method (a newer client?)");
	} else {
		err = m->handle(c, rq, from, target, sizeof(target), why, sizeof(why));
	}
	if (err) {
		if (!why[0])
			snprintf(why, sizeof(why), "%s", strerror(-err));
		client_send_error(c, rq->id, code_of(err), "%s: %s", method, why);
	}
	/* Read-only requests and refusals are coalesced: a loop of them is one record a second. */
	control_record(d, from, method, target, err ? why : "ok",
		       err == -EPERM || (!err && method_read_only(rq->method_case)));
}

int control_open(struct fnguardd *d)
{
	struct group *gr = getgrnam("fnguard");
	struct control *ctl = calloc(1, sizeof(*ctl));
	int fd, err;

	if (!ctl)
		return -ENOMEM;
	ctl->listener.fd = ctl->idle_timer.fd = ctl->sock_dirfd = -1;
	d->control = ctl;
	err = control_socket_open(ctl, d->cfg.socket_path, gr ? gr->gr_gid : (gid_t)-1, &fd);
	if (err) {
		d->control = NULL;
		free(ctl);
		return err;
	}
	/* Results of synchronous invocations come back here, not by the environments calling
	 * the API layer. */
	d->invoke_done = client_invoke_done;
	err = control_conn_init(d);
	if (!err)
		err = control_listener_add(d, fd);
	if (err) {
		if (ctl->listener.fd != fd)
			close(fd);
		control_close(d);
	}
	return err;
}

void control_close(struct fnguardd *d)
{
	if (!d->control)
		return;
	control_conn_exit(d);
	control_socket_remove(d->control);
	free(d->control);
	d->control = NULL;
}
