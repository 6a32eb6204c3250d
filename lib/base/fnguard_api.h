/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's constants, written once: the daemon, the CLI and the guest agent include this.
 * (Frames are bounded by WIRE_FRAME_MAX_DEFAULT in wire.h, policy files by FNG_POLICY_MAX_SIZE
 * in policy.h.)
 */
#ifndef FNGUARD_API_H
#define FNGUARD_API_H

/* Where the daemon listens and clients connect, unless --socket or $FNGUARD_SOCKET says. */
#define FNGUARD_SOCKET_DEFAULT "/run/fnguard/fnguard.sock"
#define FNGUARD_SOCKET_ENV "FNGUARD_SOCKET"

/* Where the daemon keeps registered functions, unless --state-dir says. */
#define FNGUARD_STATE_DIR_DEFAULT "/var/lib/fnguard"

/*
 * An invocation's payload, and its response, are at most 6 MiB each (AWS Lambda's limit for a
 * synchronous invocation): the client refuses a larger payload before sending it, the daemon
 * before queueing it, the agent before running the handler; a larger response is cut and
 * said to be too large.
 */
#define FNGUARD_PAYLOAD_MAX (6u << 20)

#endif
