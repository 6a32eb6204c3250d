// SPDX-License-Identifier: Apache-2.0
/*
 * The daemon's settings: one table (name, type, bounds, default, help), the defaults, the
 * --help text, and checking one value against its key. Reading the file: config_load.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_int.h"
#include "env_microvm.h"
#include "export.h"
#include "fnguardd.h"
#include "policy.h"
#include "uidrange.h"

enum config_type {
	CFG_PATH,      /* const char *: a file or directory name */
	CFG_UNSIGNED,  /* unsigned, from min to max */
	CFG_U64,       /* uint64_t, from min to max */
	CFG_ENUM,      /* int: the index of the value among choices */
	CFG_UID_RANGE, /* FIRST:COUNT, into struct uid_range (uid_range_parse) */
	CFG_GONE,      /* no longer a setting: refused with the help text as the reason */
};

struct config_key {
	const char *name;
	enum config_type type;
	size_t off; /* in struct fnguardd_config */
	uint64_t min, max;
	const char *const *choices; /* CFG_ENUM, NULL-terminated */
	uint64_t def;		    /* CFG_UNSIGNED, CFG_U64, CFG_ENUM */
	const char *def_str;	    /* CFG_PATH: the default, when it is not worked out at start */
	const char *def_text;	    /* how --help tells the default, when not def or def_str */
	const char *help;
};

static const char *const accel_choices[] = {"auto", "kvm", "tcg", NULL};

#define OFF(field) offsetof(struct fnguardd_config, field)
#define STR_(x) #x
#define STR(x) STR_(x)

/* The values of enum microvm_accel are the indices of accel_choices. */
_Static_assert(MICROVM_ACCEL_AUTO == 0 && MICROVM_ACCEL_KVM == 1 && MICROVM_ACCEL_TCG == 2,
	       "accel_choices follows enum microvm_accel");

static const struct config_key keys[] = {
    {"export_path", CFG_PATH, OFF(export_path), .def_text = "none",
     .help = "also write every event to this JSON-lines file, rotated"},
    {"export_rotate_bytes", CFG_U64, OFF(export_rotate_bytes), 1, UINT64_MAX,
     .def = EXPORT_ROTATE_BYTES_DEFAULT, .def_text = "67108864 (64 MiB)",
     .help = "rotate the export file when it would grow past this many bytes"},
    {"export_keep", CFG_UNSIGNED, OFF(export_keep), 1, EXPORT_KEEP_MAX - 1,
     .def = EXPORT_KEEP_DEFAULT, .help = "rotated export files kept (PATH.1 ... PATH.N)"},
    {"max_envs_per_function", CFG_UNSIGNED, OFF(max_envs_per_function), 1, 9999, .def = 4,
     .help = "environments one function version may have at once"},
    {"queue_max", CFG_UNSIGNED, OFF(queue_max), 1, 999999, .def = 64,
     .help = "invocations that may wait for an environment, per function"},
    {"uid_range", CFG_UID_RANGE, 0,
     .help = "every environment's own uid and gid come from here; no user, group or "
	     "subordinate id may be in it"},
    {"pin_dir", CFG_PATH, OFF(pin_dir), .def_str = "/sys/fs/bpf/fnguardd",
     .help = "where enforcement is pinned, on bpffs (it outlives the daemon)"},
    {"qemu", CFG_PATH, OFF(qemu), .def_text = "qemu-system-x86_64 in PATH",
     .help = "the VMM of microVM environments"},
    {"microvm_kernel", CFG_PATH, OFF(microvm_kernel),
     .def_text = "the one 'make deps' caches in /var/cache/fnguard",
     .help = "the guest kernel of microVM environments"},
    {"microvm_initrd", CFG_PATH, OFF(microvm_initrd),
     .def_text = "guest/microvm-initrd.cpio.gz beside fnguardd",
     .help = "the guest image of microVM environments (make guest-initrd)"},
    {"runtime_dir", CFG_PATH, OFF(runtime_dir), .def_str = "/var/cache/fnguard/runtimes",
     .help = "the runtimes' root images (fnguard runtime build NAME)"},
    {"microvm_accel", CFG_ENUM, OFF(microvm_accel), .choices = accel_choices,
     .def = MICROVM_ACCEL_AUTO,
     .help = "auto: KVM if a probe guest runs under it, else TCG (emulation)"},
    {"microvm_boot_timeout", CFG_UNSIGNED, OFF(microvm_boot_timeout_s), 1, 3600,
     .def_text =
	 STR(MICROVM_BOOT_TIMEOUT_KVM_S) " with KVM, " STR(MICROVM_BOOT_TIMEOUT_TCG_S) " with TCG",
     .help = "seconds a guest may take to be ready; one that is not is stopped"},
    /* One shared user let one tenant read another's VMM: refused, not ignored. */
    {"run_as", CFG_GONE, 0, .help = "no longer used"},
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(N_KEYS <= CONFIG_KEYS_MAX, "struct cfg_load has room for every key");

/* Why run_as (the only key gone so far) is refused; %u:%u is the default uid_range. */
#define RUN_AS_GONE                                                                                \
	"run_as is no longer used: every environment runs as a uid and gid of its own from "       \
	"uid_range (default %u:%u); remove the line"

/* ------------------------------------------------------------------ defaults */

/*
 * Where microVM environments find QEMU, the guest kernel and the guest image unless the
 * configuration says: qemu-system-x86_64 in PATH, the kernel 'make deps' caches, and
 * guest/microvm-initrd.cpio.gz beside this binary (how 'make' lays out build/).
 */
static void microvm_defaults(struct fnguardd_config *cfg)
{
	static char qemu[512], kernel[512], initrd[512];
	const char *path = getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin";
	char abi[128] = "", self[400], *slash;
	ssize_t n;
	FILE *f;

	for (const char *p = path; *p;) {
		size_t len = strcspn(p, ":");

		snprintf(qemu, sizeof(qemu), "%.*s/qemu-system-x86_64", (int)len, p);
		if (!access(qemu, X_OK)) {
			cfg->qemu = qemu;
			break;
		}
		p += len + (p[len] == ':');
	}
	f = fopen("/var/cache/fnguard/abi", "re");
	if (f) {
		if (fgets(abi, sizeof(abi), f))
			abi[strcspn(abi, "\n")] = 0;
		fclose(f);
	}
	if (abi[0]) {
		snprintf(kernel, sizeof(kernel), "/var/cache/fnguard/%s/vmlinuz", abi);
		cfg->microvm_kernel = kernel;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(initrd, sizeof(initrd), "%s/guest/microvm-initrd.cpio.gz", self);
			cfg->microvm_initrd = initrd;
		}
	}
}

void config_defaults(struct fnguardd_config *cfg, struct uid_range *uids)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &keys[i];
		char *field = (char *)cfg + k->off;

		switch (k->type) {
		case CFG_PATH:
			*(const char **)field = k->def_str;
			break;
		case CFG_UNSIGNED:
			*(unsigned *)field = (unsigned)k->def;
			break;
		case CFG_U64:
			*(uint64_t *)field = k->def;
			break;
		case CFG_ENUM:
			*(int *)field = (int)k->def;
			break;
		case CFG_UID_RANGE:
			uids->first = UID_RANGE_FIRST_DEFAULT;
			uids->count = UID_RANGE_COUNT_DEFAULT;
			break;
		case CFG_GONE:
			break;
		}
	}
	microvm_defaults(cfg);
}

/* ------------------------------------------------------------------ help */

/* @text indented by 6, in lines of at most 80 columns (cut at spaces). */
static void help_wrap(FILE *f, const char *text)
{
	const size_t width = 80 - 6;

	while (*text) {
		size_t n = strlen(text), cut = n;

		if (n > width) {
			for (cut = width; cut > 0 && text[cut] != ' '; cut--)
				;
			if (!cut)
				cut = width;
		}
		fprintf(f, "      %.*s\n", (int)cut, text);
		text += cut;
		text += strspn(text, " ");
	}
}

void config_help(FILE *f)
{
	fprintf(f, "Settings (--config FILE: a YAML mapping, 'key: value' lines, # comments):\n");
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &keys[i];
		char type[64] = "", def[64] = "";

		switch (k->type) {
		case CFG_PATH:
			snprintf(type, sizeof(type), "PATH");
			break;
		case CFG_UNSIGNED:
		case CFG_U64:
			if (k->max == UINT64_MAX)
				snprintf(type, sizeof(type), "INTEGER, at least %llu",
					 (unsigned long long)k->min);
			else
				snprintf(type, sizeof(type), "INTEGER, %llu to %llu",
					 (unsigned long long)k->min, (unsigned long long)k->max);
			snprintf(def, sizeof(def), "%llu", (unsigned long long)k->def);
			break;
		case CFG_ENUM:
			for (size_t c = 0, o = 0; k->choices[c] && o < sizeof(type); c++)
				o += (size_t)snprintf(type + o, sizeof(type) - o, "%s%s",
						      c ? "|" : "", k->choices[c]);
			snprintf(def, sizeof(def), "%s", k->choices[k->def]);
			break;
		case CFG_UID_RANGE:
			snprintf(type, sizeof(type), "FIRST:COUNT");
			snprintf(def, sizeof(def), "%u:%u", UID_RANGE_FIRST_DEFAULT,
				 UID_RANGE_COUNT_DEFAULT);
			break;
		case CFG_GONE:
			continue; /* refused, not a setting */
		}
		if (k->def_str)
			snprintf(def, sizeof(def), "%s", k->def_str);
		fprintf(f, "  %s: %s\n", k->name, type);
		help_wrap(f, k->help);
		fprintf(f, "      default: %s\n", k->def_text ? k->def_text : def);
	}
}

static void set_number(struct cfg_load *l, const struct config_key *k, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length, i = s[0] == '-';
	uint64_t v = 0;
	bool over = false;
	char range[64];

	if (k->max == UINT64_MAX)
		snprintf(range, sizeof(range), "at least %llu", (unsigned long long)k->min);
	else
		snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)k->min,
			 (unsigned long long)k->max);
	if (cfg_is_null(ev)) {
		cfg_report(l, &ev->start_mark, "%s: expected an integer (%s), got nothing", k->name,
			   range);
		return;
	}
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		cfg_report(l, &ev->start_mark,
			   "%s: expected an integer, got the string '%s' (numbers are written "
			   "without quotes)",
			   k->name, cfg_quote(l, s, len));
		return;
	}
	if (i == len || strspn(s + i, "0123456789") != len - i) {
		cfg_report(l, &ev->start_mark, "%s: expected an integer (%s), got '%s'", k->name,
			   range, cfg_quote(l, s, len));
		return;
	}
	for (; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (s[0] == '-' || over || v < k->min || v > k->max) {
		cfg_report(l, &ev->start_mark, "%s: %s is out of range (%s)", k->name,
			   cfg_quote(l, s, len), range);
		return;
	}
	if (k->type == CFG_U64)
		*(uint64_t *)((char *)&l->cfg + k->off) = v;
	else
		*(unsigned *)((char *)&l->cfg + k->off) = (unsigned)v;
}

void cfg_value_set(struct cfg_load *l, const struct config_key *k, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	char *field = (char *)&l->cfg + k->off, why[256], *copy;

	if (k->type == CFG_UNSIGNED || k->type == CFG_U64) {
		set_number(l, k, ev);
		return;
	}
	if (cfg_is_null(ev) || !len) {
		cfg_report(l, &ev->start_mark, "%s: expected %s, got nothing", k->name,
			   k->type == CFG_PATH ? "a path" : "a value");
		return;
	}
	if (strlen(s) != len) {
		cfg_report(l, &ev->start_mark, "%s: '%s' holds a NUL byte", k->name,
			   cfg_quote(l, s, len));
		return;
	}
	switch (k->type) {
	case CFG_PATH:
		copy = strdup(s);
		if (!copy) {
			l->oom = 1;
			return;
		}
		*(const char **)field = copy;
		break;
	case CFG_ENUM: {
		char text[128];
		size_t c, o = 0, n;

		for (c = 0; k->choices[c]; c++) {
			if (!strcmp(s, k->choices[c])) {
				*(int *)field = (int)c;
				return;
			}
		}
		for (n = c, c = 0; c < n && o < sizeof(text); c++)
			o += (size_t)snprintf(text + o, sizeof(text) - o, "%s'%s'",
					      !c	  ? ""
					      : c + 1 < n ? ", "
							  : " or ",
					      k->choices[c]);
		cfg_report(l, &ev->start_mark, "%s: bad value '%s' (expected %s)", k->name,
			   cfg_quote(l, s, len), text);
		break;
	}
	case CFG_UID_RANGE: {
		struct uid_range r = {0};

		if (uid_range_parse(&r, s, why, sizeof(why))) {
			cfg_report(l, &ev->start_mark, "%s: %s", k->name, why);
			return;
		}
		l->uids.first = r.first;
		l->uids.count = r.count;
		break;
	}
	default:
		break;
	}
}

const struct config_key *cfg_key_of(struct cfg_load *l, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length, i;
	const char *names[N_KEYS], *hint;

	for (i = 0; i < N_KEYS; i++) {
		names[i] = keys[i].name;
		if (strlen(keys[i].name) == len && !memcmp(keys[i].name, s, len))
			break;
	}
	if (i == N_KEYS) {
		hint = strlen(s) == len ? policy_suggest(s, names, N_KEYS) : NULL;
		if (hint && strcmp(hint, "run_as"))
			cfg_report(l, &ev->start_mark, "unknown key '%s' (did you mean '%s'?)",
				   cfg_quote(l, s, len), hint);
		else
			cfg_report(l, &ev->start_mark,
				   "unknown key '%s' (fnguardd --help lists the settings)",
				   cfg_quote(l, s, len));
		return NULL;
	}
	if (keys[i].type == CFG_GONE) {
		cfg_report(l, &ev->start_mark, RUN_AS_GONE, UID_RANGE_FIRST_DEFAULT,
			   UID_RANGE_COUNT_DEFAULT);
		return NULL;
	}
	if (l->seen_line[i]) {
		if (l->seen_line[i] == ev->start_mark.line + 1)
			cfg_report(l, &ev->start_mark, "duplicate key '%s' (first at column %u)",
				   keys[i].name, l->seen_col[i]);
		else
			cfg_report(l, &ev->start_mark, "duplicate key '%s' (first at line %u)",
				   keys[i].name, l->seen_line[i]);
		return NULL;
	}
	l->seen_line[i] = (uint32_t)ev->start_mark.line + 1;
	l->seen_col[i] = (uint32_t)ev->start_mark.column + 1;
	return &keys[i];
}

const char *cfg_key_name(const struct config_key *k)
{
	return k->name;
}

/* The strings a load set: each CFG_PATH field that differs from @before's. */
void config_release(struct fnguardd_config *cfg, const struct fnguardd_config *before)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const char **now = (const char **)((char *)cfg + keys[i].off);
		const char *const *was = (const char *const *)((const char *)before + keys[i].off);

		if (keys[i].type == CFG_PATH && *now != *was) {
			free((char *)*now);
			*now = *was;
		}
	}
}
