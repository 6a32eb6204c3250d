/* SPDX-License-Identifier: Apache-2.0 */
/* A microVM's guest image (image.c): the common initrd with the function appended. */
#ifndef FNGUARD_MICROVM_IMAGE_H
#define FNGUARD_MICROVM_IMAGE_H

#include <stddef.h>

struct env;

/* The function's part of the guest image: what the daemon puts into it, at most. */
#define CODE_MAX_BYTES (256ull << 20)
#define CODE_MAX_FILES 100000

/* ENVDIR/initrd (root:the environment's gid, 0640): the common guest image, then the
 * function's /fnguard/policy.yaml and its code at /var/task. -errno, @why set. */
int microvm_image_build(const struct env *e, const char *envdir, char *why, size_t whylen);

#endif
