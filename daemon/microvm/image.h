/* SPDX-License-Identifier: Apache-2.0 */
/* A microVM's images (image.c): made once per function version, shared by its environments. */
#ifndef FNGUARD_MICROVM_IMAGE_H
#define FNGUARD_MICROVM_IMAGE_H

#include <stddef.h>

struct fn;
struct fng_policy;

/* The function's part of the guest image: what the daemon puts into it, at most. */
#define CODE_MAX_BYTES (256ull << 20)
#define CODE_MAX_FILES 100000

/* What a function version's microVMs are started from. */
struct microvm_images {
	char dir[600];	  /* STATE/images/NAME@HEX, root's alone (0700) */
	char initrd[700]; /* DIR/initrd: the common initrd, then /fnguard/policy.yaml (and the
			   * code at /var/task for the stdio runtime) */
	char code[700];	  /* DIR/code.erofs: the code, for a runtime's function; else "" */
	char root[700];	  /* the runtime's root image (runtime_dir/NAME/image.erofs); else "" */
	char opt[700];	  /* DIR/opt.erofs: function.layers merged, for a runtime's function
			   * with layers (a stdio function has them at /opt in the initrd); else "" */
};

/* The runtime a function's guests boot into ("python3", ...), NULL for stdio. */
const char *microvm_runtime_name(const struct fng_policy *p);

/* @fn's images, made now when they are not there yet. -errno, @why set (a runtime that is not
 * built: -ENOENT, and the command that builds it). */
int microvm_images_get(struct fn *fn, struct microvm_images *im, char *why, size_t whylen);

/* STATE/images/NAME@HEX of @fn; and removing such a directory with its images. */
void microvm_images_dir(const struct fn *fn, char *buf, size_t len);
void microvm_images_remove_dir(const char *dir);

#endif
