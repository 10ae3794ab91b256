// SPDX-License-Identifier: GPL-2.0
/* The pinned bpf_links (one per interface the filter is attached to): what each is attached to. */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kern/links.h"
#include "kern/pins.h"

/* The ifindex a pinned link is attached to: 0 once its interface is gone, <0 if unreadable. */
int link_ifindex(int fd, __u32 *prog_id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (prog_id)
		*prog_id = info.prog_id;
	return info.xdp.ifindex;
}

static int link_cmp(const void *a, const void *b)
{
	return strcmp(((const struct link_state *)a)->name, ((const struct link_state *)b)->name);
}

int links_read(const struct gb_ctx *ctx, struct link_state **links, size_t *n)
{
	struct link_state *v = NULL;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;

	_Static_assert(sizeof(v->name) == IF_NAMESIZE, "link_state name is an interface name");
	*links = NULL;
	*n = 0;
	d = opendir(ctx->pin_dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		const char *name = de->d_name + strlen(GB_LINK_PREFIX);
		char path[512];
		__u32 prog_id = 0;
		int fd, ifindex;

		if (strncmp(de->d_name, GB_LINK_PREFIX, strlen(GB_LINK_PREFIX)) ||
		    strlen(name) >= IF_NAMESIZE)
			continue;
		snprintf(path, sizeof(path), "%s/%s", ctx->pin_dir, de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;	/* removed since readdir */
		ifindex = link_ifindex(fd, &prog_id);
		close(fd);
		if (*n == cap) {
			struct link_state *nv = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		memset(&v[*n], 0, sizeof(v[*n]));
		snprintf(v[*n].name, sizeof(v[*n].name), "%s", name);
		v[*n].ifindex = ifindex > 0 ? ifindex : 0;
		v[*n].prog_id = prog_id;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), link_cmp);
	*links = v;
	return 0;
}

const char *link_attach_mode(int ifindex, __u32 prog_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (ifindex <= 0)
		return "detached";
	if (bpf_xdp_query(ifindex, 0, &q))
		return "unknown";
	if (q.drv_prog_id == prog_id)
		return "native";
	if (q.skb_prog_id == prog_id)
		return "generic";
	if (q.hw_prog_id == prog_id)
		return "offload";
	return "unknown";
}

int prog_map_ids(__u32 prog_id, __u32 **ids, __u32 *n)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(prog_id), err = 0;

	*ids = NULL;
	*n = 0;
	if (fd < 0)
		return -errno;
	/* First how many maps, then their ids. */
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	*n = info.nr_map_ids;
	if (!*n)
		goto out;
	*ids = calloc(*n, sizeof(**ids));
	if (!*ids) {
		err = -ENOMEM;
		goto out;
	}
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = *n;
	info.map_ids = (__u64)(unsigned long)*ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else if (info.nr_map_ids < *n)
		*n = info.nr_map_ids;
out:
	if (err)
		*n = 0;
	close(fd);
	return err;
}

/* "lpm" or "table": read back from the program's read-only data (use_lpm). */
const char *link_lookup_kind(__u32 prog_id)
{
	__u32 zero = 0, *map_ids, n;
	const char *kind = "unknown";

	prog_map_ids(prog_id, &map_ids, &n);	/* none on an error: "unknown" */
	for (__u32 i = 0; i < n; i++) {
		struct bpf_map_info minfo = {};
		__u32 mlen = sizeof(minfo);
		int mfd = bpf_map_get_fd_by_id(map_ids[i]);
		char value[64] = {};

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &minfo, &mlen) && strstr(minfo.name, ".rodata") &&
		    minfo.value_size <= sizeof(value) && !bpf_map_lookup_elem(mfd, &zero, value))
			kind = value[0] ? "lpm" : "table";
		close(mfd);
	}
	free(map_ids);
	return kind;
}
