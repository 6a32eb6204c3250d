/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the API socket's files share (api.c, the methods, is above them: api.h):
 *
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
#include <sys/un.h>

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

/* Coalesced api_call records (control_auth.c): slots (user, method, result), one record a
 * second each. */
#define RECORD_SLOTS 32

struct record_slot {
	bool used;
	struct ucred who; /* the last call's */
	char method[24];
	char result[160];
	uint64_t pending; /* calls not recorded yet */
	int64_t last;	  /* the slot's last record */
};

/* Reads of a connection are at most this (control_conn.c). */
#define CONTROL_READ_CHUNK (64u << 10)

/* The API socket's state, d->control (api.c allocates it in control_open). */
struct control {
	/* control_conn.c: the listening socket, the idle timeout's timer, the connections */
	struct watch listener, idle_timer;
	struct client *clients;
	unsigned n_clients;
	size_t budget_used; /* decoder memory charged to large frames, all connections */
	int64_t idle_ns;
	int64_t refusal_logged; /* the last refused connection logged, and those not since */
	unsigned refusals_quiet;
	uint8_t read_buf[CONTROL_READ_CHUNK];
	/* control_auth.c */
	struct record_slot slots[RECORD_SLOTS];
	/* control_sock.c: the socket's directory and its name there */
	int sock_dirfd;
	char sock_name[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* control_conn.c */
int client_send(struct client *c, Fnguard__V1__Response *r);
void client_send_error(struct client *c, uint64_t id, Fnguard__V1__ErrorCode code,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

int control_conn_init(struct fnguardd *d);
void control_conn_exit(struct fnguardd *d);
int control_listener_add(struct fnguardd *d, int fd);
int client_deliver(void *ctx, const Fnguard__V1__Event *ev);
void client_flush(struct client *c);
/* A synchronous invocation's result, to the client that waits (d->invoke_done). */
void client_invoke_done(struct client *c, uint64_t req_id, const struct inv *inv,
			Fnguard__V1__InvokeResult *res);

/* control_sock.c: the socket at @path, listening, owned by group @gid ((gid_t)-1: none). */
int control_socket_open(struct control *ctl, const char *path, gid_t gid, int *fd);
void control_socket_remove(struct control *ctl);

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
