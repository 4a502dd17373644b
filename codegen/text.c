// Text for emitters: growable buffers, and spec names made safe for C.
#include "codegen.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void reserve(Buf *b, size_t extra) {
  size_t need;
  if (!size_add(b->len, extra + 1, &need))
    gh_error("generated code is too large");
  if (need <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < need)
    if (!size_mul(cap, 2, &cap))
      gh_error("generated code is too large");
  char *data = arena_alloc(b->arena, cap);
  if (b->len)
    memcpy(data, b->data, b->len);
  b->data = data;
  b->cap = cap;
}

void buf_append(Buf *b, const char *s, size_t n) {
  reserve(b, n);
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void buf_printf(Buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  gh_assert(n >= 0);
  reserve(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

static bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

const char *c_identifier(Arena *a, const char *name) {
  size_t n = strlen(name);
  char *id = arena_alloc(a, n + 3);
  size_t len = 0;
  // Identifiers starting with '_' or a digit are reserved or invalid.
  if (!is_alpha(name[0]))
    id[len++] = 'm';
  for (size_t i = 0; i < n; i++)
    id[len++] = is_alpha(name[i]) || is_digit(name[i]) ? name[i] : '_';
  return id;
}

const char *c_comment_text(Arena *a, const char *text) {
  size_t n = strlen(text);
  char *s = arena_alloc(a, n + 1);
  for (size_t i = 0; i < n; i++) {
    char c = text[i];
    bool printable = c >= 0x20 && c < 0x7f;
    // "*/" would end the comment, "/*" in it is a warning (-Wcomment); a
    // trailing '\' would splice lines, and so would the trigraph "??/"
    // (C11 compilers translate trigraphs). Checked on the output, where
    // replacements add '?'s.
    if (!printable || c == '\\' || (c == '/' && i > 0 && s[i - 1] == '*') ||
        (c == '*' && i > 0 && s[i - 1] == '/') ||
        (c == '/' && i > 1 && s[i - 1] == '?' && s[i - 2] == '?'))
      c = '?';
    s[i] = c;
  }
  return s;
}

const char *c_float_literal(Arena *a, float v) {
  char buf[48];
  snprintf(buf, sizeof buf, "%.9g", (double)v);
  // "1f" is not C: a float literal needs a point or an exponent.
  bool needs_point = !strpbrk(buf, ".eEn");
  return arena_printf(a, "%s%sf", buf, needs_point ? ".0" : "");
}
