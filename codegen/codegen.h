// Code generators: the graph as the passes left it, to source text.
#ifndef GHOSTCC_CODEGEN_H
#define GHOSTCC_CODEGEN_H

#include "../ir/ir.h"
#include "schedule.h"

// A generated file, kept in memory until the driver writes them all.
typedef struct {
  const char *name;  // file name inside the output directory
  char *data;
  size_t len;
} OutFile;

enum { MAX_OUT_FILES = 8 };

typedef struct {
  OutFile files[MAX_OUT_FILES];
  int n_files;
} Output;

// A growable text buffer in an arena.
typedef struct {
  Arena *arena;
  char *data;
  size_t len, cap;
} Buf;

void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_append(Buf *b, const char *s, size_t n);
// Room for `extra` more bytes (and a terminating NUL) at b->data + b->len.
void buf_reserve(Buf *b, size_t extra);

// text.c: buffers (above), and spec names as C identifiers and comment text.
// The model name as a C identifier: letters, digits, '_', not starting with a
// digit.
const char *c_identifier(Arena *a, const char *name);
// Text that is safe inside a /* */ comment on one line.
const char *c_comment_text(Arena *a, const char *text);
// A finite float as a C literal that reads back exactly, e.g. "1.0f".
const char *c_float_literal(Arena *a, float v);

// What --emit asks for.
typedef enum { EMIT_C, EMIT_LLVM, EMIT_BC, EMIT_OBJ, EMIT_ASM } EmitKind;

// emit_c.c: NAME.h (the API), NAME.c (code and kernels) and NAME_weights.c.
// `provenance` goes at the top of every file, inside a comment.
void emit_c(const Graph *g, const MemPlan *plan, const Schedule *s,
            const Target *t, const char *provenance, Output *out);
// NAME.h alone: the API both backends implement.
void emit_header(const Graph *g, const MemPlan *plan, const char *provenance,
                 Output *out);

// emit_llvm.c: NAME.h and one of NAME.ll, NAME.bc, NAME.o, NAME.s, built
// through the LLVM-C API from the same schedule, with the runtime kernels'
// bitcode for the target linked in.
void emit_llvm(const Graph *g, const MemPlan *plan, const Schedule *s,
               const Target *t, EmitKind kind, const char *provenance,
               Output *out);

// The runtime sources embedded in ghostcc at build time.
typedef struct {
  const char *name;  // e.g. "conv2d.c"
  const char *text;
} RuntimeFile;

extern const RuntimeFile runtime_files[];
extern const int n_runtime_files;

#endif
