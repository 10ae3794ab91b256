// SPDX-License-Identifier: GPL-2.0
/*
 * The rule set's ufrags (meetings on shared ports, told apart by ICE) in the maps: read whole with
 * the rest of the rules, and changed one update at a time in an order the data path can follow.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/parse.h"
#include "kern/maps.h"
#include "kern/ufrag_ways.h"
#include "state/ufrags.h"
#include "geoblock.skel.h"

/* Takes slot out of the list of meeting id, its owner until now. */
static void unlink_slot(struct ufrag_set *u, __u32 slot, __u32 id)
{
	__u32 prev = u->prev[slot], next = u->next[slot];

	if (!slot || !id || id >= GB_MAX_MEETINGS)
		return;
	if (prev)
		u->next[prev] = next;
	else if (u->first[id] == slot)
		u->first[id] = next;
	if (next)
		u->prev[next] = prev;
	u->prev[slot] = u->next[slot] = 0;
}

/* Puts slot at the head of the list of meeting id. */
static void link_slot(struct ufrag_set *u, __u32 slot, __u32 id)
{
	if (!slot || !id || id >= GB_MAX_MEETINGS)
		return;
	u->prev[slot] = 0;
	u->next[slot] = u->first[id];
	if (u->first[id])
		u->prev[u->first[id]] = slot;
	u->first[id] = slot;
}

/*
 * A ufrag's key, and the map it is kept in (by its length; its key size says how much of k is
 * read). Both forms are the length, then the text, zero past it.
 */
static int key_of(const struct ufrag_set *u, const char *ufrag, struct ufrag_long_key *k)
{
	size_t len = strnlen(ufrag, GB_UFRAG_MAX);

	memset(k, 0, sizeof(*k));
	k->len = len;
	memcpy(k->text, ufrag, len);
	return len <= GB_UFRAG_SHORT ? u->key_fd : u->long_fd;
}

/* Takes the keys of one map: fd's, each ksz bytes, of ufrags from min_len to max_len long. */
static int read_keys(struct ufrag_set *u, int fd, size_t ksz, __u32 min_len, __u32 max_len)
{
	struct ufrag_long_key k;
	__u8 *keys = NULL;
	__u32 *slots = NULL;
	size_t n;
	int err;

	err = map_entries(fd, ksz, sizeof(*slots), (void **)&keys, (void **)&slots, &n);
	for (size_t i = 0; i < n && !err; i++) {
		__u32 slot = slots[i];

		memset(&k, 0, sizeof(k));
		memcpy(&k, keys + i * ksz, ksz);
		if (!slot || slot >= GB_UFRAGS_MAX || u->text[slot] || !u->slots[slot].meeting_id ||
		    k.len < min_len || k.len > max_len) {
			struct ufrag_stray *v = realloc(u->stray, (u->n_stray + 1) * sizeof(*v));

			if (!v) {
				err = -ENOMEM;
				break;
			}
			u->stray = v;
			u->stray[u->n_stray++] = (struct ufrag_stray){ fd, k };
			continue;
		}
		u->text[slot] = strndup((const char *)k.text, k.len);
		if (!u->text[slot]) {
			err = -ENOMEM;
			break;
		}
		u->used++;
		link_slot(u, slot, u->slots[slot].meeting_id);
	}
	free(keys);
	free(slots);
	return err;
}

/* A key of no slot, or of a slot another key has, is stray; so is a slot of no key. */
int ufrags_read(struct ufrag_set *u, const struct geoblock *skel)
{
	__u32 zero = 0;
	int err;

	memset(u, 0, sizeof(*u));
	u->key_fd = bpf_map__fd(skel->maps.meeting_by_ufrag);
	u->long_fd = bpf_map__fd(skel->maps.meeting_by_long_ufrag);
	u->slot_fd = bpf_map__fd(skel->maps.ufrag_owner);
	u->sets_fd = bpf_map__fd(skel->maps.ufrag_sets);
	err = hot_open(bpf_map__fd(skel->maps.ice_hot), &u->hot);
	if (err)
		return err;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.ice_seed), &zero, &u->seed))
		return -errno;
	err = map_view_open(u->slot_fd, GB_UFRAGS_MAX, sizeof(*u->slots), &u->view);
	if (err)
		return err;
	u->slots = u->view.base;
	u->text = calloc(GB_UFRAGS_MAX, sizeof(*u->text));
	u->first = calloc(GB_MAX_MEETINGS, sizeof(*u->first));
	u->next = calloc(GB_UFRAGS_MAX, sizeof(*u->next));
	u->prev = calloc(GB_UFRAGS_MAX, sizeof(*u->prev));
	if (!u->text || !u->first || !u->next || !u->prev)
		return -ENOMEM;
	err = read_keys(u, u->key_fd, sizeof(struct ufrag_key), 1, GB_UFRAG_SHORT);
	return err ?: read_keys(u, u->long_fd, sizeof(struct ufrag_long_key), GB_UFRAG_SHORT + 1,
				GB_UFRAG_MAX);
}

void ufrag_set_free(struct ufrag_set *u)
{
	for (size_t i = 0; u->text && i < GB_UFRAGS_MAX; i++)
		free(u->text[i]);
	free(u->text);
	free(u->first);
	free(u->next);
	free(u->prev);
	free(u->stray);
	map_view_close(&u->view);
	hot_close(&u->hot);
	memset(u, 0, sizeof(*u));
}

int ufrags_of(const struct ufrag_set *u, __u32 id, char ***out, size_t *n)
{
	size_t k = 0;

	*out = NULL;
	*n = 0;
	for (__u32 s = u->first[id]; s; s = u->next[s])
		k++;
	if (!k)
		return 0;
	*out = calloc(k, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (__u32 s = u->first[id]; s; s = u->next[s]) {
		(*out)[*n] = strdup(u->text[s]);
		if (!(*out)[(*n)++]) {
			ufrag_list_free(*out, *n);
			*out = NULL;
			*n = 0;
			return -ENOMEM;
		}
	}
	qsort(*out, *n, sizeof(**out), ufrag_cmp);
	return 0;
}

/* The slot of key k in map fd (0: none); -errno if the map cannot be read. */
static int slot_of(int fd, const struct ufrag_long_key *k, __u32 *slot)
{
	*slot = 0;
	if (bpf_map_lookup_elem(fd, k, slot)) {
		*slot = 0;
		return errno == ENOENT ? 0 : -errno;
	}
	return *slot < GB_UFRAGS_MAX ? 0 : -EIO;
}

__u32 ufrag_owner(const struct ufrag_set *u, const char *ufrag)
{
	struct ufrag_long_key k;
	__u32 slot;
	int fd = key_of(u, ufrag, &k);

	if (slot_of(fd, &k, &slot) || !slot)
		return 0;
	return u->slots[slot].meeting_id;
}

size_t ufrags_room(const struct ufrag_set *u)
{
	return GB_UFRAGS_MAX - 1 - u->used;
}

static int write_slot(struct ufrag_set *u, __u32 slot, const struct ufrag_slot *v)
{
	if (bpf_map_update_elem(u->slot_fd, &slot, v, BPF_ANY))
		return -errno;
	return 0;
}

/*
 * Frees slot: its meeting gone, its generation raised, so that senders learned for it are not (and
 * the meeting marked, its entries of ice_hot to be cleared).
 */
static int free_slot(struct ufrag_set *u, __u32 slot)
{
	struct ufrag_slot v = u->slots[slot];
	int err;

	hot_mark(&u->hot, v.meeting_id);
	unlink_slot(u, slot, v.meeting_id);
	v.meeting_id = 0;
	v.gen++;
	err = write_slot(u, slot, &v);
	if (err)
		return err;
	if (u->text[slot]) {
		free(u->text[slot]);
		u->text[slot] = NULL;
		u->used--;
	}
	return 0;
}

/* A slot with no meeting and no key, from where the last one was found; 0 if none. */
static __u32 find_free_slot(const struct ufrag_set *u)
{
	static __thread __u32 hint;

	for (__u32 k = 0; k < GB_UFRAGS_MAX; k++) {
		__u32 slot = (hint + k) % GB_UFRAGS_MAX;

		if (slot && !u->slots[slot].meeting_id && !u->text[slot]) {
			hint = slot + 1;
			return slot;
		}
	}
	return 0;
}

/* One ufrag given (ufrags.h), the entries of ice_hot left for the caller to clear (hot_forget). */
static int give(struct ufrag_set *u, const char *ufrag, __u32 id)
{
	struct ufrag_long_key k;
	struct ufrag_slot v;
	__u32 slot;
	int fd = key_of(u, ufrag, &k), err;

	err = slot_of(fd, &k, &slot);
	if (err)
		return err;
	if (slot) {
		v = u->slots[slot];
		if (v.meeting_id == id)
			return 0;
		if (!id) {
			if (fd == u->key_fd && (err = ufrag_ways_del(u->sets_fd, ufrag, u->seed, slot)))
				return err;
			if (bpf_map_delete_elem(fd, &k) && errno != ENOENT)
				return -errno;
			return free_slot(u, slot);
		}
		hot_mark(&u->hot, v.meeting_id);
		unlink_slot(u, slot, v.meeting_id);
		v.meeting_id = id;
		err = write_slot(u, slot, &v);
		if (!err)
			link_slot(u, slot, id);
		return err;
	}
	if (!id)
		return 0;
	slot = find_free_slot(u);
	if (!slot)
		return -ENOSPC;
	u->text[slot] = strdup(ufrag);
	if (!u->text[slot])
		return -ENOMEM;
	u->used++;
	v = u->slots[slot];
	v.meeting_id = id;
	/*
	 * Raised again: a Binding Request that read the slot's meeting before it was freed and its
	 * generation after binds its sender to the freed one, which must not name this ufrag.
	 */
	v.gen++;
	err = write_slot(u, slot, &v);
	if (!err && bpf_map_update_elem(fd, &k, &slot, BPF_NOEXIST))
		err = -errno;
	if (err) {
		free_slot(u, slot);
		return err;
	}
	link_slot(u, slot, id);
	/* Both lines full: the data path finds it by its key (the way is only quicker). */
	if (fd == u->key_fd && (err = ufrag_ways_put(u->sets_fd, ufrag, u->seed, slot)) &&
	    err != -ENOSPC)
		return err;
	return 0;
}

int ufrags_add(struct ufrag_set *u, __u32 id, char *const *list, size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = give(u, list[i], id);
	/* Once for the whole list: a pass over ice_hot each would take minutes for 200,000. */
	hot_forget(&u->hot);
	return err;
}

static int gives(struct ufrag_set *u, __u32 id, char *const *list, size_t n)
{
	int err;

	for (size_t i = 0; i < n; i++) {
		__u32 owner = ufrag_owner(u, list[i]);

		if (owner && owner != id)
			return -EEXIST;
	}
	for (size_t i = 0; i < n; i++) {
		err = give(u, list[i], id);
		if (err)
			return err;
	}
	for (__u32 slot = u->first[id], next; slot; slot = next) {
		next = u->next[slot];
		if (ufrag_list_has(list, n, u->text[slot]))
			continue;
		err = give(u, u->text[slot], 0);
		if (err)
			return err;
	}
	return 0;
}

int ufrags_give(struct ufrag_set *u, __u32 id, char *const *list, size_t n)
{
	int err = gives(u, id, list, n);

	hot_forget(&u->hot);
	return err;
}

int ufrags_release(struct ufrag_set *u, __u32 id)
{
	int err = 0;

	while (u->first[id] && !err)
		err = give(u, u->text[u->first[id]], 0);
	hot_forget(&u->hot);
	return err;
}

/*
 * Frees each way that is not where its slot's ufrag (a short one, with a meeting) would be, then
 * gives a way to each short ufrag without one: what an interrupted change, or a controller from
 * before ufrag_sets, left.
 */
static int repair_ways(struct ufrag_set *u)
{
	struct map_view view;
	bool *has;
	int err;

	/*
	 * No ufrag: nothing to give a way, and no slot a stray way could lead a ufrag to (ways go
	 * before their slots are freed). Most servers have no shared port: their changes read nothing.
	 */
	if (!u->used)
		return 0;
	has = calloc(GB_UFRAGS_MAX, sizeof(*has));
	if (!has)
		return -ENOMEM;
	err = map_view_open(u->sets_fd, GB_UFRAG_SETS, sizeof(struct ufrag_line), &view);
	if (err) {
		free(has);
		return err;
	}
	for (__u32 idx = 0; idx < GB_UFRAG_SETS && !err; idx++) {
		struct ufrag_line line = *(const struct ufrag_line *)MAP_VIEW_ELEM(&view, idx);
		bool changed = false;

		for (int w = 0; w < GB_UFRAG_WAYS; w++) {
			__u64 v = line.way[w], slot = v & GB_UFRAG_SLOT_MASK;
			const char *text = slot < GB_UFRAGS_MAX ? u->text[slot] : NULL;

			if (!v)
				continue;
			if (text && !has[slot] && strlen(text) <= GB_UFRAG_SHORT &&
			    ufrag_ways_fits(text, u->seed, idx, v)) {
				has[slot] = true;
				continue;
			}
			line.way[w] = 0;
			changed = true;
		}
		if (changed && bpf_map_update_elem(u->sets_fd, &idx, &line, BPF_EXIST))
			err = -errno;
	}
	map_view_close(&view);
	for (__u32 slot = 1; slot < GB_UFRAGS_MAX && !err; slot++)
		if (!has[slot] && u->text[slot] && strlen(u->text[slot]) <= GB_UFRAG_SHORT &&
		    (err = ufrag_ways_put(u->sets_fd, u->text[slot], u->seed, slot)) == -ENOSPC)
			err = 0;
	free(has);
	return err;
}

int ufrags_repair(struct ufrag_set *u, const struct meeting_policy *policies)
{
	int err = 0;

	hot_repair(&u->hot);
	for (size_t i = 0; i < u->n_stray; i++)
		if (bpf_map_delete_elem(u->stray[i].fd, &u->stray[i].key) && errno != ENOENT)
			return -errno;
	u->n_stray = 0;
	for (__u32 slot = 1; slot < GB_UFRAGS_MAX && !err; slot++) {
		__u32 id = u->slots[slot].meeting_id;

		if (!id)
			continue;
		if (!u->text[slot])
			err = free_slot(u, slot);
		else if (id >= GB_MAX_MEETINGS || !policies[id].name[0])
			err = give(u, u->text[slot], 0);
	}
	hot_forget(&u->hot);
	return err ?: repair_ways(u);
}
