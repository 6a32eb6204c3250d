/* SPDX-License-Identifier: Apache-2.0 */
/* The API (api.c): its methods, and the socket they are served on (control.h). */
#ifndef FNGUARD_DAEMON_API_H
#define FNGUARD_DAEMON_API_H

#include <sys/socket.h>

#include "fnguard/v1/api.pb-c.h"

struct client;
struct fnguardd;

/* The API socket, opened last at start-up and closed first at shutdown. */
int control_open(struct fnguardd *d);
void control_close(struct fnguardd *d);
/* Handles one request, sent by @from. */
void control_request(struct client *c, const Fnguard__V1__Request *rq, const struct ucred *from);

#endif
