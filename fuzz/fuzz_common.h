// Shared by the fuzz targets: the optional first line that carries command
// line options, and checks on what the compiler generates.
//
// An input may start with a line "#! TOKEN TOKEN ...\n" (a YAML comment, so
// the spec reader sees nothing of it):
//   no-PASS             turn a pass off (--no-PASS)
//   ghostify=S,D        --ghostify ratio=S,dw=D
//   name=N              --name N
//   KEY=VALUE           --set KEY=VALUE
#ifndef GHOSTCC_FUZZ_COMMON_H
#define GHOSTCC_FUZZ_COMMON_H

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/ghostcc.h"

enum { FUZZ_MAX_OVERRIDES = 8 };

typedef struct {
  char buf[512];
  const char *overrides[FUZZ_MAX_OVERRIDES];
  int n_overrides;
  const char *name, *ghostify;
  bool disabled[16];
  char ghostify_text[64];
} FuzzOptions;

// Reads the "#!" line, if any; returns how many bytes it took.
static inline size_t fuzz_options(const uint8_t *data, size_t size,
                                  FuzzOptions *o) {
  memset(o, 0, sizeof *o);
  if (size < 2 || data[0] != '#' || data[1] != '!')
    return 0;
  const uint8_t *nl = memchr(data, '\n', size);
  size_t len = nl ? (size_t)(nl - data) : size;
  size_t keep = len - 2 < sizeof o->buf - 1 ? len - 2 : sizeof o->buf - 1;
  memcpy(o->buf, data + 2, keep);
  o->buf[keep] = '\0';
  for (char *save = NULL, *tok = strtok_r(o->buf, " \t\r", &save); tok;
       tok = strtok_r(NULL, " \t\r", &save)) {
    if (!strncmp(tok, "no-", 3)) {
      int i = pass_index(tok + 3);
      if (i >= 0)
        o->disabled[i] = true;
    } else if (!strncmp(tok, "ghostify=", 9)) {
      const char *comma = strchr(tok + 9, ',');
      if (comma)
        snprintf(o->ghostify_text, sizeof o->ghostify_text,
                 "ratio=%.*s,dw=%s", (int)(comma - tok - 9), tok + 9,
                 comma + 1);
      else
        snprintf(o->ghostify_text, sizeof o->ghostify_text, "ratio=%s",
                 tok + 9);
      o->ghostify = o->ghostify_text;
    } else if (!strncmp(tok, "name=", 5)) {
      o->name = tok + 5;
    } else if (strchr(tok, '=') && o->n_overrides < FUZZ_MAX_OVERRIDES) {
      o->overrides[o->n_overrides++] = tok;
    }
  }
  return nl ? len + 1 : len;
}

static inline SpecOptions fuzz_spec_options(const FuzzOptions *o) {
  return (SpecOptions){.spec_path = "fuzz.yaml",
                       .name = o->name,
                       .overrides = (const char **)o->overrides,
                       .n_overrides = o->n_overrides,
                       .ghostify = o->ghostify};
}

static inline _Noreturn void fuzz_fail(const char *what, const char *file) {
  fprintf(stderr, "generated code check failed: %s in %s\n", what, file);
  abort();
}

// What the compiler writes must stay inside the output directory and be C
// whose comments no name can close: file names are plain, the text is
// printable ASCII without the trigraph for a backslash or a line splice
// outside code, and scanning it as C (comments, strings, characters) never
// meets a "*/" outside a comment or a "/*" inside one (-Wcomment), nor ends
// inside a comment or literal.
static inline void fuzz_check_output(const Output *out) {
  for (int i = 0; i < out->n_files; i++) {
    const OutFile *f = &out->files[i];
    if (!f->name[0] || f->name[0] == '.' || strchr(f->name, '/') ||
        strlen(f->name) > 200)
      fuzz_fail("bad file name", f->name);
    for (const char *p = f->name; *p; p++)
      if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'))
        fuzz_fail("bad character in a file name", f->name);
    if (strlen(f->data) != f->len)
      fuzz_fail("NUL byte", f->name);
    enum { CODE, BLOCK, LINE, STRING, CHAR } state = CODE;
    for (size_t k = 0; k < f->len; k++) {
      unsigned char c = (unsigned char)f->data[k];
      char next = k + 1 < f->len ? f->data[k + 1] : '\0';
      if (c != '\n' && (c < 0x20 || c > 0x7e))
        fuzz_fail("byte outside printable ASCII", f->name);
      // Multi-line macros of the runtime splice lines; a splice inside a
      // comment or literal would let one line's text run into the next.
      if (c == '\\' && next == '\n' && state != CODE)
        fuzz_fail("line splice", f->name);
      if (c == '?' && next == '?' && k + 2 < f->len && f->data[k + 2] == '/')
        fuzz_fail("trigraph ?\?/", f->name);
      switch (state) {
      case CODE:
        if (c == '/' && next == '*') {
          state = BLOCK;
          k++;
        } else if (c == '/' && next == '/') {
          state = LINE;
        } else if (c == '*' && next == '/') {
          fuzz_fail("'*/' outside a comment", f->name);
        } else if (c == '"') {
          state = STRING;
        } else if (c == '\'') {
          state = CHAR;
        }
        break;
      case BLOCK:
        if (c == '*' && next == '/') {
          state = CODE;
          k++;
        } else if (c == '/' && next == '*') {
          fuzz_fail("'/*' inside a comment", f->name);
        }
        break;
      case LINE:
        if (c == '\n')
          state = CODE;
        break;
      case STRING:
      case CHAR:
        if (c == '\\')
          k++;
        else if (c == (state == STRING ? '"' : '\''))
          state = CODE;
        else if (c == '\n')
          fuzz_fail("newline in a literal", f->name);
        break;
      }
    }
    if (state != CODE && state != LINE)
      fuzz_fail("file ends inside a comment or literal", f->name);
  }
}

#endif
