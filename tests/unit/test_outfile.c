/*
 * core/outfile.c: regular files are replaced atomically; a symlink is written
 * through and stays a symlink; a FIFO or a device is written in place and
 * never replaced; a directory is refused.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/outfile.h"

static char dir[256];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vtx-outfile-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static int write_text(FILE *out, void *arg)
{
	return fputs(arg, out) == EOF ? -EIO : 0;
}

static int fail_half_way(FILE *out, void *arg)
{
	(void)arg;
	fputs("half", out);
	return -EIO;
}

static void path_of(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
}

static void read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
}

TestSuite(outfile, .init = setup, .fini = teardown);

Test(outfile, regular_file_is_replaced)
{
	char p[PATH_MAX], got[64];
	path_of(p, "r.txt");
	cr_assert_eq(outfile_write(p, write_text, "old old old\n"), 0);
	struct stat a, b;
	cr_assert_eq(stat(p, &a), 0);
	cr_assert_eq(outfile_write(p, write_text, "new\n"), 0);
	cr_assert_eq(stat(p, &b), 0);
	read_file(p, got, sizeof(got));
	cr_assert_str_eq(got, "new\n");
	cr_assert_neq(a.st_ino, b.st_ino, "a regular file is replaced (rename), not rewritten");
}

Test(outfile, symlink_stays_and_is_written_through)
{
	char target[PATH_MAX], link[PATH_MAX], got[64], back[PATH_MAX];
	path_of(target, "target.md");
	path_of(link, "LINK");
	cr_assert_eq(outfile_write(target, write_text, "before\n"), 0);
	cr_assert_eq(symlink("target.md", link), 0);
	cr_assert_eq(outfile_write(link, write_text, "through the link\n"), 0);
	struct stat st;
	cr_assert_eq(lstat(link, &st), 0);
	cr_assert(S_ISLNK(st.st_mode), "the symlink was replaced by a file");
	ssize_t n = readlink(link, back, sizeof(back) - 1);
	cr_assert_gt(n, 0);
	back[n] = 0;
	cr_assert_str_eq(back, "target.md");
	read_file(target, got, sizeof(got));
	cr_assert_str_eq(got, "through the link\n");
}

Test(outfile, dangling_symlink_creates_its_target)
{
	char target[PATH_MAX], link[PATH_MAX], got[64];
	path_of(target, "later.json");
	path_of(link, "dangling");
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(outfile_write(link, write_text, "{}\n"), 0);
	struct stat st;
	cr_assert_eq(lstat(link, &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	read_file(target, got, sizeof(got));
	cr_assert_str_eq(got, "{}\n");
}

struct reader {
	char path[PATH_MAX];
	char got[64];
};

static void *read_fifo(void *arg)
{
	struct reader *r = arg;
	read_file(r->path, r->got, sizeof(r->got));
	return NULL;
}

Test(outfile, fifo_is_written_in_place)
{
	struct reader r;
	pthread_t th;
	path_of(r.path, "fifo");
	cr_assert_eq(mkfifo(r.path, 0600), 0);
	cr_assert_eq(pthread_create(&th, NULL, read_fifo, &r), 0);
	cr_assert_eq(outfile_write(r.path, write_text, "into the pipe\n"), 0);
	pthread_join(th, NULL);
	cr_assert_str_eq(r.got, "into the pipe\n");
	struct stat st;
	cr_assert_eq(lstat(r.path, &st), 0);
	cr_assert(S_ISFIFO(st.st_mode), "the FIFO was replaced");
}

Test(outfile, device_is_written_in_place_never_replaced)
{
	struct stat before, after;
	cr_assert_eq(stat("/dev/null", &before), 0);
	cr_assert_eq(outfile_write("/dev/null", write_text, "discarded\n"), 0);
	cr_assert_eq(stat("/dev/null", &after), 0);
	cr_assert(S_ISCHR(after.st_mode), "/dev/null is no longer a device");
	cr_assert_eq(before.st_ino, after.st_ino);
	cr_assert_eq(before.st_rdev, after.st_rdev);
}

Test(outfile, directory_is_refused_and_no_temp_left)
{
	cr_assert_eq(outfile_write(dir, write_text, "x"), -EISDIR);
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", dir);
	cr_assert_eq(system(cmd), 0, "something was left in %s", dir);
}

Test(outfile, failed_writer_leaves_the_old_file)
{
	char p[PATH_MAX], got[64];
	path_of(p, "keep.txt");
	cr_assert_eq(outfile_write(p, write_text, "keep me\n"), 0);
	cr_assert_eq(outfile_write(p, fail_half_way, NULL), -EIO);
	read_file(p, got, sizeof(got));
	cr_assert_str_eq(got, "keep me\n");
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s')\" = keep.txt", dir);
	cr_assert_eq(system(cmd), 0, "a temporary file was left in %s", dir);
}

Test(outfile, mkdirs_makes_parents)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	cr_assert_eq(outfile_mkdirs(p), 0);
	cr_assert_eq(outfile_mkdirs(p), 0, "existing directories are fine");
	struct stat st;
	cr_assert_eq(stat(p, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
}

Test(outfile, dash_is_stdout)
{
	cr_assert(outfile_is_stdout("-"));
	cr_assert(outfile_is_stdout(NULL));
	cr_assert_not(outfile_is_stdout("./-x"));
}
