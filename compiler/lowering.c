// Lowering: the spec's layers, primitive and composite, to IR ops. A
// composite block (ghost_module, squeeze_excite, ghost_bottleneck) expands
// into the same primitive ops, with the same parameter names, as the module
// PyTorch users train; nothing about a particular network lives here.
#include "lower.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum { MAX_TABLE_ROWS = 4096 };
// All parameters together, in elements (f32: 512 MiB): the weights are
// generated as one C string literal.
#define MAX_MODEL_PARAMS ((size_t)1 << 27)

//
// Fields of one layer
//

Field *find_field(Fields *f, const char *key) {
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->items[i].key, key) == 0) {
      f->items[i].used = true;
      return &f->items[i];
    }
  return NULL;
}

Field *require_field(Fields *f, const char *key) {
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

int int_field(const Lower *L, Fields *f, const char *key, int def) {
  Field *x = find_field(f, key);
  return x ? spec_int(L->s, x->value, key) : def;
}

int positive_field(const Lower *L, Fields *f, const char *key,
                          int def) {
  Field *x = find_field(f, key);
  if (!x)
    return def;
  int v = spec_int(L->s, x->value, key);
  if (v < 1)
    gh_error_at(x->loc, "%s must be positive, got %d", key, v);
  return v;
}

int nonnegative_field(const Lower *L, Fields *f, const char *key,
                             int def) {
  Field *x = find_field(f, key);
  if (!x)
    return def;
  int v = spec_int(L->s, x->value, key);
  if (v < 0)
    gh_error_at(x->loc, "%s must not be negative, got %d", key, v);
  return v;
}

double number_field(const Lower *L, Fields *f, const char *key,
                           double def) {
  Field *x = find_field(f, key);
  return x ? spec_number(L->s, x->value, key) : def;
}

bool bool_field(const Lower *L, Fields *f, const char *key, bool def) {
  Field *x = find_field(f, key);
  return x ? spec_bool(L->s, x->value, key) : def;
}

// A channel count: a literal is given at width 1.0 and scaled by the spec's
// width; a parameter name (num_classes) or `scale: false` keeps it as is.
int channels_field(const Lower *L, Fields *f, const char *key,
                          bool scale) {
  Field *x = require_field(f, key);
  yaml_node_t *value = spec_select(L->s, x->value);
  const char *text = spec_scalar(L->s, value, key);
  double v = spec_number(L->s, value, key);
  if (v != floor(v) || v < 1)
    gh_error_at(x->loc, "%s must be a positive integer, got %g", key, v);
  if (!scale || spec_param(L->s, text))
    return spec_int(L->s, value, key);
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

const char *join(const Lower *L, const char *prefix,
                        const char *suffix) {
  return arena_printf(L->g->arena, "%s.%s", prefix, suffix);
}

static const char *const weight_bias[] = {"weight", "bias"};
static const char *const bn_stats[] = {"weight", "bias", "running_mean",
                                       "running_var"};

// Adds the node, then its parameters NAME.<suffix> for the first n_params
// slots that are wanted (bias only when has_bias).
int emit(Lower *L, Node n, const char *const *suffixes, int n_params) {
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

int emit_conv(Lower *L, SrcLoc loc, const char *name, int x, int out,
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

int emit_batchnorm(Lower *L, SrcLoc loc, const char *name, int x,
                          float eps) {
  Node n = node_init(GH_OP_BATCHNORM, name, loc);
  n.in[0] = x;
  n.n_in = 1;
  n.eps = eps;
  return emit(L, n, bn_stats, 4);
}

int emit_unary(Lower *L, OpKind op, SrcLoc loc, const char *name,
                      int x) {
  Node n = node_init(op, name, loc);
  n.in[0] = x;
  n.n_in = 1;
  return emit(L, n, NULL, 0);
}

int emit_activation(Lower *L, SrcLoc loc, int x, Act act) {
  Node n = node_init(GH_OP_ACTIVATION, act_names[act], loc);
  n.in[0] = x;
  n.n_in = 1;
  n.act = act;
  return emit(L, n, NULL, 0);
}

int emit_binary(Lower *L, OpKind op, SrcLoc loc, const char *name,
                       int a, int b) {
  Node n = node_init(op, name, loc);
  n.in[0] = a;
  n.in[1] = b;
  n.n_in = 2;
  return emit(L, n, NULL, 0);
}

int emit_slice(Lower *L, SrcLoc loc, const char *name, int x,
                      int begin, int end) {
  Node n = node_init(GH_OP_SLICE, name, loc);
  n.in[0] = x;
  n.n_in = 1;
  n.begin = begin;
  n.end = end;
  return emit(L, n, NULL, 0);
}

int channels_of(const Lower *L, int value) {
  return L->g->values[value].c;
}

//
// Layer types
//

const char *need_name(const Fields *f, const LayerIO *io) {
  if (!io->name)
    gh_error_at(f->loc, "%s needs a name: its weights are found by name",
                f->type);
  return io->name;
}

int single_input(const Lower *L, const Fields *f, const LayerIO *io) {
  if (io->n_in > 1)
    gh_error_at(f->loc, "%s takes one input, `from` names %d", f->type,
                io->n_in);
  return io->n_in ? io->in[0] : L->cur;
}

Act act_by_name(const Lower *L, Field *x) {
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
  emit_ordinary_conv(L, f->loc, need_name(f, io), x, out, kernel,
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
    {"shufflenet_v1_unit", lower_shufflenet_v1_unit_layer},
    {"conv_norm_act", lower_conv_norm_act_layer},
    {"inverted_residual", lower_inverted_residual_layer},
    {"mobilenet_v3_block", lower_mobilenet_v3_block_layer},
    {"shufflenet_v2_unit", lower_shufflenet_v2_unit_layer},
    {"basic_block", lower_basic_block_layer},
};

static yaml_node_t *expand_name(const Lower *L, yaml_node_t *node);
static yaml_node_t *bind_column(const Lower *L, yaml_node_t *node);

static int find_ref(const Lower *L, yaml_node_t *ref) {
  const char *name = spec_scalar(L->s, ref, "a layer name");
  for (int i = L->n_refs - 1; i >= 0; i--)
    if (strcmp(L->refs[i].name, name) == 0) {
      spec_charge(L->s, L->n_refs - i, spec_loc(L->s, ref));
      return L->refs[i].value;
    }
  spec_charge(L->s, L->n_refs, spec_loc(L->s, ref));
  if (strcmp(name, "input") == 0)
    return L->g->input;
  gh_error_at(spec_loc(L->s, ref),
              "`from` names '%s', which is not an earlier layer", name);
}

static void read_io(Lower *L, Fields *f, LayerIO *io) {
  Field *name = find_field(f, "name");
  if (name && strlen(spec_scalar(L->s, name->value, "name")) > SPEC_MAX_NAME)
    gh_error_at(name->loc, "name is longer than %d characters",
                SPEC_MAX_NAME);
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
      io->in[io->n_in++] = find_ref(L, expand_name(L, bind_column(L, item)));
    }
  } else {
    io->in[io->n_in++] = find_ref(L, expand_name(L, bind_column(L, v)));
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

// A placeholder's value: sums and products of integers and the row counters
// stage, index and n, e.g. {6*n+3}. Returns false on a syntax error.
static bool eval_sum(const char **p, const Row *row, long *out);

static bool eval_factor(const char **p, const Row *row, long *out) {
  static const struct {
    const char *name;
    size_t offset;
  } counters[] = {{"stage", offsetof(Row, stage)},
                  {"index", offsetof(Row, index)},
                  {"n", offsetof(Row, n)}};
  if (**p >= '0' && **p <= '9') {
    long v = 0;
    while (**p >= '0' && **p <= '9' && v < 1000000)
      v = v * 10 + (*(*p)++ - '0');
    *out = v;
    return true;
  }
  for (size_t i = 0; i < sizeof counters / sizeof *counters; i++) {
    size_t len = strlen(counters[i].name);
    if (!strncmp(*p, counters[i].name, len)) {
      *p += len;
      *out = *(const int *)((const char *)row + counters[i].offset);
      return true;
    }
  }
  return false;
}

static bool eval_product(const char **p, const Row *row, long *out) {
  if (!eval_factor(p, row, out))
    return false;
  while (**p == '*') {
    long v;
    (*p)++;
    if (!eval_factor(p, row, &v))
      return false;
    *out *= v;
  }
  return true;
}

static bool eval_sum(const char **p, const Row *row, long *out) {
  if (!eval_product(p, row, out))
    return false;
  while (**p == '+' || **p == '-') {
    char op = *(*p)++;
    long v;
    if (!eval_product(p, row, &v))
      return false;
    *out = op == '+' ? *out + v : *out - v;
  }
  return true;
}

// A scalar with its placeholders expanded for the current row, e.g.
// "features.{6*n+3}"; the node itself when there is nothing to expand.
static yaml_node_t *expand_name(const Lower *L, yaml_node_t *node) {
  if (!L->row || node->type != YAML_SCALAR_NODE ||
      !strchr((const char *)node->data.scalar.value, '{'))
    return node;
  const char *t = (const char *)node->data.scalar.value;
  char buf[512];
  size_t len = 0;
  while (*t) {
    int w;
    if (*t == '{') {
      const char *p = t + 1;
      long v;
      if (!eval_sum(&p, L->row, &v) || *p != '}')
        gh_error_at(spec_loc(L->s, node), "bad placeholder in '%s': use "
                    "{stage}, {index}, {n} or sums and products of them and "
                    "integers, e.g. {6*n+3}",
                    (const char *)node->data.scalar.value);
      w = snprintf(buf + len, sizeof buf - len, "%ld", v);
      t = p + 1;
    } else {
      w = snprintf(buf + len, sizeof buf - len, "%c", *t++);
    }
    if (w < 0 || (size_t)w >= sizeof buf - len)
      gh_error_at(spec_loc(L->s, node), "name is too long");
    len += (size_t)w;
  }
  yaml_node_t *expanded = arena_alloc(L->g->arena, sizeof *expanded);
  *expanded = *node;
  expanded->data.scalar.value = (yaml_char_t *)arena_strdup(L->g->arena, buf);
  expanded->data.scalar.length = len;
  return expanded;
}

// In a table's layer template, "$column" stands for the row's value.
static yaml_node_t *bind_column(const Lower *L, yaml_node_t *node) {
  if (!L->row || node->type != YAML_SCALAR_NODE ||
      node->data.scalar.value[0] != '$')
    return node;
  const char *want = (const char *)node->data.scalar.value + 1;
  spec_charge(L->s, seq_len(L->row->columns), spec_loc(L->s, node));
  for (long c = 0; c < seq_len(L->row->columns); c++) {
    yaml_node_t *col = seq_item(L, L->row->columns, c);
    if (!strcmp(spec_scalar(L->s, col, "a column name"), want))
      return seq_item(L, L->row->cells, c);
  }
  gh_error_at(spec_loc(L->s, node), "the table has no column '%s'", want);
}

static void lower_item(Lower *L, yaml_node_t *item);

// One row: its cells as the fields of a `block`, or bound into the table's
// `layers` template.
static void lower_row(Lower *L, const Field *block, const Field *name,
                      const Field *with, const Field *layers, Row *row) {
  const Spec *s = L->s;
  Fields f = {.loc = spec_loc(s, row->cells)};
  spec_charge(s, 1, f.loc);
  L->row = row;
  if (layers) {
    for (long i = 0; i < seq_len(layers->value); i++)
      lower_item(L, seq_item(L, layers->value, i));
  } else {
    f.type = spec_scalar(s, block->value, "block");
    for (long c = 0; c < seq_len(row->columns); c++) {
      yaml_node_t *col = seq_item(L, row->columns, c);
      if (strcmp(spec_scalar(s, col, "a column name"), "repeat") != 0)
        add_field(s, &f, col, seq_item(L, row->cells, c));
    }
    for (yaml_node_pair_t *p = with ? with->value->data.mapping.pairs.start
                                    : NULL;
         with && p < with->value->data.mapping.pairs.top; p++)
      add_field(s, &f, yaml_document_get_node(s->doc, p->key),
                yaml_document_get_node(s->doc, p->value));
    if (name) {
      // The expanded name goes in as a synthetic field located at the row.
      yaml_node_t *value = expand_name(L, name->value);
      yaml_node_t *key = arena_alloc(L->g->arena, sizeof *key);
      *key = *value;
      key->data.scalar.value = (yaml_char_t *)"name";
      key->data.scalar.length = 4;
      add_field(s, &f, key, value);
      f.items[f.n - 1].loc = f.items[f.n - 1].key_loc = f.loc;
    }
    lower_fields(L, &f);
  }
  L->row = NULL;
}

// How many times a row stands for itself: its `repeat` column, or 1.
static int row_repeat(const Lower *L, const yaml_node_t *columns,
                      yaml_node_t *cells) {
  spec_charge(L->s, seq_len(columns), spec_loc(L->s, cells));
  for (long c = 0; c < seq_len(columns); c++)
    if (!strcmp(spec_scalar(L->s, seq_item(L, columns, c), "a column name"),
                "repeat")) {
      yaml_node_t *v = seq_item(L, cells, c);
      int times = spec_int(L->s, v, "repeat");
      if (times < 1 || times > MAX_TABLE_ROWS)
        gh_error_at(spec_loc(L->s, v), "repeat must be in [1, %d], got %d",
                    MAX_TABLE_ROWS, times);
      return times;
    }
  return 1;
}

static void lower_table(Lower *L, Fields *t) {
  if (L->row)
    gh_error_at(t->loc, "a table cannot be nested in a table");
  Field *block = find_field(t, "block");
  Field *layers = find_field(t, "layers");
  if (!block == !layers)
    gh_error_at(t->loc, "a table needs either `block` (a layer type its rows "
                "fill in) or `layers` (a template using $column values)");
  if (layers)
    expect_list(L, layers->value, "layers");
  Field *name = find_field(t, "name");
  if (name && layers)
    gh_error_at(name->loc, "with `layers`, name each layer in the template");
  Field *with = find_field(t, "with");
  if (with && (layers || with->value->type != YAML_MAPPING_NODE))
    gh_error_at(with->loc, "`with` gives every row of a `block` table the "
                "same fields: a mapping like {groups: 3}");
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
    int index = 0;
    for (long i = 0; i < seq_len(stage); i++) {
      yaml_node_t *cells = seq_item(L, stage, i);
      expect_list(L, cells, "a table row");
      if (seq_len(cells) != seq_len(columns->value))
        gh_error_at(spec_loc(L->s, cells), "row has %ld values, the table "
                    "has %ld columns", seq_len(cells),
                    seq_len(columns->value));
      int times = row_repeat(L, columns->value, cells);
      total += times;
      if (total > MAX_TABLE_ROWS)
        gh_error_at(t->loc, "a table holds at most %d rows", MAX_TABLE_ROWS);
      for (int r = 0; r < times; r++) {
        Row row = {columns->value, cells, (int)s, index++, n++};
        lower_row(L, block, name, with, layers, &row);
      }
    }
  }
}

// A layer item is `type` or `type: {fields}`.
static void lower_item(Lower *L, yaml_node_t *item) {
  const Spec *s = L->s;
  Fields f = {.loc = spec_loc(s, item)};
  yaml_node_t *fields = NULL;
  spec_charge(s, 1, f.loc);
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
    spec_charge(s, fields->data.mapping.pairs.top -
                       fields->data.mapping.pairs.start, f.loc);
    for (yaml_node_pair_t *p = fields->data.mapping.pairs.start;
         p < fields->data.mapping.pairs.top; p++)
      add_field(s, &f, yaml_document_get_node(s->doc, p->key),
                expand_name(L, bind_column(L, yaml_document_get_node(
                                                  s->doc, p->value))));
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
  size_t total = 0;
  for (int i = 0; i < g->n_params; i++)
    total += g->params[i].count;  // each at most MAX_MODEL_PARAMS
  if (total > MAX_MODEL_PARAMS)
    gh_error_at(spec_loc(s, s->layers), "the network has %zu parameters, "
                "over the limit of %zu", total, MAX_MODEL_PARAMS);
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
