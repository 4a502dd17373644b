// The C backend: NAME.h (the API), NAME.c (the kernels the model uses and
// one call per op with every shape a constant), NAME_weights.c (all
// parameters in one read-only blob).
//
// Weights are written as a string literal rather than float literals: the
// same bytes compile an order of magnitude faster (GhostNet: 5.2 M floats).
#include "codegen.h"

#include <string.h>

typedef struct {
  const Graph *g;
  const MemPlan *plan;
  const Schedule *s;
  const Target *target;
  Arena *arena;
  const char *id;        // model name as a C identifier
  const char *macro;     // the same, upper case
} Emitter;

static const char *runtime_text(const char *name) {
  for (int i = 0; i < n_runtime_files; i++)
    if (strcmp(runtime_files[i].name, name) == 0)
      return runtime_files[i].text;
  gh_assert(!"runtime file missing from the build");
  return NULL;
}

// Pastes a runtime file, minus its #include "..." lines: in the generated
// file everything it includes is already above it.
static void paste_runtime(Buf *b, const char *name) {
  const char *text = runtime_text(name);
  buf_printf(b, "\n/* runtime/%s */\n", name);
  for (const char *line = text; *line;) {
    const char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) + 1 : strlen(line);
    if (strncmp(line, "#include \"", 10) != 0)
      buf_append(b, line, n);
    line += n;
  }
}

static const char *upper(Arena *a, const char *s) {
  char *u = arena_strdup(a, s);
  for (char *p = u; *p; p++)
    if (*p >= 'a' && *p <= 'z')
      *p = (char)(*p - 'a' + 'A');
  return u;
}

// The provenance comment: one line of `provenance` per comment line.
static void begin_file(Emitter *e, Buf *b, const char *provenance) {
  *b = (Buf){.arena = e->arena};
  buf_printf(b, "/*\n");
  for (const char *line = provenance; *line;) {
    const char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) : strlen(line);
    buf_printf(b, " * %s\n",
               c_comment_text(e->arena, arena_strndup(e->arena, line, n)));
    line += end ? n + 1 : n;
  }
  buf_printf(b, " */\n");
}

static void finish_file(Emitter *e, Output *out, Buf *b, const char *name) {
  gh_assert(out->n_files < MAX_OUT_FILES);
  out->files[out->n_files++] =
      (OutFile){arena_strdup(e->arena, name), b->data, b->len};
}

static void write_header(Emitter *e, const char *provenance, Output *out) {
  const Graph *g = e->g;
  const Value *in = &g->values[g->input];
  const Value *res = &g->values[g->output];
  Buf b;
  begin_file(e, &b, provenance);
  const char *m = e->macro;
  // The guard has its own prefix: a model named "ghr" must not take the
  // runtime's GHR_H.
  buf_printf(&b, "#ifndef GHOSTCC_MODEL_%s_H\n#define GHOSTCC_MODEL_%s_H\n\n",
             m, m);
  buf_printf(&b, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
  buf_printf(&b,
             "#define %s_INPUT_CHANNELS %d\n#define %s_INPUT_HEIGHT %d\n"
             "#define %s_INPUT_WIDTH %d\n",
             m, in->c, m, in->h, m, in->w);
  buf_printf(&b, "#define %s_INPUT_SIZE %zu /* floats: C*H*W, NCHW, batch 1 */\n",
             m, value_count(in));
  buf_printf(&b, "#define %s_OUTPUT_SIZE %zu /* floats: %dx%dx%d */\n", m,
             value_count(res), res->c, res->h, res->w);
  size_t arena = e->plan->arena_bytes ? e->plan->arena_bytes : GH_ARENA_ALIGN;
  buf_printf(&b,
             "#define %s_ARENA_BYTES %zu /* scratch the caller provides */\n"
             "#define %s_ARENA_ALIGN %d /* the arena's required alignment */\n\n",
             m, arena, m, GH_ARENA_ALIGN);
  if (g->has_preprocess) {
    buf_printf(&b,
               "/* Preparing an image (the spec's preprocess): input = "
               "(pixel / %s_PIXEL_SCALE\n"
               " * - %s_MEAN[c]) / %s_STD[c], e.g. "
               "static const float mean[] = %s_MEAN; */\n",
               m, m, m, m);
    buf_printf(&b, "#define %s_PIXEL_SCALE %s\n", m,
               c_float_literal(e->arena, g->pixel_scale));
    const char *names[2] = {"MEAN", "STD"};
    const float *values[2] = {g->mean, g->std};
    for (int k = 0; k < 2; k++) {
      buf_printf(&b, "#define %s_%s {", m, names[k]);
      for (int c = 0; c < in->c; c++)
        buf_printf(&b, "%s%s", c ? ", " : "",
                   c_float_literal(e->arena, values[k][c]));
      buf_printf(&b, "}\n");
    }
    buf_printf(&b, "\n");
  }
  buf_printf(&b,
             "/* Return codes of %s_run. */\n"
             "#define %s_OK 0\n"
             "#define %s_ERR_NULL 1 /* input, output or arena is NULL */\n"
             "#define %s_ERR_ALIGN 2 /* arena is not %d-byte aligned */\n\n",
             e->id, m, m, m, GH_ARENA_ALIGN);
  buf_printf(&b,
             "/* Runs the network on one NCHW image. Reads only input and the\n"
             " * model's constant weights, writes only output and arena; two\n"
             " * threads may run at once with two arenas. */\n"
             "int %s_run(const float *input, float *output, void *arena);\n\n",
             e->id);
  buf_printf(&b, "#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
  finish_file(e, out, &b, arena_printf(e->arena, "%s.h", e->id));
}

static void weights_type(Emitter *e, Buf *b) {
  buf_printf(b,
             "union %s_weights {\n"
             "  unsigned char bytes[%zu];\n"
             "  float f[%zu];\n"
             "};\n",
             e->id, e->s->weight_floats * 4 + 1, e->s->weight_floats);
}

static bool is_octal(char c) { return c >= '0' && c <= '7'; }

// Byte i of the weights stored little-endian, whatever the host; the
// generated file refuses big-endian targets.
static unsigned char weight_byte(const float *weights, size_t i) {
  uint32_t bits;
  memcpy(&bits, &weights[i / 4], 4);
  return (unsigned char)(bits >> (8 * (i % 4)));
}

static void emit_weights(Emitter *e, const char *provenance, Output *out) {
  size_t floats = e->s->weight_floats;
  Buf b;
  begin_file(e, &b, provenance);
  buf_printf(&b,
             "#if defined(__BYTE_ORDER__) && "
             "__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__\n"
             "#error \"the weights are stored little-endian\"\n#endif\n\n");
  weights_type(e, &b);
  buf_printf(&b, "extern const union %s_weights %s_weights;\n", e->id, e->id);
  buf_printf(&b, "_Alignas(64) const union %s_weights %s_weights = {\n\"",
             e->id, e->id);
  // Printable bytes as themselves, the rest as octal escapes; '?' is
  // escaped so no trigraph can form. Written by hand straight into the
  // buffer, reserved at the largest size it can take: this is most of the
  // output (GhostNet: 57 MB).
  size_t n = floats * 4, line = 0, len = 0, most;
  if (!size_mul(n / 30 + 1, 4 * 30 + 3, &most))
    gh_error("the weights are too large");
  buf_reserve(&b, most);
  char *text = b.data + b.len;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = weight_byte(e->s->weights, i);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?') {
      text[len++] = (char)c;
      line++;
    } else {
      // Short escapes unless a digit follows that would extend them.
      bool next_octal =
          i + 1 < n && is_octal((char)weight_byte(e->s->weights, i + 1));
      size_t start = len;
      text[len++] = '\\';
      if (next_octal || c >= 0100)
        text[len++] = (char)('0' + (c >> 6));
      if (next_octal || c >= 010)
        text[len++] = (char)('0' + ((c >> 3) & 7));
      text[len++] = (char)('0' + (c & 7));
      line += len - start;
    }
    if (line >= 120 && i + 1 < n) {
      memcpy(text + len, "\"\n\"", 3);
      len += 3;
      line = 0;
    }
  }
  b.len += len;
  b.data[b.len] = '\0';
  buf_printf(&b, "\"\n};\n");
  finish_file(e, out, &b, arena_printf(e->arena, "%s_weights.c", e->id));
}

// The C expression for a pointer argument.
static const char *pointer_text(const Emitter *e, Arg a) {
  static const char *const bases[] = {
      [ARG_INPUT] = "input", [ARG_OUTPUT] = "output", [ARG_ARENA] = "a",
      [ARG_WEIGHTS] = "w"};
  if (a.kind == ARG_NULL)
    return "NULL";
  if (a.value == 0 && a.kind != ARG_ARENA && a.kind != ARG_WEIGHTS)
    return bases[a.kind];
  return arena_printf(e->arena, "(%s + %lld)", bases[a.kind],
                      (long long)a.value);
}

static void emit_call(const Emitter *e, Buf *b, const Call *c) {
  if (c->note)
    buf_printf(b, "  /* %s */\n", c_comment_text(e->arena, c->note));
  if (!c->kernel)
    return;
  buf_printf(b, "  %s(", c->kernel);
  for (int i = 0; i < c->n_args; i++) {
    const Arg *a = &c->args[i];
    const char *sep = i ? ", " : "";
    if (a->kind == ARG_INT)
      buf_printf(b, "%s%lld", sep, (long long)a->value);
    else if (a->kind == ARG_FLOAT)
      buf_printf(b, "%s%s", sep, c_float_literal(e->arena, a->f));
    else
      buf_printf(b, "%s%s", sep, pointer_text(e, *a));
  }
  buf_printf(b, ");\n");
}

static void emit_code(Emitter *e, const char *provenance, Output *out) {
  const Schedule *s = e->s;
  Buf b;
  begin_file(e, &b, provenance);
  buf_printf(&b, "#include \"%s.h\"\n\n#include <math.h>\n#include <stddef.h>\n"
             "#include <stdint.h>\n#include <string.h>\n\n"
             "#define GHR_API static\n", e->id);
  const char *isa = isa_macro(e->target->isa);
  if (isa)
    buf_printf(&b, "/* The kernels for --cpu %s. */\n#define %s 1\n",
               c_comment_text(e->arena, e->target->cpu), isa);
  paste_runtime(&b, "ghr.h");
  paste_runtime(&b, "ghr_simd.h");
  for (int i = 0; i < s->n_files; i++)
    paste_runtime(&b, s->files[i]);
  buf_printf(&b, "\n");
  weights_type(e, &b);
  buf_printf(&b, "extern const union %s_weights %s_weights;\n\n", e->id, e->id);
  buf_printf(&b, "int %s_run(const float *input, float *output, void *arena) {\n",
             e->id);
  buf_printf(&b,
             "  if (!input || !output || !arena)\n    return %s_ERR_NULL;\n"
             "  if ((uintptr_t)arena %% %d != 0)\n    return %s_ERR_ALIGN;\n"
             "  const float *w = %s_weights.f;\n  float *a = arena;\n"
             "  (void)w;\n  (void)a;\n",
             e->macro, GH_ARENA_ALIGN, e->macro, e->id);
  for (int i = 0; i < s->n_calls; i++)
    emit_call(e, &b, &s->calls[i]);
  buf_printf(&b, "  return %s_OK;\n}\n", e->macro);
  finish_file(e, out, &b, arena_printf(e->arena, "%s.c", e->id));
}

static Emitter emitter(const Graph *g, const MemPlan *plan, const Schedule *s,
                       const Target *t) {
  Emitter e = {.g = g, .plan = plan, .s = s, .target = t, .arena = g->arena};
  e.id = c_identifier(g->arena, g->name);
  e.macro = upper(g->arena, e.id);
  return e;
}

void emit_header(const Graph *g, const MemPlan *plan, const char *provenance,
                 Output *out) {
  Emitter e = emitter(g, plan, NULL, NULL);
  write_header(&e, provenance, out);
}

void emit_c(const Graph *g, const MemPlan *plan, const Schedule *s,
            const Target *t, const char *provenance, Output *out) {
  Emitter e = emitter(g, plan, s, t);
  write_header(&e, provenance, out);
  emit_code(&e, provenance, out);
  emit_weights(&e, provenance, out);
}
