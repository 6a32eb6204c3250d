// SPDX-License-Identifier: Apache-2.0
/*
 * The JSON-lines file exporter: renders each event into memory first so that a line is appended
 * whole (or taken back), and rotates by size. See export.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "export.h"
#include "log.h"
#include "wire.h"

struct export {
	char *path;
	char *from, *to; /* room for "PATH.N", for the renames of a rotation */
	int fd;		 /* -1 after a failed (re)open: the next write opens again */
	bool regular;	 /* only regular files are rotated (not /dev/stdout, a FIFO) */
	uint64_t size;	 /* bytes in the file, as far as we wrote them */
	uint64_t rotate_bytes;
	uint64_t limit; /* rotate before the size would pass this */
	unsigned keep;
	uint64_t errors;
	uint64_t burst;	     /* events lost since the first failure of the current burst */
	bool failing;	     /* a burst of write failures is going on (logged once) */
	bool rotate_failing; /* same, for rotations */
	FILE *mem;	     /* the line being rendered */
	char *mem_buf;
	size_t mem_len;
};

static int export_reopen(struct export *x)
{
	struct stat st;
	int fd;

	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	/* Never through a link someone planted where the file goes (a directory others may write
	 * to): a link is followed only when root made it (/dev/stdout). */
	fd = open(x->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);
	if (fd < 0 && errno == ELOOP) {
		if (lstat(x->path, &st) || st.st_uid != 0) {
			log_warnx("export: %s is a symbolic link not owned by root: refusing to follow it",
				  x->path);
			return -ELOOP;
		}
		fd = open(x->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	x->fd = fd;
	x->regular = S_ISREG(st.st_mode);
	x->size = x->regular ? (uint64_t)st.st_size : 0;
	x->limit = x->rotate_bytes;
	return 0;
}

int export_open(struct export **out, const char *path, uint64_t rotate_bytes, unsigned keep)
{
	struct export *x;
	size_t n;
	int err;

	*out = NULL;
	if (!path || !*path || keep > EXPORT_KEEP_MAX)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->fd = -1;
	x->rotate_bytes = rotate_bytes ? rotate_bytes : EXPORT_ROTATE_BYTES_DEFAULT;
	x->keep = keep ? keep : EXPORT_KEEP_DEFAULT;
	n = strlen(path) + sizeof(".4294967295");
	x->path = strdup(path);
	x->from = malloc(n);
	x->to = malloc(n);
	if (!x->path || !x->from || !x->to) {
		err = -ENOMEM;
		goto fail;
	}
	/* A wrong path is a configuration error: report it now, not at the first event. */
	err = export_reopen(x);
	if (err)
		goto fail;
	*out = x;
	return 0;
fail:
	export_close(x);
	return err;
}

void export_close(struct export *x)
{
	if (!x)
		return;
	if (x->fd >= 0)
		close(x->fd);
	if (x->mem)
		fclose(x->mem);
	free(x->mem_buf);
	free(x->path);
	free(x->from);
	free(x->to);
	free(x);
}

uint64_t export_errors(const struct export *x)
{
	return x ? x->errors : 0;
}

/* PATH.i into @buf (PATH itself for 0). */
static void export_name(const struct export *x, unsigned i, char *buf)
{
	if (i)
		sprintf(buf, "%s.%u", x->path, i);
	else
		strcpy(buf, x->path);
}

/*
 * PATH.keep-1 -> PATH.keep, ..., PATH -> PATH.1 (the rename over PATH.keep drops the oldest),
 * then a new PATH. Missing files are skipped. On the first other failure the renames stop, so
 * that no file is renamed over one that was not moved on, and the next attempt waits until the
 * file has grown by another rotate_bytes: retrying at every event would shift the older files
 * again and again. PATH is reopened in every case (the rotated one, if renaming it failed).
 */
static void export_rotate(struct export *x)
{
	unsigned i;
	int err = 0, open_err;

	for (i = x->keep; i >= 1; i--) {
		export_name(x, i - 1, x->from);
		export_name(x, i, x->to);
		if (rename(x->from, x->to) < 0 && errno != ENOENT) {
			err = -errno;
			break;
		}
	}
	open_err = export_reopen(x);
	if (err) {
		/* export_reopen() reset it: PATH is still the big file. */
		x->limit = x->size + x->rotate_bytes;
		if (!x->rotate_failing) {
			errno = -err;
			log_warn("%s: cannot rotate: rename %s to %s", x->path, x->from, x->to);
		}
		x->rotate_failing = true;
	} else {
		x->rotate_failing = false;
	}
	if (open_err) {
		/* The write that follows fails and is counted; the next event opens again. */
		errno = -open_err;
		log_warn("%s: cannot reopen after rotation", x->path);
	}
}

/* @ev as one JSON line in x->mem_buf; *len bytes. 0 or -errno. */
static int export_render(struct export *x, const Fnguard__V1__Event *ev, size_t *len)
{
	off_t end;
	int err;

	/* One memory stream for the exporter's life: rendering allocates nothing once warm. */
	if (!x->mem) {
		x->mem = open_memstream(&x->mem_buf, &x->mem_len);
		if (!x->mem)
			return -errno;
	}
	rewind(x->mem);
	err = telemetry_json_write(x->mem, ev);
	if (err)
		return err;
	/* The memory stream's length is where the writer stopped, not the longest line so far. */
	end = ftello(x->mem);
	if (end <= 0)
		return -EIO;
	*len = (size_t)end;
	return 0;
}

static int export_append(struct export *x, const char *buf, size_t len)
{
	return wire_write_all(x->fd, buf, len);
}

int export_write(struct export *x, const Fnguard__V1__Event *ev)
{
	size_t len = 0;
	int err;

	if (x->fd < 0) {
		err = export_reopen(x);
		if (err)
			goto fail;
	}
	err = export_render(x, ev, &len);
	if (err)
		goto fail;
	/* An empty file is never rotated: a line longer than the limit gets a file of its own. */
	if (x->regular && x->size && x->size + len > x->limit) {
		export_rotate(x);
		if (x->fd < 0) {
			err = export_reopen(x);
			if (err)
				goto fail;
		}
	}
	err = export_append(x, x->mem_buf, len);
	if (err) {
		/* Take back a partial line (ENOSPC midway): the next one must start a line. */
		if (x->regular && ftruncate(x->fd, (off_t)x->size) < 0)
			log_warn("%s: cannot take back a partial line", x->path);
		goto fail;
	}
	x->size += len;
	if (x->failing) {
		log_warnx("%s: telemetry export resumed, %" PRIu64 " events were not written",
			  x->path, x->burst);
		x->failing = false;
	}
	return 0;
fail:
	x->errors++;
	if (!x->failing) {
		/* Once per burst: a full disk must not also flood the log. */
		errno = -err;
		log_warn("%s: cannot write telemetry event (seq %" PRIu64 ")", x->path, ev->seq);
		x->failing = true;
		x->burst = 0;
	}
	x->burst++;
	return err;
}
