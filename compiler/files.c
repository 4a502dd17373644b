// Files: reading a whole input, writing the outputs all or nothing.
#include "ghostcc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned char *read_file(Arena *a, const char *path, size_t max_bytes,
                         size_t *len) {
  SrcLoc loc = {path, 0, 0};
  FILE *f = fopen(path, "rb");
  if (!f)
    gh_error_at(loc, "cannot open file: %s", strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    gh_error_at(loc, "not a regular file");
  }
  if ((uint64_t)st.st_size > max_bytes) {
    fclose(f);
    gh_error_at(loc, "file is larger than the limit of %zu bytes", max_bytes);
  }
  size_t size = (size_t)st.st_size;
  unsigned char *buf = arena_alloc(a, size + 1);
  *len = fread(buf, 1, size, f);
  bool failed = ferror(f) || *len != size;
  fclose(f);
  if (failed)
    gh_error_at(loc, "cannot read file");
  return buf;
}

typedef struct {
  char *tmp;    // temporary path, NULL once renamed or removed
  char *final;  // destination
} Pending;

static void discard(Pending *p, int n, const char *dir, bool made_dir) {
  for (int i = 0; i < n; i++)
    if (p[i].tmp)
      unlink(p[i].tmp);
  if (made_dir)
    rmdir(dir);
}

// Writes one temporary file; returns an errno-style failure or 0.
static int write_temp(Pending *p, const OutFile *file) {
  int fd = mkstemp(p->tmp);
  if (fd < 0) {
    int err = errno;
    p->tmp = NULL;
    return err;
  }
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    int err = errno;
    close(fd);
    return err;
  }
  fchmod(fd, 0644);
  size_t n = fwrite(file->data, 1, file->len, f);
  int err = n == file->len ? 0 : errno ? errno : EIO;
  if (fclose(f) != 0 && !err)
    err = errno ? errno : EIO;
  return err;
}

void write_output(const char *dir, const Output *out) {
  struct stat st;
  bool made_dir = false;
  if (stat(dir, &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      gh_error("output '%s' exists and is not a directory", dir);
  } else if (mkdir(dir, 0777) == 0) {
    made_dir = true;
  } else {
    gh_error("cannot create output directory '%s': %s", dir, strerror(errno));
  }
  // Renames are what can fail half way; make sure up front that each
  // destination is free or a regular file we may replace.
  for (int i = 0; i < out->n_files; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, out->files[i].name);
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
      if (made_dir)
        rmdir(dir);
      gh_error("cannot write '%s': it exists and is not a regular file", path);
    }
  }
  Pending pending[MAX_OUT_FILES];
  Arena a = {0};
  for (int i = 0; i < out->n_files; i++) {
    const OutFile *file = &out->files[i];
    pending[i].final = arena_printf(&a, "%s/%s", dir, file->name);
    pending[i].tmp = arena_printf(&a, "%s/.%s.XXXXXX", dir, file->name);
    int err = write_temp(&pending[i], file);
    if (err) {
      discard(pending, i + 1, dir, made_dir);
      char msg[512];
      snprintf(msg, sizeof msg, "cannot write '%s': %s", pending[i].final,
               strerror(err));
      arena_free(&a);
      gh_error("%s", msg);
    }
  }
  for (int i = 0; i < out->n_files; i++) {
    if (rename(pending[i].tmp, pending[i].final) != 0) {
      int err = errno;
      char msg[512];
      snprintf(msg, sizeof msg, "cannot write '%s': %s", pending[i].final,
               strerror(err));
      // Only an unforeseen failure gets here (the destinations were
      // checked); the files already renamed cannot be taken back.
      discard(pending + i, out->n_files - i, dir, false);
      arena_free(&a);
      gh_error("%s", msg);
    }
    pending[i].tmp = NULL;
  }
  arena_free(&a);
}
