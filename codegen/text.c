// Text for emitters: growable buffers, and spec names made safe for C.
#include "codegen.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void buf_reserve(Buf *b, size_t extra) {
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
  buf_reserve(b, n);
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
  buf_reserve(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A lower-case letter, then lower-case letters, digits and single '_', not
// ending in '_': ghostnet, mobilenet_v1.
static bool is_plain(const char *name) {
  if (!is_lower(name[0]))
    return false;
  for (const char *p = name; *p; p++)
    if (!is_lower(*p) && !is_digit(*p) &&
        (*p != '_' || p[1] == '_' || p[1] == '\0'))
      return false;
  return true;
}

// A plain name is its own identifier; any other name becomes a stem, "__"
// and a hash of its exact bytes. "__" never occurs in a plain name, so no
// other name takes a plain name's identifier; the hash keeps apart names that
// differ only in case or punctuation; and with no upper-case letter in any
// identifier, upper-casing them for the macros keeps them apart too.
// cmake/GhostccAddModel.cmake mirrors this to know the file names.
const char *c_identifier(Arena *a, const char *name) {
  if (is_plain(name))
    return arena_strdup(a, name);
  // The stem: letters (lower-cased) and digits, runs of anything else as
  // one '_', none at either end, 'm' before a digit or for nothing at all.
  size_t n = strlen(name);
  char *id = arena_alloc(a, n + 12);  // 'm', stem, "__", 8 hex digits, NUL
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a')
                                             : name[i];
    if (is_lower(c) || is_digit(c)) {
      if (len == 0 && is_digit(c))
        id[len++] = 'm';
      id[len++] = c;
    } else if (len > 0 && id[len - 1] != '_') {
      id[len++] = '_';
    }
  }
  if (len > 0 && id[len - 1] == '_')
    len--;
  if (len == 0)
    id[len++] = 'm';
  // Then the top half of the exact bytes' FNV-1a: names that differ only in
  // case or punctuation, or not in ASCII at all, get different suffixes.
  uint64_t h = hash_bytes(HASH_SEED, name, n);
  snprintf(id + len, 11, "__%08x", (unsigned)(h >> 32));
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
