// The spec reader and lowering: specs written inline, checked node by node
// against what the spec says (and, for the composite blocks, against the
// modules PyTorch users train); errors checked for their exact location.
#include "compiler/spec.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static Arena arena;
static void teardown(void) { arena_free(&arena); }

TestSuite(make_divisible);
TestSuite(spec, .fini = teardown);
TestSuite(spec_errors, .fini = teardown);
TestSuite(ghostnet, .fini = teardown);
TestSuite(shape, .fini = teardown);

// Three header lines, so the first layer is on line 4.
#define HEADER(input) "name: t\ninput: " input "\nlayers:\n"

enum { ERROR_SIZE = sizeof(((DiagTrap *)0)->message) };

// Runs spec_parse on yaml (as file "t.yaml"); returns the graph, or NULL
// with the diagnostic in `error`.
static Graph *try_parse(const char *yaml, const char **overrides,
                        int n_overrides, char error[ERROR_SIZE]) {
  SpecOptions opt = {.spec_path = "t.yaml", .overrides = overrides,
                     .n_overrides = n_overrides};
  DiagTrap trap;
  if (diag_try(&trap, setjmp(trap.jump))) {
    Graph *g = spec_parse(&arena, &opt, (const unsigned char *)yaml,
                          strlen(yaml));
    diag_end(&trap);
    return g;
  }
  snprintf(error, ERROR_SIZE, "%s", trap.message);
  return NULL;
}

static Graph *parse_set(const char *yaml, const char **overrides,
                        int n_overrides) {
  char error[ERROR_SIZE];
  Graph *g = try_parse(yaml, overrides, n_overrides, error);
  cr_assert(g, "the spec should parse, got: %s\n--- spec:\n%s", error, yaml);
  return g;
}

static Graph *parse(const char *yaml) { return parse_set(yaml, NULL, 0); }

// Expects the spec to fail with a message that starts with `prefix` (the
// exact location) and contains every one of `words` (NULL-terminated).
static void expect_error_set(const char *yaml, const char **overrides,
                             int n_overrides, const char *prefix,
                             const char *const *words) {
  char error[ERROR_SIZE];
  Graph *g = try_parse(yaml, overrides, n_overrides, error);
  cr_assert(!g, "the spec should be rejected (want '%s...')\n--- spec:\n%s",
            prefix, yaml);
  cr_assert(strncmp(error, prefix, strlen(prefix)) == 0,
            "message '%s' should start with '%s'", error, prefix);
  for (int i = 0; words[i]; i++)
    cr_assert(strstr(error, words[i]), "message '%s' should mention '%s'",
              error, words[i]);
}

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define EXPECT_ERROR(yaml, prefix, ...) \
  expect_error_set(yaml, NULL, 0, prefix, WORDS(__VA_ARGS__))
// The same with one --set NAME=VALUE.
#define EXPECT_SET_ERROR(yaml, set, prefix, ...) \
  expect_error_set(yaml, (const char *[]){set}, 1, prefix, WORDS(__VA_ARGS__))

// Parses with the given --set overrides.
#define PARSE_SET(yaml, ...)                       \
  parse_set(yaml, (const char *[]){__VA_ARGS__}, \
            (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)))

// The first node with this op and name.
static const Node *node_named(const Graph *g, OpKind op, const char *name) {
  const Node *found = NULL;
  for (int i = 0; i < g->n_nodes && !found; i++)
    if (g->nodes[i].op == op && strcmp(g->nodes[i].name, name) == 0)
      found = &g->nodes[i];
  cr_assert(found, "no %s node named '%s'", op_names[op], name);
  return found;
}

static const Value *output_of(const Graph *g, const Node *n) {
  return &g->values[n->out];
}

static const Node *producer_of(const Graph *g, int value) {
  return &g->nodes[g->values[value].producer];
}

static void expect_shape(const Value *v, int c, int h, int w,
                         const char *what) {
  cr_assert(v->c == c && v->h == h && v->w == w,
            "%s: shape %dx%dx%d, want %dx%dx%d", what, v->c, v->h, v->w, c,
            h, w);
}

static const Param *param_named(const Graph *g, const char *key) {
  for (int i = 0; i < g->n_params; i++)
    if (strcmp(g->params[i].key, key) == 0)
      return &g->params[i];
  return NULL;
}

static void expect_param(const Graph *g, const char *key, const int *dims,
                         int ndim) {
  const Param *p = param_named(g, key);
  cr_assert(p, "the graph should have parameter '%s'", key);
  cr_assert(p->ndim == ndim, "%s: %d dims, want %d", key, p->ndim, ndim);
  for (int d = 0; d < ndim; d++)
    cr_assert(p->dims[d] == dims[d], "%s: dim %d is %d, want %d", key, d,
              p->dims[d], dims[d]);
}

#define EXPECT_PARAM(g, key, ...) \
  expect_param(g, key, (const int[]){__VA_ARGS__}, \
               (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)))

static void expect_no_param(const Graph *g, const char *key) {
  cr_assert(!param_named(g, key), "the graph should not have '%s'", key);
}

// The four BatchNorm tensors of a layer, each of C elements.
static void expect_batchnorm_params(const Graph *g, const char *name, int c) {
  static const char *const suffixes[] = {"weight", "bias", "running_mean",
                                         "running_var"};
  for (int i = 0; i < 4; i++) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", name, suffixes[i]);
    EXPECT_PARAM(g, key, c);
  }
}

// The ops of nodes first, first+1, ... are exactly ops[0..n).
static void expect_ops(const Graph *g, int first, const OpKind *ops, int n) {
  cr_assert(first + n <= g->n_nodes, "%d nodes, want at least %d",
            g->n_nodes, first + n);
  for (int i = 0; i < n; i++)
    cr_assert(g->nodes[first + i].op == ops[i],
              "node %d ('%s') is %s, want %s", first + i,
              g->nodes[first + i].name, op_names[g->nodes[first + i].op],
              op_names[ops[i]]);
}

#define EXPECT_OPS(g, first, ...) \
  expect_ops(g, first, (const OpKind[]){__VA_ARGS__}, \
             (int)(sizeof((OpKind[]){__VA_ARGS__}) / sizeof(OpKind)))

static const Node *last_node(const Graph *g) {
  return &g->nodes[g->n_nodes - 1];
}

//
// make_divisible against PyTorch's _make_divisible
//

// torchvision / timm / GhostNet, transcribed:
//   new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
//   if new_v < 0.9 * v: new_v += divisor
static int torch_make_divisible(double v, int divisor) {
  long new_v = (long)(v + divisor / 2.0) / divisor * divisor;
  if (new_v < divisor)
    new_v = divisor;
  if (new_v < 0.9 * v)
    new_v += divisor;
  return (int)new_v;
}

Test(make_divisible, matches_values_computed_by_python) {
  // Expected values printed by Python running _make_divisible itself.
  static const struct {
    double v;
    int divisor, want;
  } cases[] = {
      {16 * 0.5, 4, 8},   {16 * 1.3, 4, 20},  {72 * 0.5, 4, 36},
      {72 * 1.3, 4, 92},  {960 * 1.3, 4, 1248}, {1280 * 0.75, 8, 960},
      {72 * 0.25, 4, 20}, {40 * 0.25, 4, 12}, {480 * 0.25, 4, 120},
      {120 * 0.25, 4, 32}, {12.5, 1, 13},     {37.5, 5, 40},
      {45, 8, 48},        {22, 8, 24},        {27, 16, 32},
      // Below the divisor: the divisor.
      {3, 4, 4},          {0.5, 4, 4},        {1, 8, 8},
      // Rounding down would lose more than 10%: one divisor more.
      {16 * 0.35, 4, 8},  {10, 8, 16},        {11, 8, 16},
      {2.5, 2, 4},        {6, 4, 8},          {14, 4, 16},
      {18, 4, 20},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    cr_expect(make_divisible(cases[i].v, cases[i].divisor) == cases[i].want,
              "make_divisible(%.17g, %d) = %d, want %d", cases[i].v,
              cases[i].divisor, make_divisible(cases[i].v, cases[i].divisor),
              cases[i].want);
}

Test(make_divisible, matches_pytorch_on_a_grid_of_widths) {
  static const double widths[] = {0.1, 0.25, 0.3,  0.35, 0.5, 0.75,
                                  0.9, 1.0,  1.1, 1.25, 1.3, 1.5, 2.0};
  static const int divisors[] = {1, 2, 3, 4, 5, 8, 16};
  for (int c = 1; c <= 1280; c++)
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++)
      for (size_t d = 0; d < sizeof divisors / sizeof *divisors; d++) {
        double v = c * widths[w];
        int got = make_divisible(v, divisors[d]);
        int want = torch_make_divisible(v, divisors[d]);
        cr_assert(got == want, "make_divisible(%d * %g = %.17g, %d) = %d, "
                  "want %d", c, widths[w], v, divisors[d], got, want);
      }
}

//
// Primitive layers
//

Test(spec, conv_attributes_parameters_and_location) {
  Graph *g = parse(HEADER("[4, 32, 32]")
                   "  - conv: {name: c1, out: 8, kernel: 3, stride: 2, "
                   "padding: 1, groups: 2, bias: true}\n"
                   "  - conv: {name: c2, out: 6, kernel: 1, act: relu6}\n");
  cr_assert(g->n_nodes == 4, "input, c1, c2 and its relu6: got %d nodes",
            g->n_nodes);
  expect_shape(&g->values[g->input], 4, 32, 32, "input");

  const Node *c1 = node_named(g, GH_OP_CONV2D, "c1");
  cr_expect(c1->kh == 3 && c1->kw == 3, "kernel %dx%d", c1->kh, c1->kw);
  cr_expect(c1->stride_h == 2 && c1->stride_w == 2, "stride %dx%d",
            c1->stride_h, c1->stride_w);
  cr_expect(c1->pad_h == 1 && c1->pad_w == 1, "padding %dx%d", c1->pad_h,
            c1->pad_w);
  cr_expect(c1->groups == 2, "groups %d", c1->groups);
  cr_expect(c1->out_features == 8, "out %d", c1->out_features);
  cr_expect(c1->act == GH_ACT_NONE, "no fused activation at lowering");
  cr_expect(c1->in[0] == g->input, "c1 reads the input");
  cr_expect(c1->loc.line == 4 && c1->loc.col == 5 &&
                strcmp(c1->loc.file, "t.yaml") == 0,
            "c1 comes from t.yaml:4:5, got %s:%d:%d", c1->loc.file,
            c1->loc.line, c1->loc.col);
  // (32 + 2*1 - 3) / 2 + 1 = 16.
  expect_shape(output_of(g, c1), 8, 16, 16, "c1");
  EXPECT_PARAM(g, "c1.weight", 8, 2, 3, 3);
  EXPECT_PARAM(g, "c1.bias", 8);
  cr_expect(strcmp(g->params[c1->params[0]].key, "c1.weight") == 0 &&
                strcmp(g->params[c1->params[1]].key, "c1.bias") == 0,
            "c1's parameter slots point at its weight and bias");

  const Node *c2 = node_named(g, GH_OP_CONV2D, "c2");
  cr_expect(c2->in[0] == c1->out, "c2 reads c1 by default");
  expect_shape(output_of(g, c2), 6, 16, 16, "c2");
  EXPECT_PARAM(g, "c2.weight", 6, 8, 1, 1);
  cr_expect(c2->params[1] == -1, "bias is off by default");
  expect_no_param(g, "c2.bias");
  const Node *act = last_node(g);
  cr_expect(act->op == GH_OP_ACTIVATION && act->act == GH_ACT_RELU6 &&
                act->in[0] == c2->out,
            "`act: relu6` adds a relu6 after c2");
  cr_expect(g->output == act->out, "the last layer is the output");
  cr_expect(g->n_params == 3, "c1.weight, c1.bias, c2.weight: got %d",
            g->n_params);
}

Test(spec, depthwise_conv_follows_the_input_channels) {
  // Width does not touch a depthwise conv: its channels are its input's.
  Graph *g = parse("name: t\ninput: [12, 9, 9]\nwidth: 0.5\nlayers:\n"
                   "  - conv: {name: dw, kernel: 3, stride: 2, padding: 1, "
                   "depthwise: true}\n");
  const Node *dw = node_named(g, GH_OP_CONV2D, "dw");
  cr_expect(dw->groups == 12 && dw->out_features == 12,
            "depthwise: groups %d, out %d, want 12 and 12", dw->groups,
            dw->out_features);
  // (9 + 2 - 3) / 2 + 1 = 5.
  expect_shape(output_of(g, dw), 12, 5, 5, "dw");
  EXPECT_PARAM(g, "dw.weight", 12, 1, 3, 3);
  expect_no_param(g, "dw.bias");
}

// Channels of the convs a and b in the spec below at a given width.
static void expect_widths(const char *width, int a, int b) {
  static const char yaml[] =
      "name: t\ninput: [3, 8, 8]\n"
      "channel_rounding: {mode: make_divisible, divisor: 4}\n"
      "layers:\n"
      "  - conv: {name: a, out: 16, kernel: 1}\n"
      "  - conv: {name: b, out: 72, kernel: 1}\n";
  char set[64];
  snprintf(set, sizeof set, "width=%s", width);
  Graph *g = PARSE_SET(yaml, set);
  const Node *na = node_named(g, GH_OP_CONV2D, "a");
  const Node *nb = node_named(g, GH_OP_CONV2D, "b");
  cr_expect(output_of(g, na)->c == a && output_of(g, nb)->c == b,
            "width %s: channels %d and %d, want %d and %d", width,
            output_of(g, na)->c, output_of(g, nb)->c, a, b);
  EXPECT_PARAM(g, "b.weight", b, a, 1, 1);
}

Test(spec, width_scales_channels_with_make_divisible) {
  expect_widths("1.0", 16, 72);
  expect_widths("0.5", 8, 36);
  expect_widths("1.3", 20, 92);    // 20.8 -> 20, 93.6 -> 92
  expect_widths("0.35", 8, 24);    // 5.6 would round to 4: the 0.9 rule
  expect_widths("0.1", 4, 8);      // never below the divisor
}

Test(spec, floor_rounding_is_int_of_channels_times_width) {
  // No channel_rounding: int(c * w), and 100 * 0.29 is 28.999999999999996.
  static const char yaml[] = HEADER("[3, 8, 8]")
      "  - conv: {name: a, out: 100, kernel: 1}\n"
      "  - conv: {name: b, out: 15, kernel: 1}\n";
  Graph *g = PARSE_SET(yaml, "width=0.29");
  cr_expect(output_of(g, node_named(g, GH_OP_CONV2D, "a"))->c == 28,
            "int(100 * 0.29) is 28");
  cr_expect(output_of(g, node_named(g, GH_OP_CONV2D, "b"))->c == 4,
            "int(15 * 0.29) is 4");
  g = PARSE_SET(yaml, "width=0.5");
  cr_expect(output_of(g, node_named(g, GH_OP_CONV2D, "b"))->c == 7,
            "int(15 * 0.5) is 7");
}

Test(spec, scale_false_keeps_the_literal_channels) {
  Graph *g = parse("name: t\ninput: [8, 1, 1]\nwidth: 0.5\nlayers:\n"
                   "  - conv: {name: head, out: 1280, kernel: 1, bias: true, "
                   "scale: false}\n"
                   "  - conv: {name: scaled, out: 64, kernel: 1}\n"
                   "  - linear: {name: fc, out: 10, scale: false}\n");
  cr_expect(output_of(g, node_named(g, GH_OP_CONV2D, "head"))->c == 1280,
            "scale: false keeps 1280 at width 0.5");
  cr_expect(output_of(g, node_named(g, GH_OP_CONV2D, "scaled"))->c == 32,
            "a scaled conv halves at width 0.5");
  EXPECT_PARAM(g, "fc.weight", 10, 32);
  EXPECT_PARAM(g, "fc.bias", 10);  // linear has a bias by default
}

Test(spec, num_classes_is_a_parameter_and_not_scaled) {
  static const char yaml[] =
      "name: t\ninput: [16, 4, 4]\nnum_classes: 1000\nwidth: 0.5\nlayers:\n"
      "  - global_avgpool\n"
      "  - linear: {name: classifier, out: num_classes}\n";
  Graph *g = parse(yaml);
  const Node *fc = node_named(g, GH_OP_LINEAR, "classifier");
  cr_expect(fc->out_features == 1000, "num_classes gives %d outputs, want "
            "1000 at any width", fc->out_features);
  expect_shape(output_of(g, fc), 1000, 1, 1, "classifier");
  EXPECT_PARAM(g, "classifier.weight", 1000, 16);
  EXPECT_PARAM(g, "classifier.bias", 1000);

  g = PARSE_SET(yaml, "num_classes=7");
  expect_shape(&g->values[g->output], 7, 1, 1, "--set num_classes=7");
}

Test(spec, params_section_and_overrides) {
  static const char yaml[] =
      "name: t\ninput: [3, 16, 16]\nwidth: 0.5\n"
      "params: {hidden: 24, k: 5}\n"
      "layers:\n"
      "  - conv: {name: c, out: hidden, kernel: k, padding: 2}\n";
  Graph *g = parse(yaml);
  const Node *c = node_named(g, GH_OP_CONV2D, "c");
  // A parameter reference is an exact count: width does not scale it.
  cr_expect(c->out_features == 24 && c->kh == 5,
            "out %d kernel %d, want 24 and 5", c->out_features, c->kh);
  expect_shape(output_of(g, c), 24, 16, 16, "c");

  g = PARSE_SET(yaml, "hidden=12", "k=3");
  c = node_named(g, GH_OP_CONV2D, "c");
  cr_expect(c->out_features == 12 && c->kh == 3,
            "after --set: out %d kernel %d, want 12 and 3", c->out_features,
            c->kh);
  // (16 + 4 - 3) / 1 + 1 = 18.
  expect_shape(output_of(g, c), 12, 18, 18, "c after --set");
}

Test(spec, set_width_and_resolution) {
  static const char yaml[] = HEADER("[3, 224, 224]")
      "  - conv: {name: stem, out: 16, kernel: 3, stride: 2, padding: 1}\n";
  Graph *g = parse(yaml);
  expect_shape(&g->values[g->output], 16, 112, 112, "defaults");
  g = PARSE_SET(yaml, "width=0.5", "resolution=160");
  expect_shape(&g->values[g->input], 3, 160, 160, "input at resolution 160");
  expect_shape(&g->values[g->output], 8, 80, 80, "stem at width 0.5");
  EXPECT_PARAM(g, "stem.weight", 8, 3, 3, 3);
}

Test(spec, non_square_input_stays_unless_a_resolution_is_given) {
  static const char yaml[] = HEADER("[3, 8, 6]")
      "  - conv: {name: c, out: 4, kernel: 3, padding: 1}\n";
  Graph *g = parse(yaml);
  expect_shape(&g->values[g->input], 3, 8, 6, "input as written");
  g = PARSE_SET(yaml, "resolution=10");
  expect_shape(&g->values[g->input], 3, 10, 10, "input at resolution 10");
}

Test(spec, from_concat_slice_and_add) {
  Graph *g = parse(HEADER("[3, 8, 8]")
                   "  - conv: {name: a, out: 4, kernel: 1}\n"
                   "  - conv: {name: b, out: 6, kernel: 1, from: input}\n"
                   "  - concat: {name: cat, from: [a, b]}\n"
                   "  - slice: {name: mid, begin: 2, end: 6}\n"
                   "  - add: {name: sum, from: [a, mid], act: relu}\n");
  const Node *a = node_named(g, GH_OP_CONV2D, "a");
  const Node *b = node_named(g, GH_OP_CONV2D, "b");
  cr_expect(b->in[0] == g->input, "`from: input` reads the network input");
  const Node *cat = node_named(g, GH_OP_CONCAT, "cat");
  cr_expect(cat->n_in == 2 && cat->in[0] == a->out && cat->in[1] == b->out,
            "concat reads a then b");
  expect_shape(output_of(g, cat), 10, 8, 8, "concat of 4 and 6 channels");
  const Node *mid = node_named(g, GH_OP_SLICE, "mid");
  cr_expect(mid->begin == 2 && mid->end == 6 && mid->in[0] == cat->out,
            "slice [%d, %d) of concat", mid->begin, mid->end);
  expect_shape(output_of(g, mid), 4, 8, 8, "slice");
  const Node *sum = node_named(g, GH_OP_ADD, "sum");
  cr_expect(sum->in[0] == a->out && sum->in[1] == mid->out, "add reads a, mid");
  cr_expect(last_node(g)->op == GH_OP_ACTIVATION &&
                last_node(g)->act == GH_ACT_RELU &&
                last_node(g)->in[0] == sum->out,
            "`act: relu` follows the add");
}

Test(spec, pools_flatten_and_linear) {
  Graph *g = parse(HEADER("[2, 9, 9]")
                   "  - maxpool: {name: mp, kernel: 3, stride: 2, padding: 1}\n"
                   "  - avgpool: {name: ap, kernel: 2}\n"
                   "  - flatten\n"
                   "  - linear: {name: fc, out: 3}\n");
  const Node *mp = node_named(g, GH_OP_MAXPOOL, "mp");
  // (9 + 2 - 3) / 2 + 1 = 5.
  expect_shape(output_of(g, mp), 2, 5, 5, "maxpool");
  const Node *ap = node_named(g, GH_OP_AVGPOOL, "ap");
  cr_expect(ap->stride_h == 2 && ap->count_include_pad,
            "avgpool's stride defaults to its kernel, padding counts");
  // (5 - 2) / 2 + 1 = 2.
  expect_shape(output_of(g, ap), 2, 2, 2, "avgpool");
  expect_shape(output_of(g, node_named(g, GH_OP_FLATTEN, "flatten")), 8, 1,
               1, "flatten");
  EXPECT_PARAM(g, "fc.weight", 3, 8);
}

//
// Composite blocks
//

Test(spec, ghost_module_concatenates_primary_and_cheap_maps) {
  Graph *g = parse(HEADER("[8, 10, 10]")
                   "  - ghost_module: {name: g, out: 16}\n");
  // ratio 2: 8 intrinsic maps and 8 ghosts, exactly 16, so no slice.
  cr_assert(g->n_nodes == 8, "input + 7 ops, got %d nodes", g->n_nodes);
  EXPECT_OPS(g, 1, GH_OP_CONV2D, GH_OP_BATCHNORM, GH_OP_ACTIVATION,
             GH_OP_CONV2D, GH_OP_BATCHNORM, GH_OP_ACTIVATION, GH_OP_CONCAT);
  const Node *primary = node_named(g, GH_OP_CONV2D, "g.primary_conv.0");
  cr_expect(primary->kh == 1 && primary->groups == 1 &&
                primary->out_features == 8,
            "primary conv: 1x1, dense, 8 channels");
  EXPECT_PARAM(g, "g.primary_conv.0.weight", 8, 8, 1, 1);
  expect_batchnorm_params(g, "g.primary_conv.1", 8);
  cr_expect(g->nodes[3].act == GH_ACT_RELU, "ReLU after the primary BN");
  const Node *cheap = node_named(g, GH_OP_CONV2D, "g.cheap_operation.0");
  cr_expect(cheap->kh == 3 && cheap->pad_h == 1 && cheap->groups == 8 &&
                cheap->out_features == 8 && cheap->in[0] == g->nodes[3].out,
            "cheap op: 3x3 depthwise (groups = init = 8) on the primary "
            "maps");
  EXPECT_PARAM(g, "g.cheap_operation.0.weight", 8, 1, 3, 3);
  expect_batchnorm_params(g, "g.cheap_operation.1", 8);
  cr_expect(g->nodes[6].act == GH_ACT_RELU, "ReLU after the cheap BN");
  const Node *cat = node_named(g, GH_OP_CONCAT, "g");
  cr_expect(cat->n_in == 2 && cat->in[0] == g->nodes[3].out &&
                cat->in[1] == g->nodes[6].out,
            "concat(primary, cheap)");
  expect_shape(output_of(g, cat), 16, 10, 10, "ghost module");
  expect_no_param(g, "g.primary_conv.0.bias");
  cr_expect(g->n_params == 10, "2 conv weights + 2x4 BN tensors, got %d",
            g->n_params);
}

Test(spec, ghost_module_slices_when_ratio_overshoots) {
  // out 10, ratio 3: init = ceil(10/3) = 4, ghosts 8, 12 maps cut to 10.
  Graph *g = parse(HEADER("[6, 10, 10]")
                   "  - ghost_module: {name: g, out: 10, ratio: 3, kernel: 3, "
                   "dw: 5, stride: 2, relu: false}\n");
  EXPECT_OPS(g, 1, GH_OP_CONV2D, GH_OP_BATCHNORM, GH_OP_CONV2D,
             GH_OP_BATCHNORM, GH_OP_CONCAT, GH_OP_SLICE);
  cr_assert(g->n_nodes == 7, "relu: false leaves no activations, got %d "
            "nodes", g->n_nodes);
  const Node *primary = node_named(g, GH_OP_CONV2D, "g.primary_conv.0");
  cr_expect(primary->kh == 3 && primary->stride_h == 2 && primary->pad_h == 1,
            "primary conv: kernel 3, stride 2, padding 1");
  EXPECT_PARAM(g, "g.primary_conv.0.weight", 4, 6, 3, 3);
  const Node *cheap = node_named(g, GH_OP_CONV2D, "g.cheap_operation.0");
  cr_expect(cheap->kh == 5 && cheap->pad_h == 2 && cheap->stride_h == 1 &&
                cheap->groups == 4,
            "cheap op: 5x5, padding 2, stride 1, groups = init = 4");
  EXPECT_PARAM(g, "g.cheap_operation.0.weight", 8, 1, 5, 5);
  expect_batchnorm_params(g, "g.cheap_operation.1", 8);
  expect_shape(output_of(g, node_named(g, GH_OP_CONCAT, "g")), 12, 5, 5,
               "concat");
  const Node *slice = node_named(g, GH_OP_SLICE, "g");
  cr_expect(slice->begin == 0 && slice->end == 10, "slice [%d, %d), want "
            "[0, 10)", slice->begin, slice->end);
  expect_shape(&g->values[g->output], 10, 5, 5, "ghost module");
}

Test(spec, squeeze_excite_gates_each_channel) {
  Graph *g = parse(HEADER("[72, 7, 7]") "  - squeeze_excite: {name: se}\n");
  EXPECT_OPS(g, 1, GH_OP_GLOBAL_AVGPOOL, GH_OP_CONV2D, GH_OP_ACTIVATION,
             GH_OP_CONV2D, GH_OP_ACTIVATION, GH_OP_MUL);
  // make_divisible(72 * 0.25, 4) = 20, as in GhostNet's SE on 72 channels.
  const Node *reduce = node_named(g, GH_OP_CONV2D, "se.conv_reduce");
  expect_shape(output_of(g, reduce), 20, 1, 1, "conv_reduce");
  EXPECT_PARAM(g, "se.conv_reduce.weight", 20, 72, 1, 1);
  EXPECT_PARAM(g, "se.conv_reduce.bias", 20);
  cr_expect(g->nodes[3].act == GH_ACT_RELU, "ReLU after conv_reduce");
  EXPECT_PARAM(g, "se.conv_expand.weight", 72, 20, 1, 1);
  EXPECT_PARAM(g, "se.conv_expand.bias", 72);
  cr_expect(g->nodes[5].act == GH_ACT_HARD_SIGMOID,
            "the gate is hard_sigmoid, got %s", act_names[g->nodes[5].act]);
  const Node *mul = last_node(g);
  cr_expect(mul->in[0] == g->input && mul->in[1] == g->nodes[5].out,
            "mul(x, gate)");
  expect_shape(output_of(g, mul), 72, 7, 7, "squeeze-excite keeps the shape");
  cr_expect(g->n_params == 4, "two convs with bias, got %d params",
            g->n_params);
}

Test(spec, ghost_bottleneck_stride_2_has_dw_se_and_conv_shortcut) {
  Graph *g = parse(HEADER("[16, 16, 16]")
                   "  - ghost_bottleneck: {name: b, kernel: 5, exp: 72, "
                   "out: 24, se: 0.25, stride: 2}\n");
  EXPECT_PARAM(g, "b.ghost1.primary_conv.0.weight", 36, 16, 1, 1);
  EXPECT_PARAM(g, "b.ghost1.cheap_operation.0.weight", 36, 1, 3, 3);
  const Node *dw = node_named(g, GH_OP_CONV2D, "b.conv_dw");
  cr_expect(dw->groups == 72 && dw->stride_h == 2 && dw->kh == 5 &&
                dw->pad_h == 2,
            "conv_dw: depthwise 5x5, stride 2, padding 2");
  cr_expect(producer_of(g, dw->in[0])->op == GH_OP_CONCAT,
            "conv_dw reads ghost1");
  EXPECT_PARAM(g, "b.conv_dw.weight", 72, 1, 5, 5);
  expect_batchnorm_params(g, "b.bn_dw", 72);
  expect_shape(output_of(g, node_named(g, GH_OP_BATCHNORM, "b.bn_dw")), 72, 8,
               8, "bn_dw");
  const Node *se = node_named(g, GH_OP_MUL, "b.se");
  cr_expect(producer_of(g, se->in[0])->op == GH_OP_BATCHNORM,
            "SE follows bn_dw");
  EXPECT_PARAM(g, "b.se.conv_reduce.weight", 20, 72, 1, 1);
  EXPECT_PARAM(g, "b.se.conv_expand.weight", 72, 20, 1, 1);
  const Node *primary2 = node_named(g, GH_OP_CONV2D, "b.ghost2.primary_conv.0");
  cr_expect(primary2->in[0] == se->out, "ghost2 reads the SE output");
  EXPECT_PARAM(g, "b.ghost2.primary_conv.0.weight", 12, 72, 1, 1);
  EXPECT_PARAM(g, "b.ghost2.cheap_operation.0.weight", 12, 1, 3, 3);
  // ghost2 is linear: its concat reads the BatchNorms directly.
  const Node *cat2 = node_named(g, GH_OP_CONCAT, "b.ghost2");
  cr_expect(producer_of(g, cat2->in[0])->op == GH_OP_BATCHNORM &&
                producer_of(g, cat2->in[1])->op == GH_OP_BATCHNORM,
            "ghost2 has no ReLU");
  const Node *sc0 = node_named(g, GH_OP_CONV2D, "b.shortcut.0");
  cr_expect(sc0->in[0] == g->input && sc0->groups == 16 &&
                sc0->stride_h == 2 && sc0->kh == 5 && sc0->pad_h == 2,
            "shortcut.0: depthwise 5x5 stride 2 on the block input");
  EXPECT_PARAM(g, "b.shortcut.0.weight", 16, 1, 5, 5);
  expect_batchnorm_params(g, "b.shortcut.1", 16);
  EXPECT_PARAM(g, "b.shortcut.2.weight", 24, 16, 1, 1);
  expect_batchnorm_params(g, "b.shortcut.3", 24);
  const Node *add = last_node(g);
  cr_expect(add->op == GH_OP_ADD && strcmp(add->name, "b") == 0,
            "the block ends in its residual add");
  cr_expect(add->in[0] == cat2->out &&
                add->in[1] == node_named(g, GH_OP_BATCHNORM,
                                         "b.shortcut.3")->out,
            "add(ghost2, shortcut)");
  expect_shape(output_of(g, add), 24, 8, 8, "bottleneck");
  // ghost1 10 + conv_dw/bn_dw 5 + SE 4 + ghost2 10 + shortcut 10.
  cr_expect(g->n_params == 39, "39 tensors, got %d", g->n_params);
}

Test(spec, ghost_bottleneck_identity_and_pointwise_shortcuts) {
  Graph *g = parse(HEADER("[16, 8, 8]")
                   "  - ghost_bottleneck: {name: b, exp: 16, out: 16}\n");
  const Node *add = last_node(g);
  cr_expect(add->op == GH_OP_ADD && add->in[1] == g->input,
            "same shape: the shortcut is the block input itself");
  expect_no_param(g, "b.shortcut.0.weight");
  expect_no_param(g, "b.conv_dw.weight");
  expect_no_param(g, "b.se.conv_reduce.weight");
  cr_expect(g->n_params == 20, "two ghost modules only, got %d params",
            g->n_params);

  // More channels at stride 1: a stride-1 conv shortcut, still no conv_dw.
  g = parse(HEADER("[16, 8, 8]")
            "  - ghost_bottleneck: {name: b, exp: 48, out: 24}\n");
  const Node *sc0 = node_named(g, GH_OP_CONV2D, "b.shortcut.0");
  cr_expect(sc0->stride_h == 1 && sc0->kh == 3 && sc0->groups == 16,
            "shortcut.0: depthwise 3x3 at stride 1");
  expect_no_param(g, "b.conv_dw.weight");
  expect_shape(&g->values[g->output], 24, 8, 8, "bottleneck");
}

//
// Tables
//

Test(spec, table_stages_name_blocks_by_stage_and_index) {
  Graph *g = parse(HEADER("[3, 16, 16]")
                   "  - table:\n"
                   "      block: conv\n"
                   "      name: \"s{stage}.{index}\"\n"
                   "      columns: [out, kernel]\n"
                   "      stages:\n"
                   "        - [[8, 3]]\n"
                   "        - [[16, 1], [12, 3]]\n");
  cr_assert(g->n_nodes == 4, "three rows, three convs: got %d nodes",
            g->n_nodes);
  const Node *s00 = node_named(g, GH_OP_CONV2D, "s0.0");
  const Node *s10 = node_named(g, GH_OP_CONV2D, "s1.0");
  const Node *s11 = node_named(g, GH_OP_CONV2D, "s1.1");
  cr_expect(s00->kh == 3 && s10->kh == 1 && s11->kh == 3,
            "kernels from the kernel column");
  cr_expect(s10->in[0] == s00->out && s11->in[0] == s10->out,
            "rows chain in order");
  expect_shape(output_of(g, s11), 12, 12, 12, "last row");
  EXPECT_PARAM(g, "s1.1.weight", 12, 16, 3, 3);
  cr_expect(s11->loc.line == 10, "a row's nodes point at the row, line 10; "
            "got %d", s11->loc.line);
}

Test(spec, table_rows_count_n_from_first) {
  Graph *g = parse(HEADER("[3, 4, 4]")
                   "  - table: {block: conv, first: 3,\n"
                   "      name: \"layer{n}.{stage}.{index}\",\n"
                   "      columns: [out, kernel], rows: [[4, 1], [6, 1]]}\n");
  const Node *a = node_named(g, GH_OP_CONV2D, "layer3.0.0");
  const Node *b = node_named(g, GH_OP_CONV2D, "layer4.0.1");
  cr_expect(output_of(g, a)->c == 4 && output_of(g, b)->c == 6,
            "rows give 4 then 6 channels");
  EXPECT_PARAM(g, "layer4.0.1.weight", 6, 4, 1, 1);
}

//
// Errors: the exact place and the key words
//

Test(spec_errors, yaml_syntax_error) {
  EXPECT_ERROR("name: t\ninput: [3, 8, 8\nlayers:\n  - relu\n",
               "t.yaml:3:7: error: invalid YAML", "flow sequence");
}

Test(spec_errors, empty_spec) {
  EXPECT_ERROR("", "t.yaml: error: ", "empty");
  EXPECT_ERROR("# only a comment\n", "t.yaml: error: ", "empty");
}

Test(spec_errors, not_a_mapping_and_no_layers) {
  EXPECT_ERROR("- relu\n", "t.yaml:1:1: error: ", "mapping");
  EXPECT_ERROR(HEADER("[3, 8, 8]") "\n", "t.yaml:3:8: error: ",
               "layers must be a list");
  EXPECT_ERROR("name: t\ninput: [3, 8, 8]\nlayers: []\n",
               "t.yaml:3:9: error: ", "no layers");
}

Test(spec_errors, unknown_layer_type) {
  EXPECT_ERROR(HEADER("[3, 8, 8]") "  - relu\n  - frobnicate\n",
               "t.yaml:5:5: error: ", "unknown layer type 'frobnicate'");
  EXPECT_ERROR(HEADER("[3, 8, 8]") "  - gelu: {name: x}\n",
               "t.yaml:4:5: error: ", "unknown layer type 'gelu'");
}

Test(spec_errors, unknown_field) {
  EXPECT_ERROR(HEADER("[3, 8, 8]")
               "  - conv: {name: c, out: 4, kernel: 1, strid: 2}\n",
               "t.yaml:4:40: error: ", "unknown field 'strid'", "conv");
  // A table's columns are its rows' field names: the column is to blame.
  EXPECT_ERROR(HEADER("[3, 8, 8]")
               "  - table: {block: conv, name: \"c{n}\",\n"
               "      columns: [out, kernel, strid], rows: [[4, 1, 2]]}\n",
               "t.yaml:5:30: error: ", "unknown field 'strid'", "conv");
  EXPECT_ERROR("name: t\ninput: [3, 8, 8]\nwidht: 0.5\nlayers: [relu]\n",
               "t.yaml:3:1: error: ", "unknown field 'widht'", "spec");
  EXPECT_ERROR("name: t\ninput: [3, 8, 8]\n"
               "channel_rounding: {mode: floor, div: 4}\nlayers: [relu]\n",
               "t.yaml:3:33: error: ", "unknown field 'div'",
               "channel_rounding");
}

Test(spec_errors, missing_field) {
  EXPECT_ERROR(HEADER("[3, 8, 8]") "  - relu\n  - conv: {name: c, out: 4}\n",
               "t.yaml:5:5: error: ", "conv needs the field 'kernel'");
  EXPECT_ERROR(HEADER("[3, 8, 8]") "  - conv: {name: c, kernel: 1}\n",
               "t.yaml:4:5: error: ", "conv needs the field 'out'");
  EXPECT_ERROR(HEADER("[3, 8, 8]") "  - conv: {out: 4, kernel: 1}\n",
               "t.yaml:4:5: error: ", "conv needs a name");
  EXPECT_ERROR("name: t\nlayers: [relu]\n", "t.yaml:1:1: error: ",
               "missing field 'input'");
}

Test(spec_errors, zero_stride) {
  EXPECT_ERROR(HEADER("[3, 8, 8]")
               "  - conv: {name: c, out: 4, kernel: 3, stride: 0}\n",
               "t.yaml:4:48: error: ", "stride must be positive", "got 0");
}

Test(spec_errors, groups_must_divide_channels) {
  EXPECT_ERROR(HEADER("[8, 8, 8]")
               "  - conv: {name: c, out: 6, kernel: 1, groups: 3}\n",
               "t.yaml:4:5: error: ", "c:", "groups (3) must divide input "
               "channels (8)");
  EXPECT_ERROR(HEADER("[6, 8, 8]")
               "  - conv: {name: c, out: 4, kernel: 1, groups: 3}\n",
               "t.yaml:4:5: error: ", "groups (3) must divide output "
               "channels (4)");
}

Test(spec_errors, width_must_be_positive) {
  EXPECT_ERROR("name: t\ninput: [3, 8, 8]\nwidth: 0\nlayers: [relu]\n",
               "t.yaml:3:8: error: ", "width must be in (0, 100]", "got 0");
  EXPECT_ERROR("name: t\ninput: [3, 8, 8]\nwidth: -0.5\nlayers: [relu]\n",
               "t.yaml:3:8: error: ", "width must be in (0, 100]");
  // From the command line there is no place in the file to point at.
  EXPECT_SET_ERROR("name: t\ninput: [3, 8, 8]\nlayers: [relu]\n", "width=-1",
                   "error: ", "width must be in (0, 100]", "got -1");
}

Test(spec_errors, too_few_channels_at_width) {
  EXPECT_ERROR("name: t\ninput: [3, 8, 8]\nwidth: 0.3\nlayers:\n"
               "  - conv: {name: c, out: 3, kernel: 1}\n",
               "t.yaml:5:26: error: ", "fewer than one channel");
}

Test(spec_errors, bad_overrides) {
  static const char yaml[] = HEADER("[3, 8, 8]") "  - relu\n";
  EXPECT_SET_ERROR(yaml, "depth=2", "t.yaml: error: ", "--set",
                   "no parameter 'depth'");
  EXPECT_SET_ERROR(yaml, "width=wide", "error: ", "'width' must be a number");
  EXPECT_SET_ERROR(yaml, "width", "error: ", "NAME=VALUE");
}

Test(spec_errors, shape_mismatch_in_add) {
  EXPECT_ERROR(HEADER("[3, 8, 8]")
               "  - conv: {name: a, out: 4, kernel: 1}\n"
               "  - conv: {name: b, out: 5, kernel: 1}\n"
               "  - add: {from: [a, b]}\n",
               "t.yaml:6:5: error: ", "cannot add shapes 4x8x8 and 5x8x8");
}

Test(spec_errors, kernel_larger_than_input) {
  EXPECT_ERROR(HEADER("[3, 4, 4]")
               "  - conv: {name: c, out: 4, kernel: 7, padding: 1}\n",
               "t.yaml:4:5: error: ", "kernel 7x7", "does not fit the 4x4 "
               "input");
}

Test(spec_errors, linear_on_a_map) {
  EXPECT_ERROR(HEADER("[3, 4, 4]") "  - linear: {name: fc, out: 10}\n",
               "t.yaml:4:5: error: ", "linear needs a flat input",
               "3x4x4");
}

Test(spec_errors, from_unknown_or_later_layer) {
  EXPECT_ERROR(HEADER("[3, 8, 8]")
               "  - conv: {name: a, out: 4, kernel: 1}\n"
               "  - relu: {from: nope}\n",
               "t.yaml:5:18: error: ", "`from` names 'nope'",
               "not an earlier layer");
  EXPECT_ERROR(HEADER("[3, 8, 8]")
               "  - add: {from: [input, b]}\n"
               "  - conv: {name: b, out: 3, kernel: 1}\n",
               "t.yaml:4:25: error: ", "'b'", "not an earlier layer");
}

Test(spec_errors, unused_output) {
  EXPECT_ERROR(HEADER("[3, 8, 8]")
               "  - conv: {name: a, out: 4, kernel: 1}\n"
               "  - conv: {name: b, out: 4, kernel: 1, from: input}\n",
               "t.yaml:4:5: error: ", "output of conv2d 'a' is never used");
}

Test(spec_errors, table_row_length_mismatch) {
  EXPECT_ERROR(HEADER("[3, 8, 8]")
               "  - table:\n"
               "      block: conv\n"
               "      name: \"c{n}\"\n"
               "      columns: [out, kernel]\n"
               "      rows:\n"
               "        - [4, 1]\n"
               "        - [4, 1, 2]\n",
               "t.yaml:10:11: error: ", "row has 3 values",
               "the table has 2 columns");
}

Test(spec_errors, duplicate_keys) {
  EXPECT_ERROR("name: t\nname: u\ninput: [3, 8, 8]\nlayers: [relu]\n",
               "t.yaml:2:1: error: ", "duplicate key 'name'");
  EXPECT_ERROR(HEADER("[3, 8, 8]")
               "  - conv: {name: c, out: 4, kernel: 1, out: 8}\n",
               "t.yaml:4:40: error: ", "field 'out' is given twice");
}

//
// The whole GhostNet
//

typedef struct {
  uint64_t params;  // learnable: conv/linear weights and biases, BN affine
  uint64_t macs;
} Cost;

static Cost ghostnet_cost(const char *width, const char *resolution) {
  char set_width[64], set_resolution[64];
  snprintf(set_width, sizeof set_width, "width=%s", width);
  snprintf(set_resolution, sizeof set_resolution, "resolution=%s", resolution);
  const char *overrides[] = {set_width, set_resolution};
  SpecOptions opt = {.spec_path = GHOSTCC_SOURCE_DIR "/specs/ghostnet.yaml",
                     .overrides = overrides, .n_overrides = 2};
  Graph *g = spec_load(&arena, &opt);
  expect_shape(&g->values[g->output], 1000, 1, 1, "logits");
  Cost cost = {0};
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = &g->nodes[i];
    cost.macs += node_macs(g, n);
    if (n->op == GH_OP_CONV2D || n->op == GH_OP_LINEAR)
      for (int slot = 0; slot < 2; slot++)
        if (n->params[slot] >= 0)
          cost.params += g->params[n->params[slot]].count;
    if (n->op == GH_OP_BATCHNORM)
      cost.params += 2 * (uint64_t)output_of(g, n)->c;
  }
  return cost;
}

Test(ghostnet, width_1_0_matches_the_paper_model) {
  // The numbers of the PyTorch model (sum of p.numel() over parameters
  // that require grad; thop-style MACs): 5.18M parameters, 141M MACs.
  Cost cost = ghostnet_cost("1.0", "224");
  cr_expect(cost.params == 5182508, "%llu parameters, want 5182508",
            (unsigned long long)cost.params);
  cr_expect(cost.macs == 141150512, "%llu MACs, want 141150512",
            (unsigned long long)cost.macs);
}

Test(ghostnet, structure_and_parameter_names) {
  SpecOptions opt = {.spec_path = GHOSTCC_SOURCE_DIR "/specs/ghostnet.yaml"};
  Graph *g = spec_load(&arena, &opt);
  cr_expect(strcmp(g->name, "ghostnet") == 0, "model name '%s'", g->name);
  expect_shape(&g->values[g->input], 3, 224, 224, "input");
  EXPECT_PARAM(g, "conv_stem.weight", 16, 3, 3, 3);
  expect_batchnorm_params(g, "bn1", 16);
  EXPECT_PARAM(g, "blocks.0.0.ghost1.primary_conv.0.weight", 8, 16, 1, 1);
  EXPECT_PARAM(g, "blocks.1.0.conv_dw.weight", 48, 1, 3, 3);
  EXPECT_PARAM(g, "blocks.3.0.se.conv_reduce.weight", 20, 72, 1, 1);
  EXPECT_PARAM(g, "blocks.6.3.se.conv_reduce.weight", 120, 480, 1, 1);
  // 80 -> 112 channels needs a conv shortcut; 112 -> 112 is the identity.
  EXPECT_PARAM(g, "blocks.6.3.shortcut.0.weight", 80, 1, 3, 3);
  expect_no_param(g, "blocks.6.3.conv_dw.weight");
  expect_no_param(g, "blocks.6.4.shortcut.0.weight");
  EXPECT_PARAM(g, "blocks.8.3.ghost2.cheap_operation.0.weight", 80, 1, 3, 3);
  EXPECT_PARAM(g, "blocks.9.0.conv.weight", 960, 160, 1, 1);
  EXPECT_PARAM(g, "conv_head.weight", 1280, 960, 1, 1);
  EXPECT_PARAM(g, "conv_head.bias", 1280);
  EXPECT_PARAM(g, "classifier.weight", 1000, 1280);
  EXPECT_PARAM(g, "classifier.bias", 1000);
  expect_no_param(g, "blocks.5.0.se.conv_reduce.weight");
  // blocks.9.0 ends the features at 7x7 before the global pool.
  expect_shape(output_of(g, node_named(g, GH_OP_BATCHNORM, "blocks.9.0.bn1")),
               960, 7, 7, "blocks.9.0.bn1");
}

Test(ghostnet, other_widths) {
  Cost half = ghostnet_cost("0.5", "224");
  cr_expect(half.params == 2587292, "width 0.5: %llu parameters, want "
            "2587292", (unsigned long long)half.params);
  cr_expect(half.macs > 42250000 && half.macs < 42350000,
            "width 0.5: %llu MACs, want about 42.3M",
            (unsigned long long)half.macs);
  Cost wide = ghostnet_cost("1.3", "224");
  cr_expect(wide.params == 7358820, "width 1.3: %llu parameters, want "
            "7358820", (unsigned long long)wide.params);
  cr_expect(wide.macs > 226950000 && wide.macs < 227050000,
            "width 1.3: %llu MACs, want about 227.0M",
            (unsigned long long)wide.macs);
}

Test(ghostnet, resolution_changes_macs_not_params) {
  Cost full = ghostnet_cost("1.0", "224");
  Cost small = ghostnet_cost("1.0", "160");
  cr_expect(small.params == full.params, "resolution must not change the "
            "parameters: %llu vs %llu", (unsigned long long)small.params,
            (unsigned long long)full.params);
  // Spatial MACs scale by (80/112)^2 = 0.51; the classifier does not.
  cr_expect(small.macs < full.macs * 0.55 && small.macs > full.macs * 0.5,
            "160x160: %llu MACs, want about half of %llu",
            (unsigned long long)small.macs, (unsigned long long)full.macs);
}

//
// infer_shape directly
//

static Graph *graph_with_input(int c, int h, int w) {
  Graph *g = graph_new(&arena, "shape");
  Node in = node_init(GH_OP_INPUT, "input", (SrcLoc){0});
  in.shape[0] = c;
  in.shape[1] = h;
  in.shape[2] = w;
  graph_add_node(g, in);
  return g;
}

static Node unary(OpKind op, int from) {
  Node n = node_init(op, op_names[op], (SrcLoc){0});
  n.in[0] = from;
  n.n_in = 1;
  return n;
}

// Infers n's shape, asserting success.
static Value inferred(const Graph *g, const Node *n) {
  Value v = {0};
  char msg[256];
  const char *err = infer_shape(g, n, &v, msg, sizeof msg);
  cr_assert(!err, "%s should infer, got: %s", op_names[n->op], err);
  return v;
}

// Infers n's shape, asserting failure with `words` in the message and *out
// untouched.
static void expect_shape_error(const Graph *g, const Node *n,
                               const char *words) {
  Value v = {.c = -7, .h = -7, .w = -7};
  char msg[256];
  const char *err = infer_shape(g, n, &v, msg, sizeof msg);
  cr_assert(err, "%s should not infer (want '%s')", op_names[n->op], words);
  cr_expect(strstr(err, words), "message '%s' should mention '%s'", err,
            words);
  cr_expect(v.c == -7 && v.h == -7 && v.w == -7,
            "a failed inference must leave the output untouched");
}

Test(shape, conv_output_size_formula) {
  static const struct {
    int in, kernel, stride, pad;
  } cases[] = {{17, 3, 2, 1}, {10, 4, 3, 0}, {224, 3, 2, 1}, {7, 7, 1, 0},
               {5, 1, 2, 0},  {6, 5, 4, 2},  {1, 3, 1, 1},   {9, 2, 2, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    // Width 3 more than height, so h and w are checked separately.
    Graph *g = graph_with_input(4, cases[i].in, cases[i].in + 3);
    Node conv = unary(GH_OP_CONV2D, g->input);
    conv.out_features = 6;
    conv.groups = 2;
    conv.kh = conv.kw = cases[i].kernel;
    conv.stride_h = conv.stride_w = cases[i].stride;
    conv.pad_h = conv.pad_w = cases[i].pad;
    Value v = inferred(g, &conv);
    int want_h = (cases[i].in + 2 * cases[i].pad - cases[i].kernel) /
                     cases[i].stride + 1;
    int want_w = (cases[i].in + 3 + 2 * cases[i].pad - cases[i].kernel) /
                     cases[i].stride + 1;
    expect_shape(&v, 6, want_h, want_w, "conv");
  }
  // Rectangular: 1x3 kernel, stride (1, 2), padding (0, 1) on 5x8.
  Graph *g = graph_with_input(2, 5, 8);
  Node conv = unary(GH_OP_CONV2D, g->input);
  conv.out_features = 3;
  conv.kh = 1;
  conv.kw = 3;
  conv.stride_w = 2;
  conv.pad_w = 1;
  Value v = inferred(g, &conv);
  expect_shape(&v, 3, 5, 4, "1x3 conv");
  conv.stride_h = 0;
  expect_shape_error(g, &conv, "stride must be positive");
}

Test(shape, pools) {
  Graph *g = graph_with_input(5, 8, 8);
  Node pool = unary(GH_OP_MAXPOOL, g->input);
  pool.kh = pool.kw = 3;
  pool.stride_h = pool.stride_w = 2;
  pool.pad_h = pool.pad_w = 1;
  Value v = inferred(g, &pool);
  expect_shape(&v, 5, 4, 4, "maxpool 3/2/1 on 8x8");
  pool.op = GH_OP_AVGPOOL;
  pool.pad_h = pool.pad_w = 2;
  expect_shape_error(g, &pool, "at most half the kernel");
  Node gap = unary(GH_OP_GLOBAL_AVGPOOL, g->input);
  v = inferred(g, &gap);
  expect_shape(&v, 5, 1, 1, "global_avgpool");
}

Test(shape, concat_sums_channels) {
  Graph *g = graph_with_input(2, 6, 6);
  Node a = unary(GH_OP_CONV2D, g->input);
  a.out_features = 3;
  int va = graph_add_node(g, a);
  Node b = unary(GH_OP_CONV2D, g->input);
  b.out_features = 5;
  int vb = graph_add_node(g, b);
  Node cat = node_init(GH_OP_CONCAT, "cat", (SrcLoc){0});
  cat.in[0] = g->input;
  cat.in[1] = va;
  cat.in[2] = vb;
  cat.n_in = 3;
  Value v = inferred(g, &cat);
  expect_shape(&v, 10, 6, 6, "concat of 2, 3 and 5 channels");

  Node pool = unary(GH_OP_MAXPOOL, vb);
  pool.kh = pool.kw = pool.stride_h = pool.stride_w = 2;
  cat.in[2] = graph_add_node(g, pool);
  expect_shape_error(g, &cat, "cannot concatenate 6x6 maps with 3x3 maps");
}

Test(shape, slice_range) {
  Graph *g = graph_with_input(8, 2, 2);
  Node slice = unary(GH_OP_SLICE, g->input);
  slice.begin = 2;
  slice.end = 5;
  Value v = inferred(g, &slice);
  expect_shape(&v, 3, 2, 2, "slice [2, 5)");
  slice.begin = 0;
  slice.end = 8;
  v = inferred(g, &slice);
  expect_shape(&v, 8, 2, 2, "slice [0, 8)");
  static const int bad[][2] = {{0, 9}, {5, 5}, {6, 3}, {-1, 4}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    slice.begin = bad[i][0];
    slice.end = bad[i][1];
    expect_shape_error(g, &slice, "is not inside [0, 8)");
  }
}

Test(shape, linear_needs_a_flat_input) {
  Graph *g = graph_with_input(4, 2, 2);
  Node fc = unary(GH_OP_LINEAR, g->input);
  fc.out_features = 10;
  expect_shape_error(g, &fc, "linear needs a flat input, got 4x2x2");
  fc.in[0] = graph_add_node(g, unary(GH_OP_FLATTEN, g->input));
  Value v = inferred(g, &fc);
  expect_shape(&v, 10, 1, 1, "linear after flatten");
}
