// SPDX-License-Identifier: Apache-2.0
/*
 * The API socket (proto/fnguard/v1/api.proto): a Unix stream socket, varint-delimited
 * Requests in, Responses out. Every client's credentials come from SO_PEERCRED, never from
 * what it says; every call is recorded as an `api_call` event.
 *
 * Who may do what: the socket is mode 0660 (group fnguard when it exists). Root, the daemon's
 * own user and members of that group (primary group) may do everything; anyone else who can
 * connect may only read status, functions and environments.
 *
 * Output is buffered per client and written when the socket is writable, so a client that
 * does not read never blocks the daemon. Subscriptions stop filling a buffer past
 * CLIENT_SUB_MAX: the hub counts what that subscriber lost and tells it with a `loss` event
 * once it reads again.
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

#include "backend.h"
#include "clientfs.h"
#include "fnguardd.h"
#include "fsutil.h"
#include "log.h"

/* Subscription events stop being queued for a client past this many unsent bytes. */
#define CLIENT_SUB_MAX (4u << 20)
#define CLIENTS_MAX 256

struct client {
	struct client *next;
	struct watch w;
	struct ucred cred;
	bool admin;
	bool dead;
	struct wire_decoder dec;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	struct hub_sub *sub;
	uint64_t sub_id;
};

static struct watch listener = {.fd = -1};
static struct client *clients;
static unsigned n_clients;
static gid_t fnguard_gid = (gid_t)-1;

static void client_close(struct client *c)
{
	struct client **pp;

	for (pp = &clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (c->sub)
		hub_unsubscribe(D.hub, c->sub);
	inv_client_gone(c);
	loop_del(&c->w);
	close(c->w.fd);
	wire_decoder_free(&c->dec);
	free(c->out);
	free(c);
	n_clients--;
}

static size_t client_pending(const struct client *c)
{
	return c->out_len - c->out_off;
}

/* Write what can be written now; the rest waits for EPOLLOUT. Never calls into the hub. */
static void client_write(struct client *c)
{
	while (client_pending(c)) {
		ssize_t n = send(c->w.fd, c->out + c->out_off, client_pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			c->dead = true;
			shutdown(c->w.fd, SHUT_RDWR); /* closed from the loop */
			return;
		}
		c->out_off += (size_t)n;
	}
	if (!client_pending(c))
		c->out_off = c->out_len = 0;
	loop_mod(&c->w, EPOLLIN | (client_pending(c) ? EPOLLOUT : 0));
}

/* client_write(), then a subscriber with room again hears of what it lost. */
static void client_flush(struct client *c)
{
	client_write(c);
	if (c->sub && !c->dead && client_pending(c) < CLIENT_SUB_MAX / 2)
		hub_sub_writable(D.hub, c->sub);
}

static int client_queue(struct client *c, const uint8_t *buf, size_t len)
{
	if (c->dead)
		return -EPIPE;
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 65536;
		uint8_t *p;

		/* Drop what was sent before growing. */
		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, client_pending(c));
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}

int client_send(struct client *c, Fnguard__V1__Response *r)
{
	uint8_t *buf;
	size_t len;
	int err = wire_frame_pack(&r->base, 0, &buf, &len);

	if (err)
		return err;
	err = client_queue(c, buf, len);
	free(buf);
	if (!err)
		client_flush(c);
	return err;
}

static Fnguard__V1__Error *error_make(Fnguard__V1__Error *e, Fnguard__V1__ErrorCode code,
				      char *msg)
{
	fnguard__v1__error__init(e);
	e->code = code;
	e->message = msg;
	return e;
}

void client_send_error(struct client *c, uint64_t id, Fnguard__V1__ErrorCode code,
		       const char *fmt, ...)
{
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	Fnguard__V1__Error e;
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r.id = id;
	r.error = error_make(&e, code, msg);
	client_send(c, &r);
}

void client_invoke_done(struct client *c, uint64_t req_id, const struct inv *inv,
			Fnguard__V1__InvokeResult *res)
{
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;

	r.id = req_id;
	r.result_case = FNGUARD__V1__RESPONSE__RESULT_INVOKE;
	r.invoke = res;
	client_send(c, &r);
}

/* ------------------------------------------------------------------ subscriptions */

static int client_deliver(void *ctx, const Fnguard__V1__Event *ev)
{
	struct client *c = ctx;
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	uint8_t *buf;
	size_t len;
	int err;

	if (c->dead)
		return -EPIPE;
	if (client_pending(c) >= CLIENT_SUB_MAX)
		return -ENOBUFS;
	r.id = c->sub_id;
	r.more = true;
	r.result_case = FNGUARD__V1__RESPONSE__RESULT_EVENT;
	r.event = (Fnguard__V1__Event *)ev;
	err = wire_frame_pack(&r.base, 0, &buf, &len);
	if (err)
		return err;
	err = client_queue(c, buf, len);
	free(buf);
	if (!err)
		client_write(c);
	return err;
}

/* ------------------------------------------------------------------ methods */

static void api_record(const struct client *c, const char *method, const char *target,
		       const char *result)
{
	struct telemetry_event *t = ev_scratch();

	telemetry_api_call(t, c->cred.uid, c->cred.gid, (uint32_t)c->cred.pid, method, target,
			   result);
	emit(t, NULL, NULL, NULL);
}

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

static int api_register(struct client *c, const Fnguard__V1__RegisterFunction *m, char *target,
			size_t tlen, char *why, size_t whylen)
{
	char *buf = NULL, *dir = NULL, *tmp;
	const char *name, *base;
	size_t len;
	struct fn *f;
	int err;

	struct client_id who = {.uid = c->cred.uid, .gid = c->cred.gid};
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
		snprintf(why, whylen, "register_function: code_dir must be an absolute directory "
				      "(the policy file's)");
		free(buf);
		free(dir);
		return -EINVAL;
	}
	err = function_register(buf, len, name, base, &who, &f, why, whylen);
	if (!err) {
		snprintf(target, tlen, "%s:%s", f->policy->function.name, f->policy->function.version);
		log_info("registered %s (%s) for uid %u", target, name, c->cred.uid);
		if (f->policy->environment.provisioned)
			envs_tick();
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
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	Fnguard__V1__FunctionList fl = FNGUARD__V1__FUNCTION_LIST__INIT;
	size_t n = 0;

	for (struct fn *f = D.fns; f; f = f->next)
		n++;
	fl.functions = calloc(n ? n : 1, sizeof(*fl.functions));
	Fnguard__V1__Function *v = calloc(n ? n : 1, sizeof(*v));
	if (!fl.functions || !v) {
		free(fl.functions);
		free(v);
		client_send_error(c, id, FNGUARD__V1__ERROR_CODE__ERROR_CODE_INTERNAL, "out of memory");
		return;
	}
	/* Oldest first. */
	for (struct fn *f = D.fns; f; f = f->next) {
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
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	Fnguard__V1__EnvList el = FNGUARD__V1__ENV_LIST__INIT;
	Fnguard__V1__Env *v = calloc(D.n_envs ? D.n_envs : 1, sizeof(*v));
	int64_t now = mono_ns();

	el.envs = calloc(D.n_envs ? D.n_envs : 1, sizeof(*el.envs));
	if (!v || !el.envs) {
		free(v);
		free(el.envs);
		client_send_error(c, id, FNGUARD__V1__ERROR_CODE__ERROR_CODE_INTERNAL, "out of memory");
		return;
	}
	for (struct env *e = D.envs; e && el.n_envs < D.n_envs; e = e->next) {
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
	b[4].available = !env_microvm_available(vmwhy, sizeof(vmwhy));
	b[4].reason = vmwhy;
	fnguard__v1__backend__init(&b[5]);
	b[5].name = "kvm";
	b[5].available = env_microvm_accel_known() && !strcmp(env_microvm_accel(), "kvm");
	if (!env_microvm_accel_known())
		snprintf(kvmwhy, sizeof(kvmwhy), "not probed yet (at the first microVM start)");
	else if (!b[5].available)
		snprintf(kvmwhy, sizeof(kvmwhy), "guests run on TCG: %s", env_microvm_accel_why());
	b[5].reason = kvmwhy;
	bp[4] = &b[4];
	bp[5] = &b[5];
	sr.n_backends = 6;
	sr.backends = bp;
	sr.version = FNGUARDD_VERSION;
	sr.uptime_ns = (uint64_t)(mono_ns() - D.started_mono);
	for (struct fn *f = D.fns; f; f = f->next)
		sr.functions++;
	sr.envs = D.n_envs;
	r.id = id;
	r.result_case = FNGUARD__V1__RESPONSE__RESULT_STATUS;
	r.status = &sr;
	client_send(c, &r);
}

static int api_subscribe(struct client *c, uint64_t id, const Fnguard__V1__Subscribe *m,
			 char *why, size_t whylen)
{
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
		hub_replay(D.hub, mask, client_deliver, c);
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
	c->sub = hub_subscribe(D.hub, mask, true, client_deliver, c);
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
	if (m->payload.len > (6u << 20)) {
		snprintf(why, whylen, "payload of %zu bytes is over the 6 MiB limit", m->payload.len);
		*err = -EMSGSIZE;
		return;
	}
	f = function_find(m->name ? m->name : "", m->version);
	if (!f) {
		snprintf(why, whylen, "%s is not registered", target);
		*err = -ENOENT;
		return;
	}
	*err = inv_submit(f, m->payload.data, m->payload.len, m->async, c, id, inv_id,
			  sizeof(inv_id));
	if (*err == -ENOSPC) {
		snprintf(why, whylen, "%s: %u invocations are already waiting (queue full); retry "
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

static const char *method_name(Fnguard__V1__Request__MethodCase m)
{
	switch (m) {
	case FNGUARD__V1__REQUEST__METHOD_REGISTER_FUNCTION:
		return "register_function";
	case FNGUARD__V1__REQUEST__METHOD_LIST_FUNCTIONS:
		return "list_functions";
	case FNGUARD__V1__REQUEST__METHOD_REMOVE_FUNCTION:
		return "remove_function";
	case FNGUARD__V1__REQUEST__METHOD_INVOKE:
		return "invoke";
	case FNGUARD__V1__REQUEST__METHOD_LIST_ENVS:
		return "list_envs";
	case FNGUARD__V1__REQUEST__METHOD_STATUS:
		return "status";
	case FNGUARD__V1__REQUEST__METHOD_SUBSCRIBE:
		return "subscribe";
	default:
		return "unknown";
	}
}

static bool method_read_only(Fnguard__V1__Request__MethodCase m)
{
	return m == FNGUARD__V1__REQUEST__METHOD_LIST_FUNCTIONS ||
	       m == FNGUARD__V1__REQUEST__METHOD_LIST_ENVS ||
	       m == FNGUARD__V1__REQUEST__METHOD_STATUS;
}

static void client_request(struct client *c, const Fnguard__V1__Request *rq)
{
	char target[256] = "", why[2048] = "";
	const char *method = method_name(rq->method_case);
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	int err = 0;

	if (D.stopping) {
		err = -ESHUTDOWN;
		snprintf(why, sizeof(why), "the daemon is stopping");
	} else if (!c->admin && !method_read_only(rq->method_case)) {
		err = -EPERM;
		snprintf(why, sizeof(why), "%s: uid %u may not do this (root, the daemon's user "
					   "or group fnguard may)",
			 method, c->cred.uid);
	}
	if (err)
		goto reply;
	switch (rq->method_case) {
	case FNGUARD__V1__REQUEST__METHOD_REGISTER_FUNCTION:
		err = api_register(c, rq->register_function, target, sizeof(target), why,
				   sizeof(why));
		if (!err) {
			r.id = rq->id;
			client_send(c, &r);
		}
		break;
	case FNGUARD__V1__REQUEST__METHOD_LIST_FUNCTIONS:
		api_list_functions(c, rq->id);
		break;
	case FNGUARD__V1__REQUEST__METHOD_REMOVE_FUNCTION:
		snprintf(target, sizeof(target), "%s%s%s", rq->remove_function->name,
			 *rq->remove_function->version ? ":" : "", rq->remove_function->version);
		err = function_remove(rq->remove_function->name, rq->remove_function->version, why,
				      sizeof(why));
		if (!err) {
			log_info("removed %s for uid %u", target, c->cred.uid);
			r.id = rq->id;
			client_send(c, &r);
		}
		break;
	case FNGUARD__V1__REQUEST__METHOD_INVOKE:
		api_invoke(c, rq->id, rq->invoke, target, sizeof(target), &err, why, sizeof(why));
		break;
	case FNGUARD__V1__REQUEST__METHOD_LIST_ENVS:
		api_list_envs(c, rq->id);
		break;
	case FNGUARD__V1__REQUEST__METHOD_STATUS:
		api_status(c, rq->id);
		break;
	case FNGUARD__V1__REQUEST__METHOD_SUBSCRIBE:
		err = api_subscribe(c, rq->id, rq->subscribe, why, sizeof(why));
		break;
	default:
		err = -EINVAL;
		snprintf(why, sizeof(why), "unknown method (a newer client?)");
	}
reply:
	if (err) {
		if (!why[0])
			snprintf(why, sizeof(why), "%s", strerror(-err));
		client_send_error(c, rq->id, code_of(err), "%s: %s", method, why);
	}
	api_record(c, method, target, err ? why : "ok");
}

static void client_event(struct watch *w, uint32_t events)
{
	struct client *c = (struct client *)((char *)w - offsetof(struct client, w));
	const uint8_t *frame;
	size_t len;
	long n;
	int r;

	if (events & EPOLLOUT)
		client_flush(c);
	if (c->dead) {
		client_close(c);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = wire_decoder_read(&c->dec, w->fd);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		if (n < 0 && n != -ECONNRESET)
			log_debug("client pid %d: %s", c->cred.pid, wire_strerror((int)n));
		client_close(c);
		return;
	}
	while ((r = wire_decoder_next(&c->dec, &frame, &len)) == 1) {
		Fnguard__V1__Request *rq = fnguard__v1__request__unpack(NULL, len, frame);

		if (!rq) {
			client_send_error(c, 0, FNGUARD__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT,
					  "malformed request: not a fnguard.v1.Request");
			api_record(c, "unknown", "", "malformed request");
			c->dead = true;
			break;
		}
		client_request(c, rq);
		fnguard__v1__request__free_unpacked(rq, NULL);
	}
	if (r < 0) {
		client_send_error(c, 0, FNGUARD__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT,
				  "framing: %s", wire_decoder_error(&c->dec));
		c->dead = true;
	}
	if (c->dead) {
		/* Say why before closing (best effort), then close. */
		client_flush(c);
		client_close(c);
	}
}

static void listener_event(struct watch *w, uint32_t events)
{
	for (;;) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		socklen_t sl = sizeof(struct ucred);
		struct client *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("accept");
			return;
		}
		if (n_clients >= CLIENTS_MAX) {
			log_warnx("too many clients (%d): connection refused", CLIENTS_MAX);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &sl)) {
			log_warn("client credentials");
			free(c);
			close(fd);
			continue;
		}
		c->admin = c->cred.uid == 0 || c->cred.uid == geteuid() ||
			   (fnguard_gid != (gid_t)-1 && c->cred.gid == fnguard_gid);
		c->w.fd = fd;
		c->w.fn = client_event;
		wire_decoder_init(&c->dec, 0);
		if (loop_add(&c->w, EPOLLIN)) {
			log_warn("epoll");
			wire_decoder_free(&c->dec);
			free(c);
			close(fd);
			continue;
		}
		c->next = clients;
		clients = c;
		n_clients++;
	}
}

int control_open(void)
{
	const char *path = D.cfg.socket_path;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct group *gr = getgrnam("fnguard");
	char dir[sizeof(sa.sun_path)], *slash;
	int fd, probe;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warnx("socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) && errno != EEXIST) {
			log_warn("cannot create %s", dir);
			return -errno;
		}
	}
	/* A socket file that answers belongs to a running daemon; one that does not is stale. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && !connect(probe, (struct sockaddr *)&sa, sizeof(sa))) {
		close(probe);
		log_warnx("%s: another fnguardd is running", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64)) {
		log_warn("cannot listen on %s", path);
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	if (gr) {
		fnguard_gid = gr->gr_gid;
		if (chown(path, (uid_t)-1, gr->gr_gid))
			log_warn("chown %s", path);
	}
	if (chmod(path, 0660))
		log_warn("chmod %s", path);
	listener.fd = fd;
	listener.fn = listener_event;
	if (loop_add(&listener, EPOLLIN)) {
		close(fd);
		return -errno;
	}
	return 0;
}

void control_close(void)
{
	while (clients) {
		struct client *c = clients;

		/* Followers get the end of their stream. */
		if (c->sub) {
			Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;

			r.id = c->sub_id;
			client_send(c, &r);
		}
		fcntl(c->w.fd, F_SETFL, 0);
		if (client_pending(c) && !c->dead)
			(void)!write(c->w.fd, c->out + c->out_off, client_pending(c));
		client_close(c);
	}
	if (listener.fd >= 0) {
		loop_del(&listener);
		close(listener.fd);
		listener.fd = -1;
		unlink(D.cfg.socket_path);
	}
}
