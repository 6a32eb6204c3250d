// SPDX-License-Identifier: Apache-2.0
/*
 * Parsers for the values of policy files: integers, sizes, durations, paths, CIDRs, names.
 * Pure functions: they return what is wrong and the callers word the message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy_int.h"

typedef unsigned __int128 u128;

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal digits s[*i..] into *v, capped above 2^64 so that callers can detect overflow. */
static size_t scan_digits(const char *s, size_t len, size_t *i, u128 *v)
{
	size_t start = *i;

	*v = 0;
	while (*i < len && is_digit(s[*i])) {
		if (*v <= UINT64_MAX)
			*v = *v * 10 + (unsigned)(s[*i] - '0');
		(*i)++;
	}
	return *i - start;
}

int policy_parse_int(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	u128 v;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (scan_digits(s, len, &i, &v) == 0 || i != len)
		return -EINVAL;
	if (v > (neg ? (u128)INT64_MAX + 1 : (u128)INT64_MAX))
		return -ERANGE;
	*out = neg ? (int64_t)(0 - (uint64_t)v) : (int64_t)v;
	return 0;
}

/*
 * Sizes: bytes, or a whole number with a binary (Ki, Mi, Gi, Ti: powers of 1024) or
 * decimal (K or k, M, G, T: powers of 1000) suffix, as in Kubernetes. No fractions.
 */
int policy_parse_size(const char *s, size_t len, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
	    {"", 1},
	    {"Ki", 1ull << 10},
	    {"Mi", 1ull << 20},
	    {"Gi", 1ull << 30},
	    {"Ti", 1ull << 40},
	    {"K", 1000ull},
	    {"k", 1000ull},
	    {"M", 1000000ull},
	    {"G", 1000000000ull},
	    {"T", 1000000000000ull},
	};
	size_t i = 0, u;
	u128 v;

	if (scan_digits(s, len, &i, &v) == 0)
		return -EINVAL;
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (len - i == strlen(units[u].suffix) &&
		    !memcmp(s + i, units[u].suffix, len - i)) {
			v *= units[u].mult;
			if (v > UINT64_MAX)
				return -ERANGE;
			*out = (uint64_t)v;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Go's time.ParseDuration without the sign: "0", or a sequence of decimal numbers, each
 * with an optional fraction and a unit: ns, us (or µs, μs), ms, s, m, h. "1m30s", "1.5h".
 * The result must fit in an int64 of nanoseconds (about 292 years), as in Go.
 */
int policy_parse_duration(const char *s, size_t len, uint64_t *ns)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
	    /* longer units first, so that "ms" is not read as "m" */
	    {"ns", 1},
	    {"us", 1000},
	    {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
	    {"\xce\xbcs", 1000}, /* U+03BC Greek mu */
	    {"ms", 1000000},
	    {"s", 1000000000ull},
	    {"m", 60000000000ull},
	    {"h", 3600000000000ull},
	};
	size_t i = 0, u;
	u128 total = 0;

	if (len == 1 && s[0] == '0') {
		*ns = 0;
		return 0;
	}
	if (len == 0)
		return -EINVAL;
	while (i < len) {
		u128 whole, frac = 0, scale = 1;
		size_t nd, nf = 0, ul = 0;

		nd = scan_digits(s, len, &i, &whole);
		if (i < len && s[i] == '.') {
			i++;
			while (i < len && is_digit(s[i])) {
				/* digits beyond the 18th cannot matter below a nanosecond */
				if (nf < 18) {
					frac = frac * 10 + (unsigned)(s[i] - '0');
					scale *= 10;
				}
				nf++;
				i++;
			}
		}
		if (nd == 0 && nf == 0)
			return -EINVAL;
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			ul = strlen(units[u].unit);
			if (len - i >= ul && !memcmp(s + i, units[u].unit, ul))
				break;
		}
		if (u == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		i += ul;
		if (whole > INT64_MAX)
			return -ERANGE;
		total += whole * units[u].mult + frac * units[u].mult / scale;
		if (total > INT64_MAX)
			return -ERANGE;
	}
	*ns = (uint64_t)total;
	return 0;
}

enum policy_path_problem policy_path_check(const char *s, size_t len)
{
	size_t i, comp = 0;

	if (len == 0)
		return PATH_EMPTY;
	if (memchr(s, '\0', len))
		return PATH_NUL;
	if (s[0] != '/')
		return PATH_RELATIVE;
	if (len >= POLICY_PATH_MAX)
		return PATH_TOO_LONG;
	if (len == 1)
		return PATH_OK;
	if (s[len - 1] == '/')
		return PATH_NOT_NORMALIZED;
	/* every component, between a '/' at i and the next one */
	for (i = 0; i < len; i = comp) {
		size_t n;

		for (comp = i + 1; comp < len && s[comp] != '/'; comp++)
			;
		n = comp - i - 1;
		if (n == 0 || (n == 1 && s[i + 1] == '.') ||
		    (n == 2 && s[i + 1] == '.' && s[i + 2] == '.'))
			return PATH_NOT_NORMALIZED;
		if (n > POLICY_NAME_MAX)
			return PATH_TOO_LONG;
	}
	return PATH_OK;
}

char *policy_path_clean(const char *s, size_t len)
{
	bool rooted = len > 0 && s[0] == '/';
	char *out = malloc(len + 2);
	size_t r = 0, w = 0, dotdot = 0; /* dotdot: where ".." may no longer backtrack */

	if (!out)
		return NULL;
	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < len) {
		if (s[r] == '/') {
			r++;
		} else if (s[r] == '.' && (r + 1 == len || s[r + 1] == '/')) {
			r++;
		} else if (s[r] == '.' && r + 1 < len && s[r + 1] == '.' &&
			   (r + 2 == len || s[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				/* remove the last component */
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			while (r < len && s[r] != '/')
				out[w++] = s[r++];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

enum policy_cidr_problem policy_parse_cidr(const char *s, size_t len, struct fng_egress_rule *r)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char buf[64];
	const char *slash;
	unsigned bits, plen, i;

	if (len >= sizeof(buf) || memchr(s, '\0', len))
		return CIDR_BAD_ADDRESS;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = '\0';
	memset(r->addr, 0, sizeof(r->addr));
	if (inet_pton(AF_INET, buf, r->addr) == 1) {
		r->family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, buf, r->addr) == 1) {
		r->family = AF_INET6;
		bits = 128;
	} else {
		return CIDR_BAD_ADDRESS;
	}
	plen = bits;
	if (slash) {
		const char *p = slash + 1;
		size_t n = strlen(p);

		/* 1-3 digits, no sign, no leading zero */
		if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
			return CIDR_BAD_PREFIX;
		for (i = 0, plen = 0; i < n; i++) {
			if (!is_digit(p[i]))
				return CIDR_BAD_PREFIX;
			plen = plen * 10 + (unsigned)(p[i] - '0');
		}
		if (plen > bits)
			return CIDR_BAD_PREFIX;
	}
	if (r->family == AF_INET6 && !memcmp(r->addr, mapped, sizeof(mapped))) {
		if (plen < 96)
			return CIDR_MAPPED_PREFIX;
		memmove(r->addr, r->addr + 12, 4);
		memset(r->addr + 4, 0, 12);
		r->family = AF_INET;
		plen -= 96;
		bits = 32;
	}
	r->prefix_len = (uint8_t)plen;
	/* clear and detect host bits */
	{
		bool host = false;

		for (i = 0; i < bits / 8; i++) {
			unsigned keep = plen >= (i + 1) * 8 ? 8 : plen > i * 8 ? plen - i * 8 : 0;
			uint8_t mask = (uint8_t)(0xff00u >> keep);

			if (r->addr[i] & (uint8_t)~mask)
				host = true;
			r->addr[i] &= mask;
		}
		if (host)
			return CIDR_HOST_BITS;
	}
	return CIDR_OK;
}

void policy_cidr_format(const struct fng_egress_rule *r, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(r->family, r->addr, a, sizeof(a)))
		strcpy(a, "?");
	snprintf(buf, size, "%s/%u", a, r->prefix_len);
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c);
}

/* [a-z0-9][a-z0-9-]{0,62} */
bool policy_function_name_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 63 || !is_lower_alnum(s[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* [A-Za-z0-9][A-Za-z0-9._-]{0,63}: no ':' so that NAME:VERSION stays unambiguous. */
bool policy_version_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 64)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = is_lower_alnum(c) || (c >= 'A' && c <= 'Z');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

/* glibc knows the names of its errno values; three of them have a second name. */
static const struct {
	const char *alias;
	int nr;
} errno_aliases[] = {
    {"EWOULDBLOCK", EWOULDBLOCK},
    {"EDEADLOCK", EDEADLOCK},
    {"ENOTSUP", ENOTSUP},
};
#define ERRNO_SCAN_MAX 200 /* above every errno glibc names (EHWPOISON is 133) */

int policy_errno_lookup(const char *name)
{
	size_t i;
	int e;

	for (i = 0; i < sizeof(errno_aliases) / sizeof(errno_aliases[0]); i++)
		if (!strcmp(name, errno_aliases[i].alias))
			return errno_aliases[i].nr;
	for (e = 1; e < ERRNO_SCAN_MAX; e++) {
		const char *n = strerrorname_np(e);

		if (n && !strcmp(n, name))
			return e;
	}
	return -1;
}

const char *policy_errno_name(int nr)
{
	return strerrorname_np(nr);
}

const char *policy_errno_hint(const char *word)
{
	const char *names[ERRNO_SCAN_MAX + 3];
	size_t n = 0, i;
	int e;

	for (i = 0; i < sizeof(errno_aliases) / sizeof(errno_aliases[0]); i++)
		names[n++] = errno_aliases[i].alias;
	for (e = 1; e < ERRNO_SCAN_MAX; e++)
		if (strerrorname_np(e))
			names[n++] = strerrorname_np(e);
	return policy_suggest(word, names, n);
}

static const struct {
	const char *name;
	int af;
} families[] = {
    {"unix", AF_UNIX},
    {"inet", AF_INET},
    {"inet6", AF_INET6},
    {"netlink", AF_NETLINK},
    {"packet", AF_PACKET},
    {"key", AF_KEY},
    {"alg", AF_ALG},
    {"vsock", AF_VSOCK},
    {"xdp", AF_XDP},
    {"can", AF_CAN},
    {"bluetooth", AF_BLUETOOTH},
    {"tipc", AF_TIPC},
    {"rds", AF_RDS},
    {"llc", AF_LLC},
    {"x25", AF_X25},
    {"ax25", AF_AX25},
    {"appletalk", AF_APPLETALK},
    {"ipx", AF_IPX},
    {"qipcrtr", AF_QIPCRTR},
    {"smc", AF_SMC},
    {"mctp", AF_MCTP},
};
#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

int policy_family_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < N_FAMILIES; i++)
		if (!strcmp(name, families[i].name))
			return families[i].af;
	return -1;
}

const char *policy_family_name(int af)
{
	size_t i;

	for (i = 0; i < N_FAMILIES; i++)
		if (families[i].af == af)
			return families[i].name;
	return NULL;
}

const char *policy_family_hint(const char *word)
{
	const char *names[N_FAMILIES];
	size_t i;

	for (i = 0; i < N_FAMILIES; i++)
		names[i] = families[i].name;
	return policy_suggest(word, names, N_FAMILIES);
}

#define EDIT_MAX 64

unsigned policy_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned rows[3][EDIT_MAX + 1];
	unsigned *pp, *p, *cur;

	if (la > EDIT_MAX || lb > EDIT_MAX)
		return 1000;
	for (j = 0; j <= lb; j++)
		rows[1][j] = (unsigned)j;
	pp = rows[0], p = rows[1], cur = rows[2];
	for (i = 1; i <= la; i++) {
		unsigned *t;

		cur[0] = (unsigned)i;
		for (j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = p[j - 1] + cost;

			if (p[j] + 1 < v)
				v = p[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			/* a transposition of two adjacent characters counts as one edit */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
		}
		t = pp, pp = p, p = cur, cur = t;
	}
	return p[lb];
}

/* Close enough to be a typo: one edit in a short word, two in a longer one. */
bool policy_suggest_close(const char *word, unsigned distance)
{
	size_t len = strlen(word);

	return distance > 0 && distance <= (len <= 4 ? 1u : 2u) && distance < len;
}

const char *policy_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned best_d = ~0u;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned d = policy_edit_distance(word, cands[i]);

		/* on a tie, prefer the candidate as long as the word: "inet7" -> "inet6" */
		if (d < best_d || (d == best_d && strlen(cands[i]) == strlen(word) &&
				   strlen(best) != strlen(word))) {
			best_d = d;
			best = cands[i];
		}
	}
	return best && policy_suggest_close(word, best_d) ? best : NULL;
}
