# SPDX-License-Identifier: Apache-2.0
# The tree every case of tests/conformance/cases starts from: /srv/conf, and in TMP (/tmp in the
# bench; /srv/tmp in a microVM, whose /tmp is mounted later) a copy of busybox that no exec rule
# allows. Sourced by run.sh and by the microVM conformance image's /init.
conformance_tree() { # TMP
	rm -rf /srv/conf "$1/true" "$1/dyn" /fnguard/script
	mkdir -p /srv/conf/allowed /srv/conf/ro /srv/conf/wo /srv/conf/denied "$1"
	echo secret >/srv/conf/secret
	echo data >/srv/conf/allowed/f
	echo pinned >/srv/conf/allowed/pinned
	echo ro >/srv/conf/ro/f
	echo handler >/srv/conf/ro/handler
	echo wo >/srv/conf/wo/f
	cp /bin/busybox "$1/true"
}
