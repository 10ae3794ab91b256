// SPDX-License-Identifier: GPL-2.0
/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput on saved inputs without libFuzzer, each in its own
 * process (a crash or a hang fails that input only), for `make test`; a target's
 * LLVMFuzzerInitialize, if it has one, runs once before (its state is each input's to start from):
 *   fuzz_NAME FILE|DIR...     prints a line per failed input and "replayed N inputs, N failed"
 */
#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fuzz.h"

#define HANG_SECONDS	60

/* Optional, as in libFuzzer: set-up shared by every input, made once before the first. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int passed, failed;

static int read_all(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0, got;
	uint8_t *buf = malloc(cap);

	if (!f || !buf) {
		int err = f ? -ENOMEM : -errno;

		if (f)
			fclose(f);
		free(buf);
		return err;
	}
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			uint8_t *b = realloc(buf, cap *= 2);

			if (!b) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = b;
		}
	}
	fclose(f);
	*data = buf;
	*size = n;
	return 0;
}

static void replay_file(const char *path)
{
	uint8_t *data = NULL;
	size_t size = 0;
	int status, err;
	pid_t pid;

	err = read_all(path, &data, &size);
	if (err) {
		printf("FAIL: %s: cannot read: %s\n", path, strerror(-err));
		failed++;
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(HANG_SECONDS);
		LLVMFuzzerTestOneInput(data, size);
		free(data);
		exit(0);	/* exit, not _exit: LeakSanitizer checks at exit */
	}
	free(data);
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		printf("FAIL: %s: cannot run: %s\n", path, strerror(errno));
		failed++;
	} else if (WIFSIGNALED(status)) {
		printf("FAIL: %s: %s\n", path, WTERMSIG(status) == SIGALRM ? "hangs" :
		       strsignal(WTERMSIG(status)));
		failed++;
	} else if (WEXITSTATUS(status)) {
		printf("FAIL: %s: exit %d\n", path, WEXITSTATUS(status));
		failed++;
	} else {
		passed++;
	}
}

static void replay(const char *path)
{
	struct dirent **names;
	struct stat st;
	int n;

	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		replay_file(path);
		return;
	}
	n = scandir(path, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char sub[4096];

		if (names[i]->d_name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
			replay(sub);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		replay(argv[i]);
	printf("replayed %d inputs, %d failed\n", passed + failed, failed);
	return failed ? 1 : 0;
}
