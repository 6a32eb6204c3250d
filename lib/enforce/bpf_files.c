// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#include "bpf_files.h"
#include "log.h"

/*
 * Add one entry; when another rule of the policy already names the same inode, keep the
 * rights both grant and the first rule's index.
 */
static int rule_put(int fd, const struct fng_rule_key *key, uint32_t rights, uint32_t index,
		    const char *section, const char *path)
{
	struct fng_file_rule_val val = {.rights = rights, .index = index}, old;
	int err;

	if (bpf_map_update_elem(fd, key, &val, BPF_NOEXIST) == 0)
		return 0;
	if (errno != EEXIST)
		goto fail;
	if (bpf_map_lookup_elem(fd, key, &old))
		goto fail;
	log_warnx("%s[%u]: %s names the same file as %s[%u]: only rights both grant apply", section,
		  index, path, section, old.index);
	old.rights &= rights;
	if (bpf_map_update_elem(fd, key, &old, BPF_EXIST) == 0)
		return 0;
fail:
	err = -errno;
	log_warn("%s[%u]: cannot add the rule for %s", section, index, path);
	return err;
}

int bpf_files_fill(int file_rules_fd, int exec_rules_fd, uint32_t policy_id,
		   const struct fng_policy *p, int root_fd, rules_unresolved_fn unresolved,
		   void *ctx)
{
	struct fng_rule_key key;
	int err = 0;

	for (size_t i = 0; i < p->files.n_rules && !err; i++) {
		const struct fng_file_rule *r = &p->files.rules[i];

		if (rules_resolve(root_fd, p, policy_id, "files.rules", i, r->path, r->line, &key, unresolved,
			     ctx))
			err = rule_put(file_rules_fd, &key, r->rights, (uint32_t)i, "files.rules",
				       r->path);
	}
	for (size_t i = 0; i < p->exec.n_allow && !err; i++) {
		const struct fng_exec_entry *a = &p->exec.allow[i];

		if (rules_resolve(root_fd, p, policy_id, "exec.allow", i, a->path, a->line, &key, unresolved,
			     ctx))
			err = rule_put(exec_rules_fd, &key, 1, (uint32_t)i, "exec.allow", a->path);
	}
	if (err)
		bpf_files_clear(file_rules_fd, exec_rules_fd, policy_id);
	return err;
}

/*
 * Collect the keys first: deleting the key get_next_key is walking from restarts the walk at
 * the first key of the hash table.
 */
static int rules_clear(int fd, uint32_t policy_id)
{
	struct fng_rule_key cur, next, *keys = NULL, *grown;
	size_t n = 0, cap = 0;
	int err = 0, first = 1;

	while (bpf_map_get_next_key(fd, first ? NULL : &cur, &next) == 0) {
		first = 0;
		cur = next;
		if (next.policy_id != policy_id)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(keys, cap * sizeof(*keys));
			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			keys = grown;
		}
		keys[n++] = next;
	}
	if (errno != ENOENT) {
		err = -errno;
		log_warn("cannot list rule entries");
	}
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_delete_elem(fd, &keys[i]) && errno != ENOENT && !err) {
			err = -errno;
			log_warn("cannot delete a rule entry of policy %u", policy_id);
		}
	}
	free(keys);
	return err;
}

int bpf_files_clear(int file_rules_fd, int exec_rules_fd, uint32_t policy_id)
{
	int err = rules_clear(file_rules_fd, policy_id);
	int err2 = rules_clear(exec_rules_fd, policy_id);

	return err ? err : err2;
}

static uint8_t abi_mode(enum fng_mode m)
{
	return m == FNG_MODE_AUDIT ? FNG_ABI_AUDIT : FNG_ABI_ENFORCE;
}

static uint8_t abi_verdict(enum fng_verdict v)
{
	return v == FNG_VERDICT_ALLOW ? FNG_ABI_ALLOW : FNG_ABI_DENY;
}

void bpf_files_conf(const struct fng_policy *p, struct fng_policy_conf *conf)
{
	conf->file_mode = abi_mode(p->files.mode);
	conf->file_default = abi_verdict(p->files.def);
	conf->exec_mode = abi_mode(p->exec.mode);
	conf->exec_default = abi_verdict(p->exec.def);
	conf->exec_children = abi_verdict(p->exec.children);
}
