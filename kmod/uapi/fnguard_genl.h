/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Generic netlink interface of the fnguard kernel module, shared with user space.
 * Numbers are ABI: they never change, new ones are only appended.
 */
#ifndef _UAPI_FNGUARD_GENL_H
#define _UAPI_FNGUARD_GENL_H

#define FNGUARD_GENL_NAME "fnguard"
#define FNGUARD_GENL_VERSION 1

enum fnguard_cmd {
	FNGUARD_CMD_UNSPEC = 0,
	FNGUARD_CMD_GET_INFO = 1, /* reply: FNGUARD_A_VERSION, FNGUARD_A_POLICIES */
	__FNGUARD_CMD_MAX,
};
#define FNGUARD_CMD_MAX (__FNGUARD_CMD_MAX - 1)

enum fnguard_attr {
	FNGUARD_A_UNSPEC = 0,
	FNGUARD_A_VERSION = 1,	/* u32: interface version */
	FNGUARD_A_POLICIES = 2, /* u32: installed policies */
	__FNGUARD_A_MAX,
};
#define FNGUARD_A_MAX (__FNGUARD_A_MAX - 1)

#endif
