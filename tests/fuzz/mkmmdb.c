// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the sample databases of tests/lib/mmdb_samples.h into a directory: the seeds of the geoip
 * fuzz target (tests/fuzz/corpus/geoip/), kept equal to this output by tests/fuzz/replay_corpora.sh.
 *   mkmmdb DIR
 */
#include <stdio.h>
#include <zlib.h>
#include "mmdb_samples.h"

static int write_sample(const char *dir, const struct mmdb_sample *s)
{
	char path[4096];
	uint8_t *db;
	size_t len;
	int err = mmdb_write(&s->spec, &db, &len);

	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s", dir, s->name);
	if (s->gzip) {
		gzFile gz = gzopen(path, "wb9");

		err = !gz || gzwrite(gz, db, len) != (int)len;
		err |= gz && gzclose(gz) != Z_OK;
	} else {
		FILE *f = fopen(path, "wb");

		err = !f || fwrite(db, 1, len, f) != len;
		err |= f && fclose(f);
	}
	free(db);
	if (err)
		fprintf(stderr, "mkmmdb: cannot write %s\n", path);
	return err ? -EIO : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkmmdb DIR\n");
		return 1;
	}
	for (size_t i = 0; i < MMDB_SAMPLES; i++)
		if (write_sample(argv[1], &mmdb_samples[i]))
			return 2;
	return 0;
}
