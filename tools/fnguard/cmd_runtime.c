// SPDX-License-Identifier: Apache-2.0
/*
 * fnguard runtime build|list|path: the runtimes' root images (docs/runtime.md). The work is
 * Debian's own tools' (mmdebstrap, mkfs.erofs), driven by the fnguard-runtime script; this
 * finds it and runs it with the same arguments: libexec/fnguard-runtime beside this binary
 * (how 'make' lays out build/), else /usr/libexec/fnguard/fnguard-runtime (the package's).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"

#define RUNTIME_TOOL "fnguard-runtime"
#define RUNTIME_TOOL_INSTALLED "/usr/libexec/fnguard/" RUNTIME_TOOL

static int tool_find(char *path, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			if (snprintf(path, len, "%s/libexec/%s", self, RUNTIME_TOOL) < (int)len &&
			    !access(path, X_OK))
				return 0;
		}
	}
	snprintf(path, len, "%s", RUNTIME_TOOL_INSTALLED);
	return access(path, X_OK) ? -errno : 0;
}

int cmd_runtime(int argc, char **argv)
{
	char tool[PATH_MAX];

	if (tool_find(tool, sizeof(tool))) {
		log_warnx("runtime: %s not found beside this binary (libexec/) nor at %s: "
			  "reinstall fnguard, or run 'make'",
			  RUNTIME_TOOL, RUNTIME_TOOL_INSTALLED);
		return EXIT_FAIL;
	}
	argv[0] = tool;
	(void)argc;
	execv(tool, argv);
	log_warn("runtime: executing %s", tool);
	return EXIT_FAIL;
}
