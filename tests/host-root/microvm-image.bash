# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the microVM host tests that boot a guest image of their own (microvm_console.sh,
# microvm_hostile.sh, microvm_conformance.sh), before microvm-lib.bash. Needs $root.
#   guest_init_head     prints the start of a replacement /init (busybox sh): /proc, /sys and
#                       /dev mounted, the image's modules loaded, $port the control port
#                       (fnguard.ctl), or empty when it did not show up within 10 s
#   test_image STAGE    the real guest image followed by an archive of all that STAGE holds
#                       (later entries win: STAGE's /init replaces the agent); removes STAGE
#                       and names the image in FNGUARD_MICROVM_TEST_IMAGE, which
#                       microvm-lib.bash gives the daemon (and removes on exit)
guest_init_head() {
	cat <<'EOS'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
for m in $(cat /fnguard/modules); do /bin/busybox modprobe "$m"; done
port=
for i in $(/bin/busybox seq 100); do
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat "$p/name" 2>/dev/null)" = fnguard.ctl ] && port=/dev/${p##*/}
	done
	[ -n "$port" ] && break
	sleep 0.1
done
EOS
}

test_image() { # test_image STAGE
	test_image_file=$(mktemp)
	trap 'rm -f "$test_image_file"' EXIT
	cp "$root/build/guest/microvm-initrd.cpio.gz" "$test_image_file"
	# The kernel finds an uncompressed archive after a compressed one only at a 4-byte boundary.
	head -c $(((4 - $(stat -c %s "$test_image_file") % 4) % 4)) /dev/zero >>"$test_image_file"
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 2>/dev/null) \
		>>"$test_image_file"
	rm -rf "$1"
	export FNGUARD_MICROVM_TEST_IMAGE=$test_image_file
}
