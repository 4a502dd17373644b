// From the graph the passes left to a list of kernel calls (schedule.h):
// one or more calls per node, every shape a constant, every tensor a base
// and an offset from the memory plan, the weights in one blob.
#include "codegen.h"
#include "pack.h"

#include <string.h>

typedef struct {
  const Graph *g;
  const MemPlan *plan;
  const Target *target;
  Arena *arena;
  Schedule *s;
  int calls_cap;
  size_t weights_cap;
  size_t *param_at;  // per param: its offset in the blob, SIZE_MAX if absent
  const char *note;  // the note for the next call
} Scheduler;

// A kernel's runtime file, and the files it needs pasted before it.
static const struct {
  const char *kernel, *files[2];
} kernel_files[] = {
    {"ghr_conv2d", {"conv2d.c"}},
    {"ghr_conv1x1", {"conv1x1.c"}},
    {"ghr_dwconv", {"dwconv.c"}},
    {"ghr_conv_direct", {"conv_direct.c"}},
    {"ghr_conv_winograd", {"conv_winograd.c"}},
    {"ghr_batchnorm", {"batchnorm.c"}},
    {"ghr_activation", {"activation.c"}},
    {"ghr_add", {"add.c"}},
    {"ghr_mul_channel", {"mul_channel.c"}},
    {"ghr_copy", {"copy.c"}},
    {"ghr_channel_shuffle", {"channel_shuffle.c"}},
    {"ghr_avgpool", {"pool.h", "avgpool.c"}},
    {"ghr_maxpool", {"pool.h", "maxpool.c"}},
    {"ghr_global_avgpool", {"global_avgpool.c"}},
    {"ghr_linear", {"linear.c"}},
};

static void need_file(Scheduler *S, const char *file) {
  Schedule *s = S->s;
  for (int i = 0; i < s->n_files; i++)
    if (!strcmp(s->files[i], file))
      return;
  enum { MAX_FILES = 32 };
  if (!s->files)
    s->files = arena_array(S->arena, MAX_FILES, sizeof *s->files);
  gh_assert(s->n_files < MAX_FILES);
  s->files[s->n_files++] = file;
}

static Call *new_call(Scheduler *S, const char *kernel) {
  Schedule *s = S->s;
  if (s->n_calls == S->calls_cap) {
    int cap = S->calls_cap ? 2 * S->calls_cap : 256;
    Call *calls = arena_array(S->arena, (size_t)cap, sizeof *calls);
    if (s->n_calls)
      memcpy(calls, s->calls, (size_t)s->n_calls * sizeof *calls);
    s->calls = calls;
    S->calls_cap = cap;
  }
  Call *c = &s->calls[s->n_calls++];
  *c = (Call){.note = S->note, .kernel = kernel};
  S->note = NULL;
  if (!kernel)
    return c;
  for (size_t i = 0; i < sizeof kernel_files / sizeof *kernel_files; i++)
    if (!strcmp(kernel_files[i].kernel, kernel)) {
      for (int f = 0; f < 2 && kernel_files[i].files[f]; f++)
        need_file(S, kernel_files[i].files[f]);
      return c;
    }
  gh_assert(!"kernel without a runtime file");
  return c;
}

static void push(Call *c, Arg a) {
  gh_assert(c->n_args < MAX_CALL_ARGS);
  c->args[c->n_args++] = a;
}

static void push_int(Call *c, int64_t v) { push(c, (Arg){ARG_INT, v, 0}); }

static Arg offset_by(Arg a, size_t floats) {
  if (a.kind != ARG_NULL)
    a.value += (int64_t)floats;
  return a;
}

// Where value v lives: the input, the output, or its place in the arena;
// a view (a concat part written in place) is an offset into its base.
static Arg value_arg(const Scheduler *S, int v) {
  const Value *val = &S->g->values[v];
  if (val->view_of >= 0)
    return offset_by(value_arg(S, val->view_of),
                     (size_t)val->view_channel * (size_t)val->h *
                         (size_t)val->w);
  if (v == S->g->input)
    return (Arg){ARG_INPUT, 0, 0};
  if (v == S->g->output)
    return (Arg){ARG_OUTPUT, 0, 0};
  gh_assert(S->plan->offset[v] != SIZE_MAX);
  return (Arg){ARG_ARENA, (int64_t)(S->plan->offset[v] / sizeof(float)), 0};
}

// The value in slot `slot` of n->in (residual, input scale), or NULL.
static Arg extra_arg(const Scheduler *S, const Node *n, int slot) {
  return slot < 0 ? (Arg){ARG_NULL, 0, 0} : value_arg(S, n->in[slot]);
}

// Makes the blob's buffer hold at least `floats` floats.
static void ensure_capacity(Scheduler *S, size_t floats) {
  if (floats <= S->weights_cap)
    return;
  size_t cap = S->weights_cap, bytes;
  if (!size_mul(cap, 2, &cap))
    gh_error("the weights are too large");
  if (cap < floats)
    cap = floats;
  if (!size_mul(cap, sizeof(float), &bytes))
    gh_error("the weights are too large");
  float *w = arena_alloc(S->arena, bytes);
  if (S->s->weight_floats)
    memcpy(w, S->s->weights, S->s->weight_floats * sizeof(float));
  S->s->weights = w;
  S->weights_cap = cap;
}

// Room for `floats` more floats at the end of the blob, 64-byte aligned and
// zeroed; returns the offset.
static size_t reserve_weights(Scheduler *S, size_t floats) {
  Schedule *s = S->s;
  size_t at = s->weight_floats, end;
  if (!size_add(at, (floats + 15) / 16 * 16, &end))
    gh_error("the weights are too large");
  ensure_capacity(S, end);
  memset(s->weights + at, 0, (end - at) * sizeof(float));
  s->weight_floats = end;
  return at;
}

// A parameter as stored, placed in the blob the first time it is asked for.
static Arg param_arg(Scheduler *S, int param) {
  if (param < 0)
    return (Arg){ARG_NULL, 0, 0};
  if (S->param_at[param] == SIZE_MAX) {
    const Param *p = &S->g->params[param];
    gh_assert(p->data);
    size_t at = reserve_weights(S, p->count);
    memcpy(S->s->weights + at, p->data, p->count * sizeof(float));
    S->param_at[param] = at;
  }
  return (Arg){ARG_WEIGHTS, (int64_t)S->param_at[param], 0};
}

// The window of a convolution or pooling: kh, kw, sh, sw, ph, pw.
static void push_window(Call *c, int kh, int kw, int sh, int sw, int ph,
                        int pw) {
  push_int(c, kh);
  push_int(c, kw);
  push_int(c, sh);
  push_int(c, sw);
  push_int(c, ph);
  push_int(c, pw);
}

// How one convolution is called: shapes, fused prologue and epilogue.
typedef struct {
  Arg x, y;              // input, output
  const Value *in, *out;  // their shapes (out: the channels computed)
  int weight, bias;      // params, bias may be -1
  int kh, kw, sh, sw, ph, pw;
  int groups, oc_per_group;
  Arg in_scale, residual;
  int in_shuffle, act;
} Conv;

// Room in the blob for a packed weight; returns its argument and where to
// write it.
static Arg packed_arg(Scheduler *S, size_t floats, float **dst) {
  size_t at = reserve_weights(S, floats);
  *dst = S->s->weights + at;
  return (Arg){ARG_WEIGHTS, (int64_t)at, 0};
}

static const float *param_data(const Scheduler *S, int param) {
  const Param *p = &S->g->params[param];
  gh_assert(p->data);
  return p->data;
}

// A 1x1, stride-1 convolution is a GEMM: one ghr_conv1x1 per group, each
// with its weights packed for the micro-kernel.
static void schedule_conv1x1(Scheduler *S, const Conv *cv) {
  int icg = cv->in->c / cv->groups, ocg = cv->oc_per_group;
  size_t hw = (size_t)cv->out->h * (size_t)cv->out->w;
  Isa isa = S->target->isa;
  for (int grp = 0; grp < cv->groups; grp++) {
    float *packed;
    Arg w = packed_arg(S, conv1x1_packed_floats(isa, ocg, icg, (int)hw),
                       &packed);
    conv1x1_pack(isa, param_data(S, cv->weight) + (size_t)grp * ocg * icg,
                 ocg, icg, (int)hw, packed);
    size_t out_at = (size_t)grp * ocg * hw;
    Call *c = new_call(S, "ghr_conv1x1");
    push(c, cv->x);
    push_int(c, cv->in->c);
    push_int(c, (int64_t)grp * icg);
    push_int(c, icg);
    push_int(c, (int64_t)hw);
    push(c, offset_by(cv->y, out_at));
    push_int(c, ocg);
    push(c, w);
    push(c, offset_by(param_arg(S, cv->bias), (size_t)grp * ocg));
    push(c, cv->in_scale);
    push_int(c, cv->in_shuffle);
    push(c, offset_by(cv->residual, out_at));
    push_int(c, cv->act);
  }
}

// The arguments the KxK kernels begin with: in, ic, ih, iw, out, oc, oh,
// ow, weight, bias, the window.
static void push_conv_shapes(Call *c, const Conv *cv, Arg weight, Arg bias) {
  push(c, cv->x);
  push_int(c, cv->in->c);
  push_int(c, cv->in->h);
  push_int(c, cv->in->w);
  push(c, cv->y);
  push_int(c, cv->out->c);
  push_int(c, cv->out->h);
  push_int(c, cv->out->w);
  push(c, weight);
  push(c, bias);
  push_window(c, cv->kh, cv->kw, cv->sh, cv->sw, cv->ph, cv->pw);
}

// ... and end with: in_scale, in_shuffle, residual, act.
static void push_conv_fusions(Call *c, const Conv *cv) {
  push(c, cv->in_scale);
  push_int(c, cv->in_shuffle);
  push(c, cv->residual);
  push_int(c, cv->act);
}

// One input channel per group: output channel o reads input o / mult.
static void schedule_dwconv_weights(Scheduler *S, const Conv *cv, Arg weight,
                                    Arg bias) {
  Call *c = new_call(S, "ghr_dwconv");
  push_conv_shapes(c, cv, weight, bias);
  push_int(c, cv->oc_per_group);
  push_conv_fusions(c, cv);
}

static void schedule_dwconv(Scheduler *S, const Conv *cv) {
  // Weight before bias, as everywhere: the order places them in the blob.
  Arg weight = param_arg(S, cv->weight);
  Arg bias = param_arg(S, cv->bias);
  schedule_dwconv_weights(S, cv, weight, bias);
}

// A dense KxK convolution, register-blocked over packed weights.
static void schedule_conv_direct(Scheduler *S, const Conv *cv) {
  Isa isa = S->target->isa;
  int oc = cv->out->c, ic = cv->in->c;
  float *packed;
  Arg w = packed_arg(S, conv_direct_packed_floats(isa, oc, ic, cv->kh, cv->kw),
                     &packed);
  conv_direct_pack(isa, param_data(S, cv->weight), oc, ic, cv->kh, cv->kw,
                   packed);
  Arg bias = param_arg(S, cv->bias);
  Call *c = new_call(S, "ghr_conv_direct");
  push_conv_shapes(c, cv, w, bias);
  push_conv_fusions(c, cv);
}

// Winograd F(2x2, 3x3) does 16 multiplies per 2x2 outputs and input
// channel where the direct kernel does 36, for the cost of transforming
// inputs and outputs: faster (1.2x to 1.6x, AVX-512) on 3x3, stride-1,
// same-size layers of maps from 8x8 up with enough input channels to
// amortize the transforms; slower on the 4x4 and 2x2 maps of CIFAR
// networks (blocks of tiles mostly empty), and its strips bound the width.
// Its weights are 16/9 the direct kernel's: on maps of few tiles each is
// used too little to hide the loads from memory when they do not fit an L2
// (VGG's 256 channels on 8x8 run as fast as direct), so those stay direct.
// AVX2's micro-kernel has 8 accumulators to AVX-512's 16 vectors: it wins
// only from 16x16 maps up (8x8 maps at 0.9x).
static bool winograd_wins(const Conv *cv, Isa isa) {
  enum {
    MIN_SIDE = 8, MAX_WIDTH = 128, MIN_IC = 8,
    MANY_TILES = 64,                 // a 16x16 map
    L2_WEIGHT_FLOATS = 1 << 18,      // 1 MB of transformed weights
  };
  const int tiles = (cv->out->h + 1) / 2 * ((cv->out->w + 1) / 2);
  const size_t weight_floats = (size_t)16 * cv->in->c * cv->out->c;
  return cv->groups == 1 && cv->kh == 3 && cv->kw == 3 && cv->sh == 1 &&
         cv->sw == 1 && cv->ph == 1 && cv->pw == 1 &&
         cv->out->h == cv->in->h && cv->out->w == cv->in->w &&
         cv->out->h >= MIN_SIDE && cv->out->w >= MIN_SIDE &&
         cv->out->w <= MAX_WIDTH && cv->in->c >= MIN_IC &&
         (tiles >= MANY_TILES ||
          (isa != ISA_AVX2 && weight_floats <= L2_WEIGHT_FLOATS));
}

// A 3x3 convolution by Winograd F(2x2, 3x3), weights transformed and
// packed here.
static void schedule_conv_winograd(Scheduler *S, const Conv *cv) {
  Isa isa = S->target->isa;
  int oc = cv->out->c, ic = cv->in->c;
  float *packed;
  Arg w = packed_arg(S, winograd_packed_floats(isa, oc, ic), &packed);
  winograd_pack(isa, param_data(S, cv->weight), oc, ic, packed);
  Arg bias = param_arg(S, cv->bias);
  Call *c = new_call(S, "ghr_conv_winograd");
  push_conv_shapes(c, cv, w, bias);
  push_conv_fusions(c, cv);
}

// Any other grouped convolution: the general direct kernel.
static void schedule_conv_general(Scheduler *S, const Conv *cv) {
  Arg weight = param_arg(S, cv->weight);
  Arg bias = param_arg(S, cv->bias);
  Call *c = new_call(S, "ghr_conv2d");
  push_conv_shapes(c, cv, weight, bias);
  push_int(c, cv->groups);
  push_int(c, cv->oc_per_group);
  push_conv_fusions(c, cv);
}

// A fully connected layer's weight (n_out, n_in), packed for ghr_linear.
static Arg packed_linear(Scheduler *S, const float *weight, int n_out,
                         int n_in) {
  Isa isa = S->target->isa;
  float *packed;
  Arg w = packed_arg(S, linear_packed_floats(isa, n_out, n_in), &packed);
  linear_pack(isa, weight, n_out, n_in, packed);
  return w;
}

// A 1x1 convolution of a 1x1 map (squeeze-excite, a conv head after global
// pooling) is a matrix-vector product: the classifier's kernel, per group,
// reads the weights as stored, once, without tiles of spatial columns.
static void schedule_conv_as_linear(Scheduler *S, const Conv *cv) {
  int icg = cv->in->c / cv->groups, ocg = cv->oc_per_group;
  for (int grp = 0; grp < cv->groups; grp++) {
    Arg w = packed_linear(S, param_data(S, cv->weight) +
                                 (size_t)grp * ocg * icg, ocg, icg);
    Call *c = new_call(S, "ghr_linear");
    push(c, offset_by(cv->x, (size_t)grp * icg));
    push(c, offset_by(cv->y, (size_t)grp * ocg));
    push_int(c, icg);
    push_int(c, ocg);
    push(c, w);
    push(c, offset_by(param_arg(S, cv->bias), (size_t)grp * ocg));
    push_int(c, cv->act);
  }
}

static void schedule_conv(Scheduler *S, const Conv *cv) {
  bool pointwise = cv->kh == 1 && cv->kw == 1 && cv->sh == 1 &&
                   cv->sw == 1 && cv->ph == 0 && cv->pw == 0;
  bool all_outputs = cv->out->c == cv->groups * cv->oc_per_group;
  bool plain = cv->in_scale.kind == ARG_NULL && cv->in_shuffle == 0 &&
               cv->residual.kind == ARG_NULL;
  if (pointwise && all_outputs && plain && cv->out->h * cv->out->w == 1)
    schedule_conv_as_linear(S, cv);
  else if (cv->in->c == cv->groups && cv->groups > 1)
    schedule_dwconv(S, cv);
  else if (pointwise && all_outputs)
    schedule_conv1x1(S, cv);
  else if (winograd_wins(cv, S->target->isa))
    schedule_conv_winograd(S, cv);
  else if (cv->groups == 1)
    schedule_conv_direct(S, cv);
  else
    schedule_conv_general(S, cv);
}

static void schedule_elementwise(Scheduler *S, const char *kernel, Arg a,
                                 Arg b, Arg out, size_t count, int act) {
  Call *c = new_call(S, kernel);
  push(c, a);
  if (b.kind != ARG_NULL)
    push(c, b);
  push(c, out);
  push_int(c, (int64_t)count);
  push_int(c, act);
}

// A ghost module (ir.h): the primary conv writes channels [0, P), the cheap
// depthwise conv reads them and writes [P, O) of the same buffer; the
// residual and the final activation follow.
static void schedule_ghost(Scheduler *S, const Node *n) {
  const Value *in = &S->g->values[n->in[0]], *out = &S->g->values[n->out];
  int primary = n->ghost_primary, cheap = out->c - primary;
  size_t plane = (size_t)out->h * (size_t)out->w;
  Value primary_maps = {.c = primary, .h = out->h, .w = out->w};
  Value cheap_maps = {.c = cheap, .h = out->h, .w = out->w};
  Arg y = value_arg(S, n->out), residual = extra_arg(S, n, n->residual);
  bool has_residual = n->residual >= 0;
  // The residual forbids an inner activation (fuse_residual).
  gh_assert(!has_residual || n->inner_act == GH_ACT_NONE);
  schedule_conv(S, &(Conv){
      .x = value_arg(S, n->in[0]), .y = y, .in = in, .out = &primary_maps,
      .weight = n->params[0], .bias = n->params[1],
      .kh = n->kh, .kw = n->kw, .sh = n->stride_h, .sw = n->stride_w,
      .ph = n->pad_h, .pw = n->pad_w, .groups = 1, .oc_per_group = primary,
      .in_scale = extra_arg(S, n, n->in_scale), .in_shuffle = n->in_shuffle,
      .residual = (Arg){ARG_NULL, 0, 0}, .act = (int)n->inner_act});
  int dw = n->ghost_dw;
  schedule_conv(S, &(Conv){
      .x = y, .y = offset_by(y, (size_t)primary * plane), .in = &primary_maps,
      .out = &cheap_maps, .weight = n->params[2], .bias = n->params[3],
      .kh = dw, .kw = dw, .sh = 1, .sw = 1, .ph = dw / 2, .pw = dw / 2,
      .groups = primary, .oc_per_group = n->ghost_mult,
      .in_scale = (Arg){ARG_NULL, 0, 0}, .in_shuffle = 0,
      .residual = offset_by(residual, (size_t)primary * plane),
      .act = (int)(has_residual ? n->act : n->inner_act)});
  if (has_residual)
    schedule_elementwise(S, "ghr_add", y, residual, y,
                         (size_t)primary * plane, (int)n->act);
  else if (n->act != GH_ACT_NONE)
    schedule_elementwise(S, "ghr_activation", y, (Arg){ARG_NULL, 0, 0}, y,
                         value_count(out), (int)n->act);
}

// An average whose divisor is always kh*kw (padding cells count, or there
// are none: no window reaches past the padding, outputs round down) is a
// depthwise convolution with every weight 1/(kh*kw), which the depthwise
// kernel computes faster than the pooling one: multiply-adds on vectors in
// registers, where pooling sums rows into a buffer and then windows.
static void schedule_avgpool_dwconv(Scheduler *S, const Node *n) {
  const Value *in = &S->g->values[n->in[0]];
  size_t taps = (size_t)n->kh * (size_t)n->kw;
  float *weight;
  Arg w = packed_arg(S, (size_t)in->c * taps, &weight);
  for (size_t i = 0; i < (size_t)in->c * taps; i++)
    weight[i] = 1.0f / (float)taps;
  Arg none = {ARG_NULL, 0, 0};
  schedule_dwconv_weights(S, &(Conv){
      .x = value_arg(S, n->in[0]), .y = value_arg(S, n->out), .in = in,
      .out = &S->g->values[n->out], .kh = n->kh, .kw = n->kw,
      .sh = n->stride_h, .sw = n->stride_w, .ph = n->pad_h, .pw = n->pad_w,
      .groups = in->c, .oc_per_group = 1, .in_scale = none, .residual = none,
      .act = (int)n->act}, w, none);
}

static void schedule_pool(Scheduler *S, const Node *n) {
  const Value *in = &S->g->values[n->in[0]], *out = &S->g->values[n->out];
  bool avg = n->op == GH_OP_AVGPOOL;
  if (avg && (n->count_include_pad || (n->pad_h == 0 && n->pad_w == 0))) {
    schedule_avgpool_dwconv(S, n);
    return;
  }
  Call *c = new_call(S, avg ? "ghr_avgpool" : "ghr_maxpool");
  push(c, value_arg(S, n->in[0]));
  push_int(c, in->c);
  push_int(c, in->h);
  push_int(c, in->w);
  push(c, value_arg(S, n->out));
  push_int(c, out->h);
  push_int(c, out->w);
  push_window(c, n->kh, n->kw, n->stride_h, n->stride_w, n->pad_h, n->pad_w);
  if (avg)
    push_int(c, n->count_include_pad);
  push_int(c, (int)n->act);
}

static void schedule_node(Scheduler *S, const Node *n) {
  const Graph *g = S->g;
  const Value *out = &g->values[n->out];
  const Value *in = n->n_in ? &g->values[n->in[0]] : NULL;
  Arg y = value_arg(S, n->out);
  Arg x = n->n_in ? value_arg(S, n->in[0]) : (Arg){ARG_NULL, 0, 0};
  Arg none = {ARG_NULL, 0, 0};
  int act = (int)n->act;
  size_t hw = (size_t)out->h * (size_t)out->w;
  Call *c;
  switch (n->op) {
  case GH_OP_CONV2D:
    schedule_conv(S, &(Conv){
        .x = x, .y = y, .in = in, .out = out, .weight = n->params[0],
        .bias = n->params[1], .kh = n->kh, .kw = n->kw, .sh = n->stride_h,
        .sw = n->stride_w, .ph = n->pad_h, .pw = n->pad_w,
        .groups = n->groups, .oc_per_group = n->out_features / n->groups,
        .in_scale = extra_arg(S, n, n->in_scale), .in_shuffle = n->in_shuffle,
        .residual = extra_arg(S, n, n->residual), .act = act});
    break;
  case GH_OP_GHOST:
    schedule_ghost(S, n);
    break;
  case GH_OP_BATCHNORM:
    c = new_call(S, "ghr_batchnorm");
    push(c, x);
    push(c, y);
    push_int(c, out->c);
    push_int(c, (int64_t)hw);
    for (int k = 0; k < 4; k++)
      push(c, param_arg(S, n->params[k]));
    push(c, (Arg){ARG_FLOAT, 0, n->eps});
    push_int(c, act);
    break;
  case GH_OP_ACTIVATION:
    schedule_elementwise(S, "ghr_activation", x, none, y, value_count(out),
                         act);
    break;
  case GH_OP_ADD:
    schedule_elementwise(S, "ghr_add", x, value_arg(S, n->in[1]), y,
                         value_count(out), act);
    break;
  case GH_OP_MUL:
    c = new_call(S, "ghr_mul_channel");
    push(c, x);
    push(c, value_arg(S, n->in[1]));
    push(c, y);
    push_int(c, out->c);
    push_int(c, (int64_t)hw);
    push_int(c, act);
    break;
  case GH_OP_CONCAT: {
    if (concat_is_in_place(g, n)) {
      S->note = arena_printf(S->arena, "%s in place: the inputs wrote their "
                             "channels", S->note);
      new_call(S, NULL);
      break;
    }
    size_t at = 0;
    for (int k = 0; k < n->n_in; k++) {
      size_t count = value_count(&g->values[n->in[k]]);
      schedule_elementwise(S, "ghr_copy", value_arg(S, n->in[k]), none,
                           offset_by(y, at), count, act);
      at += count;
    }
    break;
  }
  case GH_OP_SLICE:
    schedule_elementwise(S, "ghr_copy", offset_by(x, (size_t)n->begin * hw),
                         none, y, value_count(out), act);
    break;
  case GH_OP_FLATTEN:
    if (x.kind == y.kind && x.value == y.value && act == GH_ACT_NONE) {
      S->note = arena_printf(S->arena, "%s in place: the same floats",
                             S->note);
      new_call(S, NULL);
      break;
    }
    schedule_elementwise(S, "ghr_copy", x, none, y, value_count(out), act);
    break;
  case GH_OP_SHUFFLE:
    c = new_call(S, "ghr_channel_shuffle");
    push(c, x);
    push(c, y);
    push_int(c, out->c);
    push_int(c, (int64_t)hw);
    push_int(c, n->groups);
    push_int(c, act);
    break;
  case GH_OP_AVGPOOL:
  case GH_OP_MAXPOOL:
    schedule_pool(S, n);
    break;
  case GH_OP_GLOBAL_AVGPOOL:
    c = new_call(S, "ghr_global_avgpool");
    push(c, x);
    push(c, y);
    push_int(c, in->c);
    push_int(c, (int64_t)in->h * in->w);
    push_int(c, act);
    break;
  case GH_OP_LINEAR: {
    Arg w = packed_linear(S, param_data(S, n->params[0]), out->c, in->c);
    c = new_call(S, "ghr_linear");
    push(c, x);
    push(c, y);
    push_int(c, in->c);
    push_int(c, out->c);
    push(c, w);
    push(c, param_arg(S, n->params[1]));
    push_int(c, act);
    break;
  }
  case GH_OP_INPUT:
  case GH_OP_COUNT:
    gh_assert(!"no call for this op");
  }
}

Schedule schedule_model(const Graph *g, const MemPlan *plan,
                        const Target *target) {
  Schedule s = {0};
  Scheduler S = {.g = g, .plan = plan, .target = target, .arena = g->arena,
                 .s = &s};
  S.param_at = arena_array(g->arena, (size_t)g->n_params + 1, sizeof(size_t));
  // The blob is about the parameters plus the packings' padding: reserved
  // once at that size (a quarter more), it rarely grows and is copied.
  size_t floats = 0;
  for (int i = 0; i < g->n_params; i++) {
    S.param_at[i] = SIZE_MAX;
    floats += (g->params[i].count + 15) / 16 * 16;
  }
  ensure_capacity(&S, floats + floats / 4 + 16);
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = &g->nodes[i];
    if (n->op == GH_OP_INPUT)
      continue;
    const Value *v = &g->values[n->out];
    S.note = arena_printf(g->arena, "%s: %s -> %dx%dx%d",
                          n->name ? n->name : "", op_names[n->op], v->c, v->h,
                          v->w);
    schedule_node(&S, n);
  }
  if (s.weight_floats == 0)
    reserve_weights(&S, 16);  // C has no empty arrays
  return s;
}
