/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the API socket's files share:
 *
 *   control.c       requests: who may call what, the methods, control_open/close
 *   control_conn.c  connections: admission (per-user limits), reading with each sender's
 *                   credentials, bounded input and output, the idle timeout
 *   control_sock.c  the socket file: its directory, a stale socket, its mode and group
 *   control_auth.c  admin rights from the group database; the api_call records
 */
#ifndef FNGUARD_CONTROL_H
#define FNGUARD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fnguard_api.h" /* FNGUARD_PAYLOAD_MAX: an invocation's payload */
#include "fnguardd.h"

struct client {
	struct client *next;
	struct fnguardd *d; /* the daemon it is connected to */
	struct watch w;
	uint32_t armed;	   /* the epoll events asked for */
	struct ucred cred; /* SO_PEERCRED: who connected (limits per user, logs) */
	bool privileged;   /* cred is root or the daemon's user: reserved slots, no budget wait */
	bool dead;
	bool held;	  /* frames wait in the decoder until the output drains */
	bool budget_wait; /* the next frame waits for decoder memory */
	struct wire_decoder dec;
	size_t charged; /* decoder budget taken for the frame at the front */
	/*
	 * Who sent the bytes of the frame at the front (the least privileged of them) and the last
	 * bytes read: every frame is handled with the rights of whoever sent its bytes.
	 */
	struct ucred front, last;
	int64_t active_mono; /* bytes in or out, or a request */
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	struct hub_sub *sub;
	uint64_t sub_id;
};

/* control.c: the API socket, opened last at start-up and closed first at shutdown. */
int control_open(struct fnguardd *d);
void control_close(struct fnguardd *d);
int client_send(struct client *c, Fnguard__V1__Response *r);
void client_send_error(struct client *c, uint64_t id, Fnguard__V1__ErrorCode code,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* control.c: handles one request, sent by @from. */
void control_request(struct client *c, const Fnguard__V1__Request *rq, const struct ucred *from);

/* control_conn.c */
int control_conn_init(struct fnguardd *d);
void control_conn_exit(struct fnguardd *d);
int control_listener_add(struct fnguardd *d, int fd);
int client_deliver(void *ctx, const Fnguard__V1__Event *ev);
void client_flush(struct client *c);
/* A synchronous invocation's result, to the client that waits (d->invoke_done). */
void client_invoke_done(struct client *c, uint64_t req_id, const struct inv *inv,
			Fnguard__V1__InvokeResult *res);

/* control_sock.c: the socket at @path, listening, owned by group @gid ((gid_t)-1: none). */
int control_socket_open(const char *path, gid_t gid, int *fd);
void control_socket_remove(void);

/* control_auth.c */
/* uid 0, the daemon's user, or a member of group fnguard in the group database. */
bool control_uid_admin(uid_t uid);
/* Of two senders of one frame, the one with fewer rights. */
struct ucred control_cred_least(const struct ucred *a, const struct ucred *b);
/*
 * recv() that also says who sent the bytes (SCM_CREDENTIALS; never more than one sender per
 * call): > 0, 0 at end of file, -EAGAIN, -errno. A sender the kernel did not name is uid -1.
 */
long control_recv(int fd, void *buf, size_t len, struct ucred *from);
/*
 * Records an api_call. @coalesce: a read-only request, or a refusal; those of one user and
 * method with the same result make at most about one record a second, whose result says how
 * many calls it stands for ("ok (x123)").
 */
void control_record(struct fnguardd *d, const struct ucred *who, const char *method, const char *target,
		    const char *result, bool coalesce);
/* Writes the coalesced records due (@all: every one, at shutdown). */
void control_record_flush(struct fnguardd *d, bool all);

#endif
