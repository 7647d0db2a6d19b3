#include "formats/bundle.h"
#include "formats/buf.h"
#include "formats/enc.h"
#include "formats/entry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sl_bundle_slurp(char **out, size_t *len, const char *path, size_t max,
    struct sl_err *e)
{
	struct sl_buf b;
	char chunk[65536];
	size_t n;
	FILE *f;
	int rc = 0;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f)
		return sl_err_set(e, errno == ENOENT ? SL_ENOTFOUND : SL_EIO,
		    "cannot open %s: %s", path, strerror(errno));
	sl_buf_init(&b, max);
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = sl_buf_add(&b, chunk, n);
	if (!rc && ferror(f))
		rc = SL_EIO;
	fclose(f);
	if (rc) {
		sl_buf_free(&b);
		return sl_err_set(e, rc, rc == SL_ETOOBIG ? "%s is larger than "
		    "expected" : "cannot read %s", path);
	}
	*out = sl_buf_take(&b, len);
	return *out ? 0 : sl_err_set(e, SL_ENOMEM, "out of memory");
}

static int write_file(const char *path, const void *p, size_t n,
    struct sl_err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	const char *c = p;

	if (fd < 0)
		return sl_err_set(e, SL_EIO, "cannot create %s: %s", path,
		    strerror(errno));
	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return sl_err_set(e, SL_EIO, "cannot write %s: %s",
			    path, strerror(errno));
		}
		c += w;
		n -= (size_t)w;
	}
	if (fsync(fd)) {
		close(fd);
		return sl_err_set(e, SL_EIO, "cannot sync %s", path);
	}
	close(fd);
	return 0;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

struct exp {
	FILE *f;
	uint64_t limit;
	uint64_t next;
	const char *tmp;
	struct sl_err *e;
};

static int exp_entry(void *ctx, uint64_t seq, const uint8_t *p, size_t n)
{
	struct exp *x = ctx;

	if (seq >= x->limit)
		return 1; /* done: past what the checkpoint covers */
	if (seq != x->next)
		return sl_err_set(x->e, SL_EINTEGRITY, "the store has no entry "
		    "%llu (run sharelog-verify on it)",
		    (unsigned long long)x->next);
	x->next++;
	if (fwrite(p, 1, n, x->f) != n || fputc('\n', x->f) == EOF)
		return sl_err_set(x->e, SL_EIO, "cannot write entries.jsonl");
	return 0;
}

struct expcp {
	const char *dir;
	uint64_t limit;
	struct sl_err *e;
};

static int exp_cp(void *ctx, uint64_t size, const char *note, size_t n)
{
	struct expcp *x = ctx;
	char path[4200];

	if (size > x->limit)
		return 0;
	snprintf(path, sizeof(path), "%s/checkpoints/%llu", x->dir,
	    (unsigned long long)size);
	return write_file(path, note, n, x->e);
}

int sl_bundle_export(uint64_t *size, struct sl_store *s, const char *dir,
    const char *vkeys, struct sl_err *e)
{
	struct sl_store_txn *t = NULL;
	struct exp x = { NULL, 0, 0, NULL, e };
	struct expcp xc;
	char tmp[4096];
	char path[4200];
	const char *note;
	size_t notelen;
	struct stat st;
	int fd;
	int rc;

	*size = 0;
	if (!stat(dir, &st))
		return sl_err_set(e, SL_EEXIST, "%s already exists; export into "
		    "a new folder", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", dir, (long)getpid());
	if (mkdir(tmp, 0755))
		return sl_err_set(e, SL_EIO, "cannot create %s: %s", tmp,
		    strerror(errno));
	snprintf(path, sizeof(path), "%s/checkpoints", tmp);
	if (mkdir(path, 0755)) {
		rc = sl_err_set(e, SL_EIO, "cannot create %s", path);
		goto out;
	}
	rc = sl_store_read_begin(&t, s, e);
	if (rc)
		goto out;
	rc = sl_store_latest_checkpoint(&note, &notelen, &x.limit, t);
	if (rc) {
		rc = sl_err_set(e, SL_ENOTFOUND, "the store has no signed "
		    "checkpoint yet (run sharelogd checkpoint)");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/entries.jsonl", tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	x.f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!x.f) {
		if (fd >= 0)
			close(fd);
		rc = sl_err_set(e, SL_EIO, "cannot create %s", path);
		goto out;
	}
	setvbuf(x.f, NULL, _IOFBF, 1 << 20);
	rc = sl_store_scan(t, 0, exp_entry, &x, SL_STORE_SCAN_RELEASE);
	if (rc == 1)
		rc = 0;
	if (!rc && x.next != x.limit)
		rc = sl_err_set(e, SL_EINTEGRITY, "the store holds %llu entries "
		    "but its checkpoint covers %llu",
		    (unsigned long long)x.next, (unsigned long long)x.limit);
	if (!rc && (fflush(x.f) || fsync(fileno(x.f))))
		rc = sl_err_set(e, SL_EIO, "cannot write entries.jsonl");
	fclose(x.f);
	if (rc)
		goto out;
	snprintf(path, sizeof(path), "%s/checkpoint", tmp);
	rc = write_file(path, note, notelen, e);
	if (rc)
		goto out;
	snprintf(path, sizeof(path), "%s/log.vkey", tmp);
	rc = write_file(path, vkeys, strlen(vkeys), e);
	if (rc)
		goto out;
	xc.dir = tmp;
	xc.limit = x.limit;
	xc.e = e;
	rc = sl_store_checkpoints(t, exp_cp, &xc);
	if (rc)
		goto out;
	snprintf(path, sizeof(path), "%s/checkpoints", tmp);
	fsync_dir(path);
	fsync_dir(tmp);
	if (rename(tmp, dir)) {
		rc = sl_err_set(e, SL_EIO, "cannot rename %s to %s: %s", tmp,
		    dir, strerror(errno));
		goto out;
	}
	*size = x.limit;
out:
	sl_store_read_end(t);
	if (rc) {
		/* Leave nothing half-written behind under any name. */
		char cmd[8400];
		DIR *d;
		struct dirent *de;

		snprintf(path, sizeof(path), "%s/checkpoints", tmp);
		d = opendir(path);
		while (d && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(cmd, sizeof(cmd), "%s/%s", path, de->d_name);
			unlink(cmd);
		}
		if (d)
			closedir(d);
		rmdir(path);
		snprintf(cmd, sizeof(cmd), "%s/entries.jsonl", tmp);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s/checkpoint", tmp);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s/log.vkey", tmp);
		unlink(cmd);
		rmdir(tmp);
	}
	return rc;
}

/* ---- restore -------------------------------------------------------- */

#define RESTORE_BATCH 4096

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int restore_checkpoints(struct sl_store *s, const char *dir,
    struct sl_err *e)
{
	char path[4200];
	uint64_t *sizes = NULL;
	size_t n = 0;
	size_t cap = 0;
	size_t i;
	DIR *d;
	struct dirent *de;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/checkpoints", dir);
	d = opendir(path);
	while (d && (de = readdir(d)) != NULL) {
		uint64_t v;

		if (sl_enc_decimal(&v, de->d_name, strlen(de->d_name)))
			continue;
		if (n == cap) {
			uint64_t *p;

			cap = cap ? cap * 2 : 64;
			p = realloc(sizes, cap * sizeof(*p));
			if (!p) {
				rc = sl_err_set(e, SL_ENOMEM, "out of memory");
				goto out;
			}
			sizes = p;
		}
		sizes[n++] = v;
	}
	if (sizes)
		qsort(sizes, n, sizeof(*sizes), cmp_u64);
	for (i = 0; !rc && i < n; i++) {
		char *note;
		size_t len;

		snprintf(path, sizeof(path), "%s/checkpoints/%llu", dir,
		    (unsigned long long)sizes[i]);
		rc = sl_bundle_slurp(&note, &len, path, 65536, e);
		if (!rc)
			rc = sl_store_put_checkpoint(s, sizes[i], note, len, e);
		free(note);
	}
out:
	if (d)
		closedir(d);
	free(sizes);
	return rc;
}

/* Append the *n raw entries gathered so far as one batch; free them. */
static int flush(struct sl_store *s, struct sl_store_item *items,
    char **lines, size_t *n, struct sl_err *e)
{
	size_t i;
	int rc = *n ? sl_store_append_raw(s, items, *n, NULL, e) : 0;

	for (i = 0; i < *n; i++)
		free(lines[i]);
	*n = 0;
	return rc;
}

int sl_bundle_restore(uint64_t *size, const char *dir, const char *store_dir,
    struct sl_err *e)
{
	struct sl_store *s = NULL;
	struct sl_store_item *items = NULL;
	char **lines = NULL;
	char path[4200];
	char *line = NULL;
	size_t cap = 0;
	size_t n = 0;
	ssize_t len;
	FILE *f = NULL;
	char *note = NULL;
	size_t notelen;
	int rc;
	size_t i;

	*size = 0;
	snprintf(path, sizeof(path), "%s/entries.jsonl", dir);
	f = fopen(path, "rb");
	if (!f)
		return sl_err_set(e, SL_EIO, "cannot open %s: %s", path,
		    strerror(errno));
	rc = sl_store_open(&s, store_dir, SL_STORE_CREATE, e);
	if (rc)
		goto out;
	items = calloc(RESTORE_BATCH, sizeof(*items));
	lines = calloc(RESTORE_BATCH, sizeof(*lines));
	if (!items || !lines) {
		rc = sl_err_set(e, SL_ENOMEM, "out of memory");
		goto out;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		char origin[256] = "";

		if (line[len - 1] != '\n' || len - 1 > SL_ENTRY_MAX) {
			rc = sl_err_set(e, SL_EINVAL, "%s line %llu: not a "
			    "complete entry line", path,
			    (unsigned long long)(sl_store_size(s) + n + 1));
			goto out;
		}
		lines[n] = line;
		items[n].raw = (const uint8_t *)line;
		items[n].raw_len = (size_t)len - 1;
		line = NULL;
		cap = 0;
		if (sl_store_size(s) == 0 && n == 0) {
			/* The origin is in the genesis record. */
			json_t *g = json_loadb(lines[0], (size_t)len - 1, 0,
			    NULL);
			const char *o = json_string_value(json_object_get(
			    json_object_get(g, "record"), "origin"));

			snprintf(origin, sizeof(origin), "%s", o ? o : "");
			json_decref(g);
			rc = sl_store_append_raw(s, items, 1, origin, e);
			free(lines[0]);
			if (rc)
				goto out;
			continue;
		}
		if (++n == RESTORE_BATCH) {
			rc = flush(s, items, lines, &n, e);
			if (rc)
				goto out;
		}
	}
	rc = flush(s, items, lines, &n, e);
	if (rc)
		goto out;
	rc = restore_checkpoints(s, dir, e);
	if (rc)
		goto out;
	snprintf(path, sizeof(path), "%s/checkpoint", dir);
	rc = sl_bundle_slurp(&note, &notelen, path, 65536, e);
	if (!rc)
		rc = sl_store_put_checkpoint(s, sl_store_size(s), note, notelen,
		    e);
	if (!rc)
		*size = sl_store_size(s);
out:
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(note);
	free(line);
	free(lines);
	free(items);
	if (f)
		fclose(f);
	sl_store_close(s);
	return rc;
}
