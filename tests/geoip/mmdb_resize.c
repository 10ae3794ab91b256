// SPDX-License-Identifier: GPL-2.0
/*
 * Rewrites a MaxMind DB with another search-tree record size (24, 28 or 32 bits), the same tree,
 * data section and metadata otherwise, so a real database can be tested at every record size:
 *   mmdb_resize IN.mmdb OUT.mmdb 24|28|32
 * Record values stay as they are (data pointers count from the data section, whose content does
 * not move relative to itself); only their packing changes, and "record_size" in the metadata.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <maxminddb.h>

#define MARKER "\xAB\xCD\xEFMaxMind.com"

static void put_node(unsigned char *p, int size, unsigned long long l, unsigned long long r)
{
	switch (size) {
	case 24:
		p[0] = l >> 16, p[1] = l >> 8, p[2] = l;
		p[3] = r >> 16, p[4] = r >> 8, p[5] = r;
		break;
	case 28:
		/* the middle byte holds the top nibble of each record, left's first */
		p[0] = l >> 16, p[1] = l >> 8, p[2] = l;
		p[3] = ((l >> 24) & 0xf) << 4 | ((r >> 24) & 0xf);
		p[4] = r >> 16, p[5] = r >> 8, p[6] = r;
		break;
	default:
		p[0] = l >> 24, p[1] = l >> 16, p[2] = l >> 8, p[3] = l;
		p[4] = r >> 24, p[5] = r >> 16, p[6] = r >> 8, p[7] = r;
		break;
	}
}

int main(int argc, char **argv)
{
	const unsigned char *data, *data_end, *meta;
	unsigned char *tree, *patch;
	size_t meta_len, tree_len, old_tree_len;
	MMDB_s db;
	FILE *out;
	int size, st;

	if (argc != 4 || ((size = atoi(argv[3])) != 24 && size != 28 && size != 32)) {
		fprintf(stderr, "usage: mmdb_resize IN.mmdb OUT.mmdb 24|28|32\n");
		return 1;
	}
	st = MMDB_open(argv[1], MMDB_MODE_MMAP, &db);
	if (st != MMDB_SUCCESS) {
		fprintf(stderr, "mmdb_resize: %s: %s\n", argv[1], MMDB_strerror(st));
		return 2;
	}
	old_tree_len = (size_t)db.metadata.node_count * db.metadata.record_size / 4;
	data = db.file_content + old_tree_len + 16;
	meta = db.metadata_section;
	data_end = meta - (sizeof(MARKER) - 1);
	meta_len = db.file_content + db.file_size - meta;
	if (data > data_end || memcmp(data_end, MARKER, sizeof(MARKER) - 1)) {
		fprintf(stderr, "mmdb_resize: %s: unexpected layout\n", argv[1]);
		return 2;
	}
	tree_len = (size_t)db.metadata.node_count * size / 4;
	tree = calloc(1, tree_len);
	patch = malloc(meta_len);
	if (!tree || !patch)
		return 2;
	for (uint32_t i = 0; i < db.metadata.node_count; i++) {
		MMDB_search_node_s n;

		if (MMDB_read_node(&db, i, &n) != MMDB_SUCCESS) {
			fprintf(stderr, "mmdb_resize: cannot read node %u\n", i);
			return 2;
		}
		if (size < 32 && (n.left_record >> size || n.right_record >> size)) {
			fprintf(stderr, "mmdb_resize: node %u: a record does not fit in %d bits\n", i,
				size);
			return 2;
		}
		put_node(tree + (size_t)i * size / 4, size, n.left_record, n.right_record);
	}
	/* "record_size" is a uint16 of one byte (control byte 0xa1) whatever the size. */
	memcpy(patch, meta, meta_len);
	{
		static const char key[] = "\x4brecord_size\xa1";
		unsigned char *at = memmem(patch, meta_len, key, sizeof(key) - 1);

		if (!at || at + sizeof(key) - 1 >= patch + meta_len) {
			fprintf(stderr, "mmdb_resize: record_size not found in the metadata\n");
			return 2;
		}
		at[sizeof(key) - 1] = size;
	}
	out = fopen(argv[2], "wb");
	if (!out || fwrite(tree, 1, tree_len, out) != tree_len ||
	    fwrite((char[16]){ 0 }, 1, 16, out) != 16 ||
	    fwrite(data, 1, data_end - data, out) != (size_t)(data_end - data) ||
	    fwrite(MARKER, 1, sizeof(MARKER) - 1, out) != sizeof(MARKER) - 1 ||
	    fwrite(patch, 1, meta_len, out) != meta_len || fclose(out)) {
		fprintf(stderr, "mmdb_resize: cannot write %s\n", argv[2]);
		return 2;
	}
	free(tree);
	free(patch);
	MMDB_close(&db);
	return 0;
}
