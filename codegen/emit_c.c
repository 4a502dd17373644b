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
  Arena *arena;
  const char *id;        // model name as a C identifier
  const char *macro;     // the same, upper case
  size_t *weight_at;     // per param: offset in floats in the blob
  size_t weight_floats;  // blob size in floats
} Emitter;

// One runtime file per kernel; a model carries only those it calls. Up to
// three per node: a ghost module is two convolutions and an epilogue.
static int node_kernels(const Graph *g, const Node *n, const char *files[3]) {
  switch (n->op) {
  case GH_OP_CONV2D: files[0] = "conv2d.c"; return 1;
  case GH_OP_BATCHNORM: files[0] = "batchnorm.c"; return 1;
  case GH_OP_ACTIVATION: files[0] = "activation.c"; return 1;
  case GH_OP_ADD: files[0] = "add.c"; return 1;
  case GH_OP_MUL: files[0] = "mul_channel.c"; return 1;
  case GH_OP_CONCAT:
    if (concat_is_in_place(g, n))
      return 0;
    files[0] = "copy.c";
    return 1;
  case GH_OP_SLICE:
  case GH_OP_FLATTEN: files[0] = "copy.c"; return 1;
  case GH_OP_SHUFFLE: files[0] = "channel_shuffle.c"; return 1;
  case GH_OP_AVGPOOL:
    files[0] = "window.c";
    files[1] = "avgpool.c";
    return 2;
  case GH_OP_MAXPOOL:
    files[0] = "window.c";
    files[1] = "maxpool.c";
    return 2;
  case GH_OP_GLOBAL_AVGPOOL: files[0] = "global_avgpool.c"; return 1;
  case GH_OP_LINEAR: files[0] = "linear.c"; return 1;
  case GH_OP_GHOST:
    files[0] = "conv2d.c";
    if (n->residual >= 0) {
      files[1] = "add.c";
      return 2;
    }
    if (n->act != GH_ACT_NONE) {
      files[1] = "activation.c";
      return 2;
    }
    return 1;
  default: return 0;
  }
}

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

static void emit_header(Emitter *e, const char *provenance, Output *out) {
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

// Lays the parameters out back to back, each 64-byte aligned.
static void layout_weights(Emitter *e) {
  const Graph *g = e->g;
  e->weight_at = arena_array(e->arena, (size_t)g->n_params + 1, sizeof(size_t));
  size_t at = 0;
  for (int i = 0; i < g->n_params; i++) {
    e->weight_at[i] = at;
    at += (g->params[i].count + 15) / 16 * 16;
  }
  e->weight_floats = at ? at : 16;
}

static void weights_type(Emitter *e, Buf *b) {
  buf_printf(b,
             "union %s_weights {\n"
             "  unsigned char bytes[%zu];\n"
             "  float f[%zu];\n"
             "};\n",
             e->id, e->weight_floats * 4 + 1, e->weight_floats);
}

static bool is_octal(char c) { return c >= '0' && c <= '7'; }

static void emit_weights(Emitter *e, const char *provenance, Output *out) {
  const Graph *g = e->g;
  unsigned char *bytes = arena_array(e->arena, e->weight_floats, 4);
  for (int i = 0; i < g->n_params; i++) {
    const Param *p = &g->params[i];
    gh_assert(p->data);
    // Little-endian bytes; the generated file refuses other hosts.
    for (size_t k = 0; k < p->count; k++) {
      uint32_t bits;
      memcpy(&bits, &p->data[k], 4);
      unsigned char *dst = bytes + (e->weight_at[i] + k) * 4;
      for (int j = 0; j < 4; j++)
        dst[j] = (unsigned char)(bits >> (8 * j));
    }
  }
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
  // escaped so no trigraph can form.
  size_t n = e->weight_floats * 4, line = 0;
  char tmp[8];
  for (size_t i = 0; i < n; i++) {
    unsigned char c = bytes[i];
    bool next_octal = i + 1 < n && is_octal((char)bytes[i + 1]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?') {
      tmp[0] = (char)c;
      tmp[1] = '\0';
    } else {
      snprintf(tmp, sizeof tmp, next_octal ? "\\%03o" : "\\%o", c);
    }
    size_t len = strlen(tmp);
    buf_append(&b, tmp, len);
    line += len;
    if (line >= 120 && i + 1 < n) {
      buf_printf(&b, "\"\n\"");
      line = 0;
    }
  }
  buf_printf(&b, "\"\n};\n");
  finish_file(e, out, &b, arena_printf(e->arena, "%s_weights.c", e->id));
}

// The C expression for a value's storage.
static const char *value_ptr(const Emitter *e, int v) {
  const Value *val = &e->g->values[v];
  if (val->view_of >= 0)
    return arena_printf(e->arena, "(%s + %zu)", value_ptr(e, val->view_of),
                        (size_t)val->view_channel * (size_t)val->h *
                            (size_t)val->w);
  if (v == e->g->input)
    return "input";
  if (v == e->g->output)
    return "output";
  gh_assert(e->plan->offset[v] != SIZE_MAX);
  return arena_printf(e->arena, "(a + %zu)", e->plan->offset[v] / sizeof(float));
}

static const char *weight_ptr(const Emitter *e, int param) {
  if (param < 0)
    return "NULL";
  return arena_printf(e->arena, "(w + %zu)", e->weight_at[param]);
}


static const char *act_macro(Act act) {
  static const char *const names[GH_ACT_COUNT] = {
      "GHR_ACT_NONE", "GHR_ACT_RELU", "GHR_ACT_RELU6", "GHR_ACT_HARD_SIGMOID",
      "GHR_ACT_HARD_SWISH"};
  return names[act];
}

// The value in slot `slot` of n->in (residual, input scale), or NULL.
static const char *extra_ptr(const Emitter *e, const Node *n, int slot) {
  return slot < 0 ? "NULL" : value_ptr(e, n->in[slot]);
}

// One ghr_conv2d call; the window and the input shuffle come from n.
static void emit_conv(Buf *b, const char *x, const Value *in, const char *y,
                      const Value *out, int oc_per_group, const char *weight,
                      const char *bias, const Node *n, int groups,
                      const char *in_scale, const char *residual,
                      const char *act) {
  buf_printf(b,
             "  ghr_conv2d(%s, %d, %d, %d, %s, %d, %d, %d, %s, %s, %d, %d, %d, "
             "%d, %d, %d, %d, %d, %s, %d, %s, %s);\n",
             x, in->c, in->h, in->w, y, out->c, out->h, out->w, weight, bias,
             n->kh, n->kw, n->stride_h, n->stride_w, n->pad_h, n->pad_w, groups,
             oc_per_group, in_scale, n->in_shuffle, residual, act);
}

// A ghost module (ir.h): the primary conv writes channels [0, P), the cheap
// depthwise conv reads them and writes [P, O) of the same buffer; the
// residual and the final activation follow.
static void emit_ghost(Emitter *e, Buf *b, const Node *n, const char *x,
                       const char *y) {
  const Value *in = &e->g->values[n->in[0]], *out = &e->g->values[n->out];
  int primary = n->ghost_primary, cheap = out->c - primary;
  size_t plane = (size_t)out->h * (size_t)out->w;
  Value primary_maps = {.c = primary, .h = out->h, .w = out->w};
  Value cheap_maps = {.c = cheap, .h = out->h, .w = out->w};
  const char *residual = extra_ptr(e, n, n->residual);
  bool has_residual = n->residual >= 0;
  // The residual forbids an inner activation (fuse_residual).
  gh_assert(!has_residual || n->inner_act == GH_ACT_NONE);
  emit_conv(b, x, in, y, &primary_maps, primary, weight_ptr(e, n->params[0]),
            weight_ptr(e, n->params[1]), n, 1, extra_ptr(e, n, n->in_scale),
            "NULL", act_macro(n->inner_act));
  Node dw = *n;
  dw.kh = dw.kw = n->ghost_dw;
  dw.stride_h = dw.stride_w = 1;
  dw.pad_h = dw.pad_w = n->ghost_dw / 2;
  dw.in_shuffle = 0;
  const char *cheap_out = arena_printf(e->arena, "%s + %zu", y,
                                       (size_t)primary * plane);
  const char *cheap_residual =
      has_residual ? arena_printf(e->arena, "%s + %zu", residual,
                                  (size_t)primary * plane)
                   : "NULL";
  emit_conv(b, y, &primary_maps, cheap_out, &cheap_maps, n->ghost_mult,
            weight_ptr(e, n->params[2]), weight_ptr(e, n->params[3]), &dw,
            primary, "NULL", cheap_residual,
            act_macro(has_residual ? n->act : n->inner_act));
  if (has_residual)
    buf_printf(b, "  ghr_add(%s, %s, %s, %zu, %s);\n", y, residual, y,
               (size_t)primary * plane, act_macro(n->act));
  else if (n->act != GH_ACT_NONE)
    buf_printf(b, "  ghr_activation(%s, %s, %zu, %s);\n", y, y,
               value_count(out), act_macro(n->act));
}

static void emit_call(Emitter *e, Buf *b, const Node *n) {
  const Graph *g = e->g;
  const Value *out = &g->values[n->out];
  const Value *in = n->n_in ? &g->values[n->in[0]] : NULL;
  const char *y = value_ptr(e, n->out);
  const char *x = n->n_in ? value_ptr(e, n->in[0]) : NULL;
  const char *act = act_macro(n->act);
  size_t hw = (size_t)out->h * (size_t)out->w;
  switch (n->op) {
  case GH_OP_CONV2D:
    emit_conv(b, x, in, y, out, n->out_features / n->groups,
              weight_ptr(e, n->params[0]), weight_ptr(e, n->params[1]), n,
              n->groups, extra_ptr(e, n, n->in_scale),
              extra_ptr(e, n, n->residual), act);
    break;
  case GH_OP_GHOST:
    emit_ghost(e, b, n, x, y);
    break;
  case GH_OP_BATCHNORM:
    buf_printf(b, "  ghr_batchnorm(%s, %s, %d, %zu, %s, %s, %s, %s, %s, %s);\n",
               x, y, out->c, hw, weight_ptr(e, n->params[0]),
               weight_ptr(e, n->params[1]), weight_ptr(e, n->params[2]),
               weight_ptr(e, n->params[3]), c_float_literal(e->arena, n->eps),
               act);
    break;
  case GH_OP_ACTIVATION:
    buf_printf(b, "  ghr_activation(%s, %s, %zu, %s);\n", x, y,
               value_count(out), act);
    break;
  case GH_OP_ADD:
    buf_printf(b, "  ghr_add(%s, %s, %s, %zu, %s);\n", x,
               value_ptr(e, n->in[1]), y, value_count(out), act);
    break;
  case GH_OP_MUL:
    buf_printf(b, "  ghr_mul_channel(%s, %s, %s, %d, %zu, %s);\n", x,
               value_ptr(e, n->in[1]), y, out->c, hw, act);
    break;
  case GH_OP_CONCAT: {
    if (concat_is_in_place(g, n)) {
      buf_printf(b, "  /* in place: the inputs wrote their channels */\n");
      break;
    }
    size_t at = 0;
    for (int k = 0; k < n->n_in; k++) {
      size_t count = value_count(&g->values[n->in[k]]);
      buf_printf(b, "  ghr_copy(%s, %s + %zu, %zu, %s);\n",
                 value_ptr(e, n->in[k]), y, at, count, act);
      at += count;
    }
    break;
  }
  case GH_OP_SLICE:
    buf_printf(b, "  ghr_copy(%s + %zu, %s, %zu, %s);\n", x,
               (size_t)n->begin * hw, y, value_count(out), act);
    break;
  case GH_OP_FLATTEN:
    buf_printf(b, "  ghr_copy(%s, %s, %zu, %s);\n", x, y, value_count(out), act);
    break;
  case GH_OP_SHUFFLE:
    buf_printf(b, "  ghr_channel_shuffle(%s, %s, %d, %zu, %d, %s);\n", x, y,
               out->c, hw, n->groups, act);
    break;
  case GH_OP_AVGPOOL:
  case GH_OP_MAXPOOL:
    buf_printf(b, "  ghr_%s(%s, %d, %d, %d, %s, %d, %d, %d, %d, %d, %d, %d, %d",
               n->op == GH_OP_AVGPOOL ? "avgpool" : "maxpool", x, in->c, in->h,
               in->w, y, out->h, out->w, n->kh, n->kw, n->stride_h, n->stride_w,
               n->pad_h, n->pad_w);
    if (n->op == GH_OP_AVGPOOL)
      buf_printf(b, ", %d", n->count_include_pad);
    buf_printf(b, ", %s);\n", act);
    break;
  case GH_OP_GLOBAL_AVGPOOL:
    buf_printf(b, "  ghr_global_avgpool(%s, %s, %d, %zu, %s);\n", x, y, in->c,
               (size_t)in->h * (size_t)in->w, act);
    break;
  case GH_OP_LINEAR:
    buf_printf(b, "  ghr_linear(%s, %s, %d, %d, %s, %s, %s);\n", x, y, in->c,
               out->c, weight_ptr(e, n->params[0]), weight_ptr(e, n->params[1]),
               act);
    break;
  case GH_OP_INPUT:
  case GH_OP_COUNT:
    gh_assert(!"no call for this op");
  }
}

static void emit_code(Emitter *e, const char *provenance, Output *out) {
  const Graph *g = e->g;
  Buf b;
  begin_file(e, &b, provenance);
  buf_printf(&b, "#include \"%s.h\"\n\n#include <math.h>\n#include <stddef.h>\n"
             "#include <stdint.h>\n#include <string.h>\n\n"
             "#define GHR_API static\n", e->id);
  paste_runtime(&b, "ghr.h");
  const char *pasted[32];
  int n_pasted = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const char *files[3];
    int n_files = node_kernels(g, &g->nodes[i], files);
    for (int f = 0; f < n_files; f++) {
      bool seen = false;
      for (int k = 0; k < n_pasted && !seen; k++)
        seen = strcmp(pasted[k], files[f]) == 0;
      if (!seen) {
        gh_assert(n_pasted < 32);
        paste_runtime(&b, files[f]);
        pasted[n_pasted++] = files[f];
      }
    }
  }
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
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = &g->nodes[i];
    if (n->op == GH_OP_INPUT)
      continue;
    const Value *v = &g->values[n->out];
    buf_printf(&b, "  /* %s: %s -> %dx%dx%d */\n",
               c_comment_text(e->arena, n->name ? n->name : ""),
               op_names[n->op], v->c, v->h, v->w);
    emit_call(e, &b, n);
  }
  buf_printf(&b, "  return %s_OK;\n}\n", e->macro);
  finish_file(e, out, &b, arena_printf(e->arena, "%s.c", e->id));
}

void emit_c(const Graph *g, const MemPlan *plan, const char *provenance,
            Output *out) {
  Emitter e = {.g = g, .plan = plan, .arena = g->arena};
  e.id = c_identifier(g->arena, g->name);
  e.macro = upper(g->arena, e.id);
  layout_weights(&e);
  emit_header(&e, provenance, out);
  emit_code(&e, provenance, out);
  emit_weights(&e, provenance, out);
}
