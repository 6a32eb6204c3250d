// SPDX-License-Identifier: Apache-2.0
/*
 * The user half of the files/exec backend (lib/enforce/bpf_files.c, and the rule resolution of
 * lib/enforce/rules.c) against real BPF hash maps with the enforcement object's key and value
 * types: which entries a policy becomes (inode keys in the kernel's dev_t encoding), unresolved
 * paths reported, two rules on one inode, clearing one policy among several, and the conf
 * fields. Skipped where BPF maps cannot be created.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>

#include "bpf_files.h"

struct fixture {
	char dir[64];
	int file_fd, exec_fd;
	int n_unresolved;
	struct rules_unresolved last;
	char last_path[256];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char cmd[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/fng-unit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(cmd, sizeof(cmd), "mkdir %s/d && touch %s/d/f && ln -s d %s/l", f->dir, f->dir,
		 f->dir);
	assert_int_equal(system(cmd), 0);
	f->file_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_file", sizeof(struct fng_rule_key),
				    sizeof(struct fng_file_rule_val), 64, NULL);
	f->exec_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_exec", sizeof(struct fng_rule_key),
				    sizeof(struct fng_file_rule_val), 64, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	if (f->file_fd >= 0)
		close(f->file_fd);
	if (f->exec_fd >= 0)
		close(f->exec_fd);
	free(f);
	return 0;
}

static void on_unresolved(const struct rules_unresolved *u, void *ctx)
{
	struct fixture *f = ctx;

	f->n_unresolved++;
	f->last = *u;
	snprintf(f->last_path, sizeof(f->last_path), "%s", u->path);
}

/* Load a policy whose text names the fixture directory as '@'. */
static struct fng_policy *load(struct fixture *f, const char *tmpl)
{
	char yaml[2048];
	struct fng_policy *p = NULL;
	size_t n = 0;

	for (const char *c = tmpl; *c && n + sizeof(f->dir) < sizeof(yaml); c++) {
		if (*c == '@')
			n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "%s", f->dir);
		else
			yaml[n++] = *c;
	}
	yaml[n] = 0;
	assert_int_equal(policy_load_buffer("t.yaml", yaml, n, "/", &p, NULL), 0);
	return p;
}

static struct fng_rule_key key_of(uint32_t policy_id, const char *path)
{
	struct fng_rule_key k = {.policy_id = policy_id};
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	k.dev = major(st.st_dev) << 20 | minor(st.st_dev);
	k.ino = st.st_ino;
	return k;
}

static size_t count(int fd)
{
	struct fng_rule_key cur, next;
	size_t n = 0;

	for (int first = 1; bpf_map_get_next_key(fd, first ? NULL : &cur, &next) == 0; first = 0) {
		cur = next;
		n++;
	}
	return n;
}

#define SKIP_WITHOUT_BPF(f)                                                                        \
	do {                                                                                       \
		if ((f)->file_fd < 0 || (f)->exec_fd < 0) {                                        \
			print_message("cannot create BPF hash maps here (needs root)\n");          \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

static const char *policy_text = "apiVersion: fnguard/v1\n"
				 "files:\n"
				 "  rules:\n"
				 "    - {path: @/d, access: [read]}\n"
				 "    - {path: @/d/f, access: []}\n"
				 "    - {path: @/missing, access: [read, write]}\n"
				 "exec:\n"
				 "  allow: [@/d/f, @/nope/x]\n";

static void test_fill_entries(void **state)
{
	struct fixture *f = *state;
	struct fng_file_rule_val v;
	struct fng_policy *p;
	struct fng_rule_key k;
	char path[128];

	SKIP_WITHOUT_BPF(f);
	p = load(f, policy_text);
	assert_int_equal(bpf_files_fill(f->file_fd, f->exec_fd, 7, p, 0, on_unresolved, f), 0);

	snprintf(path, sizeof(path), "%s/d", f->dir);
	k = key_of(7, path);
	assert_int_equal(bpf_map_lookup_elem(f->file_fd, &k, &v), 0);
	assert_int_equal(v.rights, FNG_RIGHT_READ);
	assert_int_equal(v.index, 0);
	snprintf(path, sizeof(path), "%s/d/f", f->dir);
	k = key_of(7, path);
	assert_int_equal(bpf_map_lookup_elem(f->file_fd, &k, &v), 0);
	assert_int_equal(v.rights, 0);
	assert_int_equal(v.index, 1);
	assert_int_equal(bpf_map_lookup_elem(f->exec_fd, &k, &v), 0);
	assert_int_equal(v.index, 0);
	assert_int_equal(count(f->file_fd), 2);
	assert_int_equal(count(f->exec_fd), 1);

	/* Both missing paths are reported, none silently dropped; the last is the exec one. */
	assert_int_equal(f->n_unresolved, 2);
	assert_string_equal(f->last.section, "exec.allow");
	assert_int_equal(f->last.index, 1);
	assert_int_equal(f->last.err, -ENOENT);
	assert_int_equal(f->last.line, 8);
	assert_non_null(strstr(f->last_path, "/nope/x"));

	/* Without a callback the same policy still fills (the problems are logged). */
	assert_int_equal(bpf_files_fill(f->file_fd, f->exec_fd, 8, p, 0, NULL, NULL), 0);
	assert_int_equal(count(f->file_fd), 4);
	policy_free(p);
}

/* A symlink and its target are one object: the rule that grants less wins. */
static void test_alias_intersects(void **state)
{
	struct fixture *f = *state;
	struct fng_file_rule_val v;
	struct fng_policy *p;
	struct fng_rule_key k;
	char path[128];

	SKIP_WITHOUT_BPF(f);
	p = load(f, "apiVersion: fnguard/v1\n"
		    "files:\n"
		    "  rules:\n"
		    "    - {path: @/d, access: [read, write]}\n"
		    "    - {path: @/l, access: [write]}\n");
	assert_int_equal(bpf_files_fill(f->file_fd, f->exec_fd, 3, p, 0, on_unresolved, f), 0);
	snprintf(path, sizeof(path), "%s/d", f->dir);
	k = key_of(3, path);
	assert_int_equal(bpf_map_lookup_elem(f->file_fd, &k, &v), 0);
	assert_int_equal(v.rights, FNG_RIGHT_WRITE);
	assert_int_equal(v.index, 0);
	assert_int_equal(count(f->file_fd), 1);
	assert_int_equal(f->n_unresolved, 0);
	policy_free(p);
}

/* The kmod backend's arrays: the same entries, sorted, aliases merged, nothing dropped. */
static void test_collect(void **state)
{
	struct fixture *f = *state;
	struct fnguard_rule *files = NULL, *execs = NULL;
	size_t nf = 0, nx = 0;
	struct fng_rule_key kd, kf;
	struct fng_policy *p;
	char path[128];

	p = load(f, "apiVersion: fnguard/v1\n"
		    "files:\n"
		    "  rules:\n"
		    "    - {path: @/d/f, access: []}\n"
		    "    - {path: @/d, access: [read, write]}\n"
		    "    - {path: @/missing, access: [read]}\n"
		    "    - {path: @/l, access: [read]}\n"
		    "exec:\n"
		    "  allow: [@/d/f, @/nope/x]\n");
	assert_int_equal(rules_files_collect(p, 0, on_unresolved, f, &files, &nf, &execs, &nx), 0);
	snprintf(path, sizeof(path), "%s/d", f->dir);
	kd = key_of(0, path);
	snprintf(path, sizeof(path), "%s/d/f", f->dir);
	kf = key_of(0, path);
	/* d and l (a symlink to d) are one entry: read only, the first rule's index. */
	assert_int_equal(nf, 2);
	for (size_t i = 0; i < nf; i++) {
		if (files[i].ino == kd.ino) {
			assert_int_equal(files[i].dev, kd.dev);
			assert_int_equal(files[i].rights, FNG_RIGHT_READ);
			assert_int_equal(files[i].index, 1);
		} else {
			assert_int_equal(files[i].ino, kf.ino);
			assert_int_equal(files[i].rights, 0);
			assert_int_equal(files[i].index, 0);
		}
		assert_int_equal(files[i].pad, 0);
	}
	assert_true(files[0].dev < files[1].dev ||
		    (files[0].dev == files[1].dev && files[0].ino < files[1].ino));
	assert_int_equal(nx, 1);
	assert_int_equal(execs[0].ino, kf.ino);
	assert_int_equal(execs[0].rights, 1);
	/* The two missing paths are reported. */
	assert_int_equal(f->n_unresolved, 2);
	free(files);
	free(execs);
	policy_free(p);
}

static void test_clear_one_policy(void **state)
{
	struct fixture *f = *state;
	struct fng_policy *p;

	SKIP_WITHOUT_BPF(f);
	p = load(f, policy_text);
	for (uint32_t id = 1; id <= 3; id++)
		assert_int_equal(bpf_files_fill(f->file_fd, f->exec_fd, id, p, 0, on_unresolved, f),
				 0);
	assert_int_equal(count(f->file_fd), 6);
	assert_int_equal(bpf_files_clear(f->file_fd, f->exec_fd, 2), 0);
	assert_int_equal(count(f->file_fd), 4);
	assert_int_equal(count(f->exec_fd), 2);
	assert_int_equal(bpf_files_clear(f->file_fd, f->exec_fd, 2), 0);
	assert_int_equal(bpf_files_clear(f->file_fd, f->exec_fd, 1), 0);
	assert_int_equal(bpf_files_clear(f->file_fd, f->exec_fd, 3), 0);
	assert_int_equal(count(f->file_fd), 0);
	assert_int_equal(count(f->exec_fd), 0);
	policy_free(p);
}

/* A failed map update leaves nothing of the policy behind. */
static void test_fill_failure_cleans_up(void **state)
{
	struct fixture *f = *state;
	struct fng_policy *p;
	int small;

	SKIP_WITHOUT_BPF(f);
	small = bpf_map_create(BPF_MAP_TYPE_HASH, "t_small", sizeof(struct fng_rule_key),
			       sizeof(struct fng_file_rule_val), 1, NULL);
	assert_true(small >= 0);
	p = load(f, policy_text);
	assert_int_equal(bpf_files_fill(small, f->exec_fd, 5, p, 0, on_unresolved, f), -E2BIG);
	assert_int_equal(count(small), 0);
	assert_int_equal(count(f->exec_fd), 0);
	close(small);
	policy_free(p);
}

static void test_conf(void **state)
{
	struct fixture *f = *state;
	struct fng_policy_conf conf;
	struct fng_policy *p;

	p = load(f, "apiVersion: fnguard/v1\n"
		    "mode: audit\n"
		    "files: {mode: enforce, default: allow}\n"
		    "exec: {default: deny, children: allow}\n");
	memset(&conf, 0xee, sizeof(conf));
	bpf_files_conf(p, &conf);
	assert_int_equal(conf.file_mode, FNG_ABI_ENFORCE);
	assert_int_equal(conf.file_default, FNG_ABI_ALLOW);
	assert_int_equal(conf.exec_mode, FNG_ABI_AUDIT);
	assert_int_equal(conf.exec_default, FNG_ABI_DENY);
	assert_int_equal(conf.exec_children, FNG_ABI_ALLOW);
	/* Fields other than the file and exec ones are left alone. */
	assert_int_equal(conf.valid, 0xee);
	assert_int_equal(conf.net_mode, 0xee);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fill_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alias_intersects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clear_one_policy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fill_failure_cleans_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_conf, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
