// SPDX-License-Identifier: Apache-2.0
/*
 * Validation of the network and syscalls sections: CIDRs, ports, protocols, families,
 * syscall and errno names. Exact messages, lines and columns.
 */
#include "test_policy_util.h"

#define EGRESS API "network:\n  egress:\n    allow:\n"

/* "      - to: VALUE" is line 5; VALUE is at column 13. */
static void check_to(const char *to, const char *msg)
{
	char *yaml, *want;

	assert_true(asprintf(&yaml, EGRESS "      - to: %s\n", to) > 0);
	if (msg) {
		assert_true(asprintf(&want, "5:13: network.egress.allow[0].to: %s\n", msg) > 0);
		check_errors(yaml, want);
		free(want);
	} else {
		check_valid(yaml);
	}
	free(yaml);
}

static const char bad_address[] = "(expected an IPv4 or IPv6 address or CIDR such as 192.0.2.0/24)";
static const char bad_prefix[] = "(0-32 for IPv4, 0-128 for IPv6)";

static void test_cidr(void **state)
{
	char msg[256];
	size_t i;
	static const char *const good[] = {
	    "10.0.0.0/8",
	    "192.0.2.1",
	    "192.0.2.1/32",
	    "0.0.0.0/0",
	    "2001:db8::/32",
	    "2001:db8::1",
	    "::/0",
	    "::1/128",
	    "::ffff:192.0.2.0/120",
	    "::ffff:192.0.2.7",
	    "\"192.0.2.0/24\"",
	};
	static const char *const bad_addresses[] = {
	    "example.com",    "256.0.0.0/8",	 "10.0.0", "10.0.0.0.0", "fe80::1%eth0",
	    "2001:db8:::/48", "\" 10.0.0.0/8\"", "''",	   "10",
	};
	static const char *const bad_prefixes[] = {
	    "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/",   "10.0.0.0/08",
	    "10.0.0.0/-1", "10.0.0.0/8/8",   "10.0.0.0/ 8", "10.0.0.0/1000",
	};

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		check_to(good[i], NULL);
	for (i = 0; i < sizeof(bad_addresses) / sizeof(bad_addresses[0]); i++) {
		const char *a = bad_addresses[i];
		size_t len = strlen(a);

		/* the message quotes the value without its YAML quotes */
		if (a[0] == '"' || a[0] == '\'')
			snprintf(msg, sizeof(msg), "bad address '%.*s' %s", (int)len - 2, a + 1,
				 bad_address);
		else
			snprintf(msg, sizeof(msg), "bad address '%s' %s", a, bad_address);
		check_to(a, msg);
	}
	for (i = 0; i < sizeof(bad_prefixes) / sizeof(bad_prefixes[0]); i++) {
		snprintf(msg, sizeof(msg), "bad prefix length in '%s' %s", bad_prefixes[i],
			 bad_prefix);
		check_to(bad_prefixes[i], msg);
	}
	check_to("10.0.0.1/8", "'10.0.0.1/8' has host bits set (did you mean '10.0.0.0/8'?)");
	check_to("192.0.2.128/24",
		 "'192.0.2.128/24' has host bits set (did you mean '192.0.2.0/24'?)");
	check_to("10.255.0.0/9", "'10.255.0.0/9' has host bits set (did you mean '10.128.0.0/9'?)");
	check_to("2001:db8::1/32",
		 "'2001:db8::1/32' has host bits set (did you mean '2001:db8::/32'?)");
	check_to("::ffff:10.0.0.1/104",
		 "'::ffff:10.0.0.1/104' has host bits set (did you mean '10.0.0.0/8'?)");
	check_to("::ffff:0:0/95", "'::ffff:0:0/95' is an IPv4-mapped IPv6 range shorter than /96 "
				  "(write the IPv4 range instead)");
	check_to("[10.0.0.0/8]", "expected a string, got a list");
	check_to("~", "expected a string, got null");
}

/* "        ports: [P]" is line 6; P is at column 17. */
static void check_port(const char *port, const char *msg)
{
	char *yaml, *want;

	assert_true(asprintf(&yaml, EGRESS "      - to: 10.0.0.0/8\n        ports: [%s]\n", port) >
		    0);
	if (msg) {
		assert_true(asprintf(&want, "6:17: network.egress.allow[0].ports[0]: %s\n", msg) >
			    0);
		check_errors(yaml, want);
		free(want);
	} else {
		check_valid(yaml);
	}
	free(yaml);
}

static void test_ports(void **state)
{
	check_port("1", NULL);
	check_port("65535", NULL);
	check_port("\"443\"", NULL);
	check_port("8000-8100", NULL);
	check_port("\"8000-8100\"", NULL);
	check_port("80-80", NULL);
	check_port("1-65535", NULL);
	check_port("0", "port 0 is out of range (1-65535)");
	check_port("65536", "port 65536 is out of range (1-65535)");
	check_port("-80", "port -80 is out of range (1-65535)");
	check_port("99999999999999999999", "port 99999999999999999999 is out of range (1-65535)");
	check_port("\"0\"", "port '0' is out of range (1-65535)");
	check_port("0-10", "port '0-10' is out of range (1-65535)");
	check_port("10-65536", "port '10-65536' is out of range (1-65535)");
	check_port("8100-8000", "bad port range '8100-8000' (the first port is greater than the "
				"last)");
	check_port("80-", "bad port '80-' (use a number 1-65535 or a range such as 8000-8100)");
	check_port("80a", "bad port '80a' (use a number 1-65535 or a range such as 8000-8100)");
	check_port("\"80 - 90\"",
		   "bad port '80 - 90' (use a number 1-65535 or a range such as 8000-8100)");
	check_port("1-2-3", "bad port '1-2-3' (use a number 1-65535 or a range such as 8000-8100)");
	check_port("http", "bad port 'http' (use a number 1-65535 or a range such as 8000-8100)");
	check_port("123456", "port 123456 is out of range (1-65535)");
	check_port("\"123456\"", "port '123456' is out of range (1-65535)");
	check_port("1-99999999999999999999",
		   "port '1-99999999999999999999' is out of range (1-65535)");
	check_port("1.5", "expected a port or a range such as 8000-8100, got a number");
	check_port("true", "expected a port or a range such as 8000-8100, got a boolean");
	check_port("[80]", "expected a port or a range such as 8000-8100, got a list");

	check_errors(EGRESS "      - to: 10.0.0.0/8\n        ports: []\n",
		     "6:16: network.egress.allow[0].ports: empty list (leave 'ports' out to match "
		     "every port)\n");
	check_errors(EGRESS "      - to: 10.0.0.0/8\n        ports: 443\n",
		     "6:16: network.egress.allow[0].ports: expected a list, got an integer\n");
	/* several errors in one list, each at its item */
	check_errors(EGRESS "      - to: 10.0.0.0/8\n        ports: [443, 0, 22, 70000]\n",
		     "6:22: network.egress.allow[0].ports[1]: port 0 is out of range (1-65535)\n"
		     "6:29: network.egress.allow[0].ports[3]: port 70000 is out of range "
		     "(1-65535)\n");
}

static void test_egress_entries(void **state)
{
	check_valid(EGRESS "      - to: 10.0.0.0/8\n        protocol: tcp\n"
			   "      - to: 10.0.0.0/8\n        protocol: udp\n"
			   "      - to: 10.0.0.0/8\n        protocol: any\n"
			   "    deny:\n      - to: 10.0.5.0/24\n    default: allow\n");
	check_errors(EGRESS "      - to: 10.0.0.0/8\n        protocol: icmp\n",
		     "6:19: network.egress.allow[0].protocol: bad value 'icmp' (expected 'tcp', "
		     "'udp' or 'any')\n");
	check_errors(EGRESS "      - to: 10.0.0.0/8\n        protocol: TCP\n",
		     "6:19: network.egress.allow[0].protocol: bad value 'TCP' (expected 'tcp', "
		     "'udp' or 'any')\n");
	check_errors(EGRESS "      - ports: [80]\n",
		     "5:9: network.egress.allow[0]: missing required key 'to'\n");
	check_errors(EGRESS "      - 10.0.0.0/8\n",
		     "5:9: network.egress.allow[0]: expected a mapping, got a string\n");
	check_errors(EGRESS "      - to: 10.0.0.0/8\n        port: 80\n",
		     "6:9: network.egress.allow[0]: unknown key 'port' (did you mean 'ports'?)\n");
	check_errors(API "network:\n  egress:\n    deny: 10.0.0.0/8\n",
		     "4:11: network.egress.deny: expected a list, got a string\n");
	check_errors(API "network:\n  egress:\n    deny:\n      - to: 10.0.0.1/8\n",
		     "5:13: network.egress.deny[0].to: '10.0.0.1/8' has host bits set (did you "
		     "mean '10.0.0.0/8'?)\n");
	check_errors(API "network:\n  egress:\n    default: block\n",
		     "4:14: network.egress.default: bad value 'block' (expected 'allow' or "
		     "'deny')\n");
	check_errors(API "network:\n  egress: deny\n",
		     "3:11: network.egress: expected a mapping, got a string\n");
}

static void test_network_settings(void **state)
{
	check_valid(API "network:\n  loopback: deny\n  bind: allow\n  families: []\n");
	check_errors(API "network:\n  loopback: no\n",
		     "3:13: network.loopback: bad value 'no' (expected 'allow' or 'deny')\n");
	check_errors(API "network:\n  bind: true\n",
		     "3:9: network.bind: expected 'allow' or 'deny', got a boolean\n");
	check_errors(API "network:\n  firewall: {}\n",
		     "3:3: network: unknown key 'firewall' (valid keys: mode, egress, loopback, "
		     "bind, families)\n");
	check_errors(API "network:\n  ingress: {}\n",
		     "3:3: network: unknown key 'ingress' (did you mean 'egress'?)\n");
}

static void test_families(void **state)
{
	check_valid(API
		    "network:\n  families: [unix, inet, inet6, netlink, packet, vsock, alg, xdp, "
		    "key, can, bluetooth]\n");
	check_errors(API "network:\n  families: [inet, inet7, Inet, inet]\n",
		     "3:20: network.families[1]: unknown socket family 'inet7' (did you mean "
		     "'inet6'?)\n"
		     "3:27: network.families[2]: unknown socket family 'Inet' (did you mean "
		     "'inet'?)\n"
		     "3:33: network.families[3]: duplicate family 'inet'\n");
	check_errors(
	    API "network:\n  families: [AF_INET]\n",
	    "3:14: network.families[0]: unknown socket family 'AF_INET' (known families: "
	    "unix, inet, ax25, ipx, appletalk, x25, inet6, key, netlink, packet, rds, llc, "
	    "can, tipc, bluetooth, alg, vsock, qipcrtr, smc, xdp, mctp)\n");
	check_errors(API "network:\n  families: inet\n",
		     "3:13: network.families: expected a list, got a string\n");
	check_errors(
	    API "network:\n  families: [2]\n",
	    "3:14: network.families[0]: unknown socket family '2' (known families: "
	    "unix, inet, ax25, ipx, appletalk, x25, inet6, key, netlink, packet, rds, llc, "
	    "can, tipc, bluetooth, alg, vsock, qipcrtr, smc, xdp, mctp)\n");
}

static void test_syscall_names(void **state)
{
	check_valid(API "syscalls:\n  deny: [ptrace, bpf, mount, unshare, setns, keyctl, "
			"perf_event_open, userfaultfd, io_uring_setup]\n  allow: [personality]\n");
	check_errors(API "syscalls:\n  deny: [ptrac, nosuchcall, socketcall, PTRACE]\n",
		     "3:10: syscalls.deny[0]: unknown syscall 'ptrac' (did you mean 'ptrace'?)\n"
		     "3:17: syscalls.deny[1]: unknown syscall 'nosuchcall' (not a system call on "
		     "x86_64)\n"
		     "3:29: syscalls.deny[2]: unknown syscall 'socketcall' (not a system call on "
		     "x86_64)\n"
		     "3:41: syscalls.deny[3]: unknown syscall 'PTRACE' (not a system call on "
		     "x86_64)\n");
	check_errors(API "syscalls:\n  allow: [io_uring_setpu]\n",
		     "3:11: syscalls.allow[0]: unknown syscall 'io_uring_setpu' (did you mean "
		     "'io_uring_setup'?)\n");
	check_errors(API "syscalls:\n  deny: [\"ptrace\\0\"]\n",
		     "3:10: syscalls.deny[0]: unknown syscall 'ptrace\\x00' (not a system call on "
		     "x86_64)\n");
	check_errors(API "syscalls:\n  deny: [ptrace, bpf, ptrace]\n  allow:\n    - bpf\n",
		     "3:23: syscalls.deny[2]: duplicate syscall 'ptrace' (first at column 10)\n"
		     "5:7: syscalls.allow[0]: 'bpf' is also in syscalls.deny (line 3)\n");
	check_errors(API "syscalls:\n  deny: ptrace\n",
		     "3:9: syscalls.deny: expected a list, got a string\n");
	check_errors(API "syscalls:\n  deny: [[ptrace]]\n",
		     "3:10: syscalls.deny[0]: expected a string, got a list\n");
}

static void test_errno(void **state)
{
	struct fng_policy *p = load_ok(API "syscalls:\n  errno: EACCES\n");

	assert_int_equal(p->syscalls.errno_nr, EACCES);
	assert_string_equal(p->syscalls.errno_name, "EACCES");
	policy_free(p);
	p = load_ok(API "syscalls:\n  errno: ENOSYS\n");
	assert_int_equal(p->syscalls.errno_nr, ENOSYS);
	policy_free(p);
	/* a second name of an errno is accepted and shown under its first name */
	p = load_ok(API "syscalls:\n  errno: EWOULDBLOCK\n");
	assert_int_equal(p->syscalls.errno_nr, EAGAIN);
	assert_string_equal(p->syscalls.errno_name, "EAGAIN");
	policy_free(p);

	check_errors(API "syscalls:\n  errno: EPREM\n",
		     "3:10: syscalls.errno: unknown errno name 'EPREM' (did you mean 'EPERM'?)\n");
	check_errors(API "syscalls:\n  errno: eperm\n",
		     "3:10: syscalls.errno: unknown errno name 'eperm' (use a name such as EPERM, "
		     "EACCES or ENOSYS)\n");
	check_errors(API "syscalls:\n  errno: 1\n",
		     "3:10: syscalls.errno: unknown errno name '1' (use a name such as EPERM, "
		     "EACCES or ENOSYS)\n");
	check_errors(API "syscalls:\n  errno: [EPERM]\n",
		     "3:10: syscalls.errno: expected a string, got a list\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidr),	   cmocka_unit_test(test_ports),
	    cmocka_unit_test(test_egress_entries), cmocka_unit_test(test_network_settings),
	    cmocka_unit_test(test_families),	   cmocka_unit_test(test_syscall_names),
	    cmocka_unit_test(test_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
