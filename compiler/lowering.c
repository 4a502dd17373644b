// Lowering: the spec's layers, primitive and composite, to IR ops. A
// composite block (ghost_module, squeeze_excite, ghost_bottleneck) expands
// into the same primitive ops, with the same parameter names, as the module
// PyTorch users train; nothing about a particular network lives here.
#include "spec.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

enum { MAX_TABLE_ROWS = 4096 };

typedef struct {
  const char *name;
  int value;
} Ref;

typedef struct {
  const Spec *s;
  Graph *g;
  int cur;          // output of the previous layer: the default input
  Ref *refs;        // named layer outputs, for `from`
  int n_refs, cap_refs;
} Lower;

//
// Fields of one layer
//

static Field *find_field(Fields *f, const char *key) {
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->items[i].key, key) == 0) {
      f->items[i].used = true;
      return &f->items[i];
    }
  return NULL;
}

static Field *require_field(Fields *f, const char *key) {
  Field *x = find_field(f, key);
  if (!x)
    gh_error_at(f->loc, "%s needs the field '%s'", f->type, key);
  return x;
}

static void add_field(const Spec *s, Fields *f, yaml_node_t *key,
                      yaml_node_t *value) {
  const char *name = spec_scalar(s, key, "a field name");
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->items[i].key, name) == 0)
      gh_error_at(spec_loc(s, key), "field '%s' is given twice", name);
  if (f->n == SPEC_MAX_FIELDS)
    gh_error_at(spec_loc(s, key), "too many fields in %s", f->type);
  f->items[f->n++] =
      (Field){name, value, spec_loc(s, value), spec_loc(s, key), false};
}

static int int_field(const Lower *L, Fields *f, const char *key, int def) {
  Field *x = find_field(f, key);
  return x ? spec_int(L->s, x->value, key) : def;
}

static int positive_field(const Lower *L, Fields *f, const char *key,
                          int def) {
  Field *x = find_field(f, key);
  if (!x)
    return def;
  int v = spec_int(L->s, x->value, key);
  if (v < 1)
    gh_error_at(x->loc, "%s must be positive, got %d", key, v);
  return v;
}

static int nonnegative_field(const Lower *L, Fields *f, const char *key,
                             int def) {
  Field *x = find_field(f, key);
  if (!x)
    return def;
  int v = spec_int(L->s, x->value, key);
  if (v < 0)
    gh_error_at(x->loc, "%s must not be negative, got %d", key, v);
  return v;
}

static double number_field(const Lower *L, Fields *f, const char *key,
                           double def) {
  Field *x = find_field(f, key);
  return x ? spec_number(L->s, x->value, key) : def;
}

static bool bool_field(const Lower *L, Fields *f, const char *key, bool def) {
  Field *x = find_field(f, key);
  return x ? spec_bool(L->s, x->value, key) : def;
}

// A channel count: a literal is given at width 1.0 and scaled by the spec's
// width; a parameter name (num_classes) or `scale: false` keeps it as is.
static int channels_field(const Lower *L, Fields *f, const char *key,
                          bool scale) {
  Field *x = require_field(f, key);
  const char *text = spec_scalar(L->s, x->value, key);
  double v = spec_number(L->s, x->value, key);
  if (v != floor(v) || v < 1)
    gh_error_at(x->loc, "%s must be a positive integer, got %g", key, v);
  if (!scale || spec_param(L->s, text))
    return spec_int(L->s, x->value, key);
  return spec_scale_channels(L->s, v, x->loc);
}

static void check_fields_used(const Fields *f) {
  for (int i = 0; i < f->n; i++)
    if (!f->items[i].used)
      gh_error_at(f->items[i].key_loc, "unknown field '%s' for %s",
                  f->items[i].key, f->type);
}

//
// Emitting IR
//

static const char *join(const Lower *L, const char *prefix,
                        const char *suffix) {
  return arena_printf(L->g->arena, "%s.%s", prefix, suffix);
}

static const char *const weight_bias[] = {"weight", "bias"};
static const char *const bn_stats[] = {"weight", "bias", "running_mean",
                                       "running_var"};

// Adds the node, then its parameters NAME.<suffix> for the first n_params
// slots that are wanted (bias only when has_bias).
static int emit(Lower *L, Node n, const char *const *suffixes, int n_params) {
  int out = graph_add_node(L->g, n);
  Node *node = &L->g->nodes[L->g->n_nodes - 1];
  for (int slot = 0; slot < n_params; slot++) {
    int ndim, dims[4];
    if (!param_shape(L->g, node, slot, &ndim, dims))
      continue;
    const char *key = join(L, node->name, suffixes[slot]);
    node->params[slot] = graph_add_param(L->g, key, ndim, dims, node->loc);
  }
  L->cur = out;
  return out;
}

static int emit_conv(Lower *L, SrcLoc loc, const char *name, int x, int out,
                     int kernel, int stride, int pad, int groups, bool bias) {
  Node n = node_init(GH_OP_CONV2D, name, loc);
  n.in[0] = x;
  n.n_in = 1;
  n.out_features = out;
  n.kh = n.kw = kernel;
  n.stride_h = n.stride_w = stride;
  n.pad_h = n.pad_w = pad;
  n.groups = groups;
  return emit(L, n, weight_bias, bias ? 2 : 1);
}

static int emit_batchnorm(Lower *L, SrcLoc loc, const char *name, int x,
                          float eps) {
  Node n = node_init(GH_OP_BATCHNORM, name, loc);
  n.in[0] = x;
  n.n_in = 1;
  n.eps = eps;
  return emit(L, n, bn_stats, 4);
}

static int emit_unary(Lower *L, OpKind op, SrcLoc loc, const char *name,
                      int x) {
  Node n = node_init(op, name, loc);
  n.in[0] = x;
  n.n_in = 1;
  return emit(L, n, NULL, 0);
}

static int emit_activation(Lower *L, SrcLoc loc, int x, Act act) {
  Node n = node_init(GH_OP_ACTIVATION, act_names[act], loc);
  n.in[0] = x;
  n.n_in = 1;
  n.act = act;
  return emit(L, n, NULL, 0);
}

static int emit_binary(Lower *L, OpKind op, SrcLoc loc, const char *name,
                       int a, int b) {
  Node n = node_init(op, name, loc);
  n.in[0] = a;
  n.in[1] = b;
  n.n_in = 2;
  return emit(L, n, NULL, 0);
}

static int emit_slice(Lower *L, SrcLoc loc, const char *name, int x,
                      int begin, int end) {
  Node n = node_init(GH_OP_SLICE, name, loc);
  n.in[0] = x;
  n.n_in = 1;
  n.begin = begin;
  n.end = end;
  return emit(L, n, NULL, 0);
}

static int channels_of(const Lower *L, int value) {
  return L->g->values[value].c;
}

//
// Composite blocks
//

// GhostNet's ghost module: a primary conv makes ceil(out/ratio) intrinsic
// maps, a cheap depthwise conv makes (ratio-1) ghosts of each, and the
// concatenation is cut to `out` channels.
static int lower_ghost_module(Lower *L, SrcLoc loc, const char *name, int x,
                              int out, int ratio, int kernel, int dw,
                              int stride, bool relu) {
  int init = (out + ratio - 1) / ratio;
  int ghosts = init * (ratio - 1);
  const char *primary = join(L, name, "primary_conv");
  const char *cheap = join(L, name, "cheap_operation");
  int p = emit_conv(L, loc, join(L, primary, "0"), x, init, kernel, stride,
                    kernel / 2, 1, false);
  p = emit_batchnorm(L, loc, join(L, primary, "1"), p, 1e-5f);
  if (relu)
    p = emit_activation(L, loc, p, GH_ACT_RELU);
  int c = emit_conv(L, loc, join(L, cheap, "0"), p, ghosts, dw, 1, dw / 2,
                    init, false);
  c = emit_batchnorm(L, loc, join(L, cheap, "1"), c, 1e-5f);
  if (relu)
    c = emit_activation(L, loc, c, GH_ACT_RELU);
  Node cat = node_init(GH_OP_CONCAT, name, loc);
  cat.in[0] = p;
  cat.in[1] = c;
  cat.n_in = 2;
  int y = emit(L, cat, NULL, 0);
  if (init + ghosts > out)
    y = emit_slice(L, loc, name, y, 0, out);
  return y;
}

// Squeeze-and-excite: global pool, 1x1 reduce + ReLU, 1x1 expand, gate,
// scale. Reduced channels = make_divisible(C * ratio, divisor).
static int lower_squeeze_excite(Lower *L, SrcLoc loc, const char *name, int x,
                                double ratio, int divisor, Act gate) {
  int c = channels_of(L, x);
  int reduced = make_divisible(c * ratio, divisor);
  int s = emit_unary(L, GH_OP_GLOBAL_AVGPOOL, loc, name, x);
  s = emit_conv(L, loc, join(L, name, "conv_reduce"), s, reduced, 1, 1, 0, 1,
                true);
  s = emit_activation(L, loc, s, GH_ACT_RELU);
  s = emit_conv(L, loc, join(L, name, "conv_expand"), s, c, 1, 1, 0, 1, true);
  s = emit_activation(L, loc, s, gate);
  return emit_binary(L, GH_OP_MUL, loc, name, x, s);
}

// GhostNet's G-bneck: ghost module (expand, ReLU), a depthwise conv when
// strided, optional SE, ghost module (project, linear), plus a shortcut that
// is the identity or a depthwise + pointwise conv pair when the shape
// changes.
static int lower_ghost_bottleneck(Lower *L, SrcLoc loc, const char *name,
                                  int x, int kernel, int mid, int out,
                                  double se, int stride) {
  int in = channels_of(L, x);
  int pad = (kernel - 1) / 2;
  int h = lower_ghost_module(L, loc, join(L, name, "ghost1"), x, mid, 2, 1, 3,
                             1, true);
  if (stride > 1) {
    h = emit_conv(L, loc, join(L, name, "conv_dw"), h, mid, kernel, stride,
                  pad, mid, false);
    h = emit_batchnorm(L, loc, join(L, name, "bn_dw"), h, 1e-5f);
  }
  if (se > 0)
    h = lower_squeeze_excite(L, loc, join(L, name, "se"), h, se, 4,
                             GH_ACT_HARD_SIGMOID);
  h = lower_ghost_module(L, loc, join(L, name, "ghost2"), h, out, 2, 1, 3, 1,
                         false);
  int shortcut = x;
  if (in != out || stride != 1) {
    const char *sc = join(L, name, "shortcut");
    shortcut = emit_conv(L, loc, join(L, sc, "0"), x, in, kernel, stride, pad,
                         in, false);
    shortcut = emit_batchnorm(L, loc, join(L, sc, "1"), shortcut, 1e-5f);
    shortcut =
        emit_conv(L, loc, join(L, sc, "2"), shortcut, out, 1, 1, 0, 1, false);
    shortcut = emit_batchnorm(L, loc, join(L, sc, "3"), shortcut, 1e-5f);
  }
  return emit_binary(L, GH_OP_ADD, loc, name, h, shortcut);
}

//
// Layer types
//

typedef struct {
  const char *name;  // layer name from the spec, or NULL
  int in[GH_MAX_INPUTS];
  int n_in;          // 0 when the spec gives no `from`
} LayerIO;

static const char *need_name(const Fields *f, const LayerIO *io) {
  if (!io->name)
    gh_error_at(f->loc, "%s needs a name: its weights are found by name",
                f->type);
  return io->name;
}

static int single_input(const Lower *L, const Fields *f, const LayerIO *io) {
  if (io->n_in > 1)
    gh_error_at(f->loc, "%s takes one input, `from` names %d", f->type,
                io->n_in);
  return io->n_in ? io->in[0] : L->cur;
}

static Act act_by_name(const Lower *L, Field *x) {
  const char *text = spec_scalar(L->s, x->value, "act");
  for (int a = 0; a < GH_ACT_COUNT; a++)
    if (strcmp(act_names[a], text) == 0)
      return (Act)a;
  gh_error_at(x->loc, "unknown activation '%s' (none, relu, relu6, "
              "hard_sigmoid, hard_swish)", text);
}

// An optional `act:` field: a standalone activation after the layer.
static void lower_act_field(Lower *L, Fields *f) {
  Field *x = find_field(f, "act");
  if (x) {
    Act act = act_by_name(L, x);
    if (act != GH_ACT_NONE)
      emit_activation(L, f->loc, L->cur, act);
  }
}

static void lower_conv(Lower *L, Fields *f, const LayerIO *io) {
  int x = single_input(L, f, io);
  int kernel = positive_field(L, f, "kernel", -1);
  if (kernel < 0)
    require_field(f, "kernel");
  int groups = positive_field(L, f, "groups", 1);
  if (bool_field(L, f, "depthwise", false))
    groups = channels_of(L, x);
  bool scale = bool_field(L, f, "scale", true);
  int out = find_field(f, "out") || groups == 1
                ? channels_field(L, f, "out", scale)
                : channels_of(L, x);
  emit_conv(L, f->loc, need_name(f, io), x, out, kernel,
            positive_field(L, f, "stride", 1),
            nonnegative_field(L, f, "padding", 0), groups,
            bool_field(L, f, "bias", false));
  lower_act_field(L, f);
}

static void lower_linear(Lower *L, Fields *f, const LayerIO *io) {
  int x = single_input(L, f, io);
  Node n = node_init(GH_OP_LINEAR, need_name(f, io), f->loc);
  n.in[0] = x;
  n.n_in = 1;
  n.out_features = channels_field(L, f, "out", bool_field(L, f, "scale", true));
  emit(L, n, weight_bias, bool_field(L, f, "bias", true) ? 2 : 1);
  lower_act_field(L, f);
}

static void lower_batchnorm(Lower *L, Fields *f, const LayerIO *io) {
  double eps = number_field(L, f, "eps", 1e-5);
  if (!(eps > 0))
    gh_error_at(f->loc, "eps must be positive, got %g", eps);
  emit_batchnorm(L, f->loc, need_name(f, io), single_input(L, f, io),
                 (float)eps);
}

static void lower_activation_layer(Lower *L, Fields *f, const LayerIO *io) {
  Act act = GH_ACT_NONE;
  for (int a = 1; a < GH_ACT_COUNT; a++)
    if (strcmp(act_names[a], f->type) == 0)
      act = (Act)a;
  gh_assert(act != GH_ACT_NONE);
  emit_activation(L, f->loc, single_input(L, f, io), act);
}

static void lower_add_or_mul(Lower *L, Fields *f, const LayerIO *io) {
  if (io->n_in != 2)
    gh_error_at(f->loc, "%s needs `from` with two layer names", f->type);
  emit_binary(L, strcmp(f->type, "add") ? GH_OP_MUL : GH_OP_ADD, f->loc,
              io->name ? io->name : f->type, io->in[0], io->in[1]);
  lower_act_field(L, f);
}

static void lower_concat(Lower *L, Fields *f, const LayerIO *io) {
  if (io->n_in < 2)
    gh_error_at(f->loc, "concat needs `from` with at least two layer names");
  Node n = node_init(GH_OP_CONCAT, io->name ? io->name : "concat", f->loc);
  memcpy(n.in, io->in, sizeof n.in);
  n.n_in = io->n_in;
  emit(L, n, NULL, 0);
}

static void lower_slice(Lower *L, Fields *f, const LayerIO *io) {
  int x = single_input(L, f, io);
  int begin = nonnegative_field(L, f, "begin", 0);
  int end = int_field(L, f, "end", channels_of(L, x));
  emit_slice(L, f->loc, io->name ? io->name : "slice", x, begin, end);
}

static void lower_shuffle(Lower *L, Fields *f, const LayerIO *io) {
  Node n = node_init(GH_OP_SHUFFLE, io->name ? io->name : "channel_shuffle",
                     f->loc);
  n.in[0] = single_input(L, f, io);
  n.n_in = 1;
  n.groups = positive_field(L, f, "groups", -1);
  if (n.groups < 0)
    require_field(f, "groups");
  emit(L, n, NULL, 0);
}

static void lower_pool(Lower *L, Fields *f, const LayerIO *io) {
  bool avg = strcmp(f->type, "avgpool") == 0;
  Node n = node_init(avg ? GH_OP_AVGPOOL : GH_OP_MAXPOOL,
                     io->name ? io->name : f->type, f->loc);
  n.in[0] = single_input(L, f, io);
  n.n_in = 1;
  n.kh = n.kw = positive_field(L, f, "kernel", -1);
  if (n.kh < 0)
    require_field(f, "kernel");
  // PyTorch's default stride is the kernel size.
  n.stride_h = n.stride_w = positive_field(L, f, "stride", n.kh);
  n.pad_h = n.pad_w = nonnegative_field(L, f, "padding", 0);
  if (avg)
    n.count_include_pad = bool_field(L, f, "count_include_pad", true);
  emit(L, n, NULL, 0);
}

static void lower_simple(Lower *L, Fields *f, const LayerIO *io) {
  OpKind op = strcmp(f->type, "flatten") ? GH_OP_GLOBAL_AVGPOOL
                                         : GH_OP_FLATTEN;
  emit_unary(L, op, f->loc, io->name ? io->name : f->type,
             single_input(L, f, io));
}

static void lower_ghost_module_layer(Lower *L, Fields *f, const LayerIO *io) {
  int x = single_input(L, f, io);
  int out = channels_field(L, f, "out", true);
  int ratio = positive_field(L, f, "ratio", 2);
  if (ratio < 2)
    gh_error_at(find_field(f, "ratio")->loc,
                "ghost_module ratio must be at least 2, got %d", ratio);
  lower_ghost_module(L, f->loc, need_name(f, io), x, out, ratio,
                     positive_field(L, f, "kernel", 1),
                     positive_field(L, f, "dw", 3),
                     positive_field(L, f, "stride", 1),
                     bool_field(L, f, "relu", true));
}

static double se_ratio_field(const Lower *L, Fields *f, const char *key,
                             double def) {
  double ratio = number_field(L, f, key, def);
  if (ratio < 0 || ratio > 1)
    gh_error_at(find_field(f, key)->loc, "%s must be in [0, 1], got %g", key,
                ratio);
  return ratio;
}

static void lower_squeeze_excite_layer(Lower *L, Fields *f,
                                       const LayerIO *io) {
  int x = single_input(L, f, io);
  double ratio = se_ratio_field(L, f, "ratio", 0.25);
  int divisor = positive_field(L, f, "divisor", 4);
  Act gate = GH_ACT_HARD_SIGMOID;
  Field *g = find_field(f, "gate");
  if (g)
    gate = act_by_name(L, g);
  lower_squeeze_excite(L, f->loc, need_name(f, io), x, ratio, divisor, gate);
}

static void lower_ghost_bottleneck_layer(Lower *L, Fields *f,
                                         const LayerIO *io) {
  int x = single_input(L, f, io);
  int kernel = positive_field(L, f, "kernel", 3);
  int mid = channels_field(L, f, "exp", true);
  int out = channels_field(L, f, "out", true);
  double se = se_ratio_field(L, f, "se", 0);
  int stride = positive_field(L, f, "stride", 1);
  lower_ghost_bottleneck(L, f->loc, need_name(f, io), x, kernel, mid, out, se,
                         stride);
}

typedef void LowerFn(Lower *L, Fields *f, const LayerIO *io);

static const struct {
  const char *type;
  LowerFn *lower;
} layer_types[] = {
    {"conv", lower_conv},
    {"batchnorm", lower_batchnorm},
    {"relu", lower_activation_layer},
    {"relu6", lower_activation_layer},
    {"hard_sigmoid", lower_activation_layer},
    {"hard_swish", lower_activation_layer},
    {"add", lower_add_or_mul},
    {"mul", lower_add_or_mul},
    {"concat", lower_concat},
    {"slice", lower_slice},
    {"channel_shuffle", lower_shuffle},
    {"avgpool", lower_pool},
    {"maxpool", lower_pool},
    {"global_avgpool", lower_simple},
    {"flatten", lower_simple},
    {"linear", lower_linear},
    {"ghost_module", lower_ghost_module_layer},
    {"squeeze_excite", lower_squeeze_excite_layer},
    {"ghost_bottleneck", lower_ghost_bottleneck_layer},
};

static int find_ref(const Lower *L, yaml_node_t *ref) {
  const char *name = spec_scalar(L->s, ref, "a layer name");
  for (int i = L->n_refs - 1; i >= 0; i--)
    if (strcmp(L->refs[i].name, name) == 0)
      return L->refs[i].value;
  if (strcmp(name, "input") == 0)
    return L->g->input;
  gh_error_at(spec_loc(L->s, ref),
              "`from` names '%s', which is not an earlier layer", name);
}

static void read_io(Lower *L, Fields *f, LayerIO *io) {
  Field *name = find_field(f, "name");
  // Copied: the YAML document is freed after lowering, the graph is not.
  io->name = name ? arena_strdup(L->g->arena,
                                 spec_scalar(L->s, name->value, "name"))
                  : NULL;
  if (io->name && !io->name[0])
    gh_error_at(name->loc, "name must not be empty");
  Field *from = find_field(f, "from");
  if (!from)
    return;
  yaml_node_t *v = from->value;
  if (v->type == YAML_SEQUENCE_NODE) {
    long n = v->data.sequence.items.top - v->data.sequence.items.start;
    if (n < 1 || n > GH_MAX_INPUTS)
      gh_error_at(from->loc, "`from` takes 1 to %d layer names", GH_MAX_INPUTS);
    for (long i = 0; i < n; i++) {
      yaml_node_t *item =
          yaml_document_get_node(L->s->doc, v->data.sequence.items.start[i]);
      io->in[io->n_in++] = find_ref(L, item);
    }
  } else {
    io->in[io->n_in++] = find_ref(L, v);
  }
}

static void lower_fields(Lower *L, Fields *f) {
  LowerFn *fn = NULL;
  for (size_t i = 0; i < sizeof layer_types / sizeof *layer_types; i++)
    if (strcmp(layer_types[i].type, f->type) == 0)
      fn = layer_types[i].lower;
  if (!fn)
    gh_error_at(f->loc, "unknown layer type '%s'", f->type);
  // Node names may fall back to the type; the YAML document does not outlive
  // lowering.
  f->type = arena_strdup(L->g->arena, f->type);
  LayerIO io = {0};
  read_io(L, f, &io);
  fn(L, f, &io);
  check_fields_used(f);
  if (io.name) {
    if (L->n_refs == L->cap_refs) {
      int cap = L->cap_refs ? 2 * L->cap_refs : 64;
      Ref *refs = arena_array(L->g->arena, (size_t)cap, sizeof(Ref));
      if (L->n_refs)
        memcpy(refs, L->refs, (size_t)L->n_refs * sizeof(Ref));
      L->refs = refs;
      L->cap_refs = cap;
    }
    L->refs[L->n_refs++] = (Ref){io.name, L->cur};
  }
}

//
// Tables: one row per block, like the papers' architecture tables
//

// Expands "blocks.{stage}.{index}" for one row; {n} counts rows from
// `first`.
static const char *row_name(const Lower *L, const Field *tmpl, int stage,
                            int index, int n) {
  const char *t = spec_scalar(L->s, tmpl->value, "name");
  char buf[512];
  size_t len = 0;
  while (*t) {
    const char *word = NULL;
    int value = 0;
    if (!strncmp(t, "{stage}", 7)) {
      word = "{stage}";
      value = stage;
    } else if (!strncmp(t, "{index}", 7)) {
      word = "{index}";
      value = index;
    } else if (!strncmp(t, "{n}", 3)) {
      word = "{n}";
      value = n;
    } else if (*t == '{') {
      gh_error_at(tmpl->loc, "unknown placeholder in '%s' (use {stage}, "
                  "{index} or {n})", spec_scalar(L->s, tmpl->value, "name"));
    }
    int w = word ? snprintf(buf + len, sizeof buf - len, "%d", value)
                 : snprintf(buf + len, sizeof buf - len, "%c", *t);
    if (w < 0 || (size_t)w >= sizeof buf - len)
      gh_error_at(tmpl->loc, "name is too long");
    len += (size_t)w;
    t += word ? strlen(word) : 1;
  }
  return arena_strdup(L->g->arena, buf);
}

static long seq_len(const yaml_node_t *v) {
  return v->data.sequence.items.top - v->data.sequence.items.start;
}

static yaml_node_t *seq_item(const Lower *L, const yaml_node_t *v, long i) {
  return yaml_document_get_node(L->s->doc, v->data.sequence.items.start[i]);
}

static void expect_list(const Lower *L, const yaml_node_t *v,
                        const char *what) {
  if (v->type != YAML_SEQUENCE_NODE)
    gh_error_at(spec_loc(L->s, (yaml_node_t *)v), "%s must be a list", what);
}

static void lower_row(Lower *L, const Field *block, const Field *name,
                      const yaml_node_t *columns, yaml_node_t *row, int stage,
                      int index, int n) {
  expect_list(L, row, "a table row");
  if (seq_len(row) != seq_len(columns))
    gh_error_at(spec_loc(L->s, row), "row has %ld values, the table has %ld "
                "columns", seq_len(row), seq_len(columns));
  Fields f = {.type = spec_scalar(L->s, block->value, "block"),
              .loc = spec_loc(L->s, row)};
  for (long c = 0; c < seq_len(columns); c++)
    add_field(L->s, &f, seq_item(L, columns, c), seq_item(L, row, c));
  yaml_node_t *name_node = NULL;
  if (name) {
    // The expanded name goes in as a synthetic field located at the row.
    name_node = arena_alloc(L->g->arena, sizeof *name_node);
    *name_node = *name->value;
    name_node->start_mark = row->start_mark;
    name_node->data.scalar.value =
        (yaml_char_t *)row_name(L, name, stage, index, n);
    yaml_node_t *key = arena_alloc(L->g->arena, sizeof *key);
    *key = *name_node;
    key->data.scalar.value = (yaml_char_t *)"name";
    add_field(L->s, &f, key, name_node);
  }
  lower_fields(L, &f);
}

static void lower_table(Lower *L, Fields *t) {
  Field *block = require_field(t, "block");
  Field *name = find_field(t, "name");
  Field *columns = require_field(t, "columns");
  expect_list(L, columns->value, "columns");
  int n = nonnegative_field(L, t, "first", 0);
  if (n > MAX_TABLE_ROWS)
    gh_error_at(find_field(t, "first")->loc, "first must be at most %d",
                MAX_TABLE_ROWS);
  Field *stages = find_field(t, "stages");
  Field *rows = find_field(t, "rows");
  if (!stages == !rows)
    gh_error_at(t->loc, "a table needs either `stages` (a list of lists of "
                "rows) or `rows`");
  check_fields_used(t);
  // A flat `rows` list is one stage.
  yaml_node_t *list = rows ? rows->value : stages->value;
  expect_list(L, list, rows ? "rows" : "stages");
  long n_stages = rows ? 1 : seq_len(list), total = 0;
  for (long s = 0; s < n_stages; s++) {
    yaml_node_t *stage = rows ? list : seq_item(L, list, s);
    expect_list(L, stage, "a stage");
    total += seq_len(stage);
    if (total > MAX_TABLE_ROWS)
      gh_error_at(t->loc, "a table holds at most %d rows", MAX_TABLE_ROWS);
    for (long i = 0; i < seq_len(stage); i++)
      lower_row(L, block, name, columns->value, seq_item(L, stage, i), (int)s,
                (int)i, n++);
  }
}

// A layer item is `type` or `type: {fields}`.
static void lower_item(Lower *L, yaml_node_t *item) {
  const Spec *s = L->s;
  Fields f = {.loc = spec_loc(s, item)};
  yaml_node_t *fields = NULL;
  if (item->type == YAML_SCALAR_NODE) {
    f.type = spec_scalar(s, item, "a layer");
  } else if (item->type == YAML_MAPPING_NODE &&
             item->data.mapping.pairs.top - item->data.mapping.pairs.start ==
                 1) {
    yaml_node_pair_t *p = item->data.mapping.pairs.start;
    f.type = spec_scalar(s, yaml_document_get_node(s->doc, p->key),
                         "a layer type");
    fields = yaml_document_get_node(s->doc, p->value);
  } else {
    gh_error_at(f.loc, "a layer is `type` or `type: {fields}`, e.g. "
                "`conv: {name: conv1, out: 16, kernel: 3}`");
  }
  if (fields && !(fields->type == YAML_SCALAR_NODE &&
                  fields->data.scalar.length == 0)) {
    if (fields->type != YAML_MAPPING_NODE)
      gh_error_at(spec_loc(s, fields), "the fields of %s must be a mapping",
                  f.type);
    for (yaml_node_pair_t *p = fields->data.mapping.pairs.start;
         p < fields->data.mapping.pairs.top; p++)
      add_field(s, &f, yaml_document_get_node(s->doc, p->key),
                yaml_document_get_node(s->doc, p->value));
  }
  if (strcmp(f.type, "table") == 0)
    lower_table(L, &f);
  else
    lower_fields(L, &f);
}

void lower_layers(const Spec *s, Graph *g) {
  Lower L = {.s = s, .g = g, .cur = g->input};
  long n = seq_len(s->layers);
  if (n == 0)
    gh_error_at(spec_loc(s, s->layers), "the network has no layers");
  for (long i = 0; i < n; i++)
    lower_item(&L, seq_item(&L, s->layers, i));
  // The last layer is the output; any other result nobody reads is a
  // mistake in the spec (usually a wrong `from`).
  bool *read = arena_array(g->arena, (size_t)g->n_values, sizeof(bool));
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_in; k++)
      read[g->nodes[i].in[k]] = true;
  for (int v = 0; v < g->n_values; v++)
    if (!read[v] && v != g->output) {
      const Node *p = &g->nodes[g->values[v].producer];
      gh_error_at(p->loc, "the output of %s '%s' is never used",
                  op_names[p->op], p->name);
    }
}
