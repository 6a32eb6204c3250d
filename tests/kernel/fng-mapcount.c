// SPDX-License-Identifier: Apache-2.0
/*
 * Bench helper: the number of entries of each hash map pinned under DIR (the daemon's pinned
 * maps), as "NAME N" lines, so a test can check that nothing is left behind. Array maps always
 * have all their entries and are skipped.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

int main(int argc, char **argv)
{
	char path[512], key[256], next[256];
	struct bpf_map_info info;
	struct dirent *de;
	DIR *d;

	if (argc != 2) {
		fprintf(stderr, "usage: fng-mapcount DIR\n");
		return 2;
	}
	d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 1;
	}
	while ((de = readdir(d))) {
		__u32 len = sizeof(info);
		unsigned long n = 0;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		fd = bpf_obj_get(path);
		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		if ((info.type != BPF_MAP_TYPE_HASH && info.type != BPF_MAP_TYPE_LPM_TRIE) ||
		    info.key_size > sizeof(key)) {
			close(fd);
			continue;
		}
		if (!bpf_map_get_next_key(fd, NULL, next)) {
			do {
				n++;
				memcpy(key, next, info.key_size);
			} while (!bpf_map_get_next_key(fd, key, next));
		}
		printf("%s %lu\n", de->d_name, n);
		close(fd);
	}
	closedir(d);
	return 0;
}
