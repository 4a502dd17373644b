// Arenas, diagnostics and checked arithmetic shared by every stage.
#include "ir.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ArenaBlock {
  ArenaBlock *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
};

enum { ARENA_BLOCK_MIN = 1 << 20 };

void *arena_alloc(Arena *a, size_t size) {
  size = (size + 15) & ~(size_t)15;
  ArenaBlock *b = a->head;
  if (!b || b->size - b->used < size) {
    size_t cap = size > ARENA_BLOCK_MIN ? size : ARENA_BLOCK_MIN;
    size_t total;
    if (!size_add(cap, sizeof(ArenaBlock), &total))
      gh_error("out of memory (request of %zu bytes)", size);
    // A block of its own comes zeroed from calloc, which for large sizes
    // gets fresh pages and skips the memset.
    bool own = size > ARENA_BLOCK_MIN;
    b = own ? calloc(1, total) : malloc(total);
    if (!b)
      gh_error("out of memory (request of %zu bytes)", size);
    b->size = cap;
    b->used = 0;
    // Keep the partly used head first so small requests keep filling it.
    if (a->head && cap == size) {
      b->next = a->head->next;
      a->head->next = b;
    } else {
      b->next = a->head;
      a->head = b;
    }
  }
  void *p = b->data + b->used;
  b->used += size;
  if (size <= ARENA_BLOCK_MIN)
    memset(p, 0, size);
  return p;
}

void *arena_array(Arena *a, size_t n, size_t elem_size) {
  size_t bytes;
  if (!size_mul(n, elem_size, &bytes))
    gh_error("out of memory (array of %zu x %zu bytes)", n, elem_size);
  return arena_alloc(a, bytes);
}

char *arena_strndup(Arena *a, const char *s, size_t n) {
  char *p = arena_alloc(a, n + 1);
  memcpy(p, s, n);
  return p;
}

char *arena_strdup(Arena *a, const char *s) {
  return arena_strndup(a, s, strlen(s));
}

char *arena_printf(Arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  gh_assert(n >= 0);
  char *p = arena_alloc(a, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

void arena_free(Arena *a) {
  for (ArenaBlock *b = a->head, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  a->head = NULL;
}

static _Thread_local DiagTrap *current_trap;

bool diag_try(DiagTrap *t, int setjmp_result) {
  if (setjmp_result != 0)
    return false;  // gh_error already popped t
  t->message[0] = '\0';
  t->prev = current_trap;
  current_trap = t;
  return true;
}

void diag_end(DiagTrap *t) {
  gh_assert(current_trap == t);
  current_trap = t->prev;
}

static _Noreturn void raise_error(const char *message) {
  DiagTrap *t = current_trap;
  if (t) {
    current_trap = t->prev;
    snprintf(t->message, sizeof t->message, "%s", message);
    longjmp(t->jump, 1);
  }
  fprintf(stderr, "%s\n", message);
  exit(1);
}

void diag_rethrow(const DiagTrap *t) {
  raise_error(t->message);
}

static _Noreturn void report(SrcLoc loc, const char *fmt, va_list ap) {
  char buf[sizeof(((DiagTrap *)0)->message)];
  int n = 0;
  if (loc.file && loc.line > 0)
    n = snprintf(buf, sizeof buf, "%s:%d:%d: ", loc.file, loc.line, loc.col);
  else if (loc.file)
    n = snprintf(buf, sizeof buf, "%s: ", loc.file);
  n += snprintf(buf + n, sizeof buf - (size_t)n, "error: ");
  vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
  // Names from the spec or the weights may hold newlines or terminal
  // escapes: a message stays one line of text.
  for (char *p = buf; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = '?';
  raise_error(buf);
}

void gh_error_at(SrcLoc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(loc, fmt, ap);
}

void gh_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report((SrcLoc){0}, fmt, ap);
}

void gh_internal_error(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: internal compiler error: %s\n", file, line, what);
  abort();
}

bool size_mul(size_t a, size_t b, size_t *out) {
  return !__builtin_mul_overflow(a, b, out);
}

bool size_add(size_t a, size_t b, size_t *out) {
  return !__builtin_add_overflow(a, b, out);
}

uint64_t hash_bytes(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}
