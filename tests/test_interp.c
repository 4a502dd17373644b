// The reference interpreter against values worked out by hand: one tiny
// graph per op, small enough that every expected number can be checked on
// paper (the working is in the comments).
#include "ir/ir.h"

#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <string.h>

static Arena arena;
static Graph *g;
static const SrcLoc nowhere = {0};

static void setup(void) { g = graph_new(&arena, "test"); }
static void teardown(void) { arena_free(&arena); }

TestSuite(interp, .init = setup, .fini = teardown);

// Starts a new graph in g (for tests that try several variants).
static void fresh_graph(void) { g = graph_new(&arena, "test"); }

static int add_input(int c, int h, int w) {
  Node n = node_init(GH_OP_INPUT, "input", nowhere);
  n.shape[0] = c;
  n.shape[1] = h;
  n.shape[2] = w;
  return graph_add_node(g, n);
}

// A node of kind op reading `from`; the caller sets attributes, then adds it.
static Node unary(OpKind op, int from) {
  Node n = node_init(op, op_names[op], nowhere);
  n.in[0] = from;
  n.n_in = 1;
  return n;
}

static Node binary(OpKind op, int a, int b) {
  Node n = unary(op, a);
  n.in[1] = b;
  n.n_in = 2;
  return n;
}

// A parameter bound to a copy of `values` (product of dims floats).
static int add_param(const char *key, int ndim, const int *dims,
                     const float *values) {
  int id = graph_add_param(g, key, ndim, dims, nowhere);
  Param *p = &g->params[id];
  p->data = arena_array(&arena, p->count, sizeof(float));
  memcpy(p->data, values, p->count * sizeof(float));
  return id;
}

// Runs g on `input` and checks the output has shape (c, h, w) and data want.
static void expect_output(const char *what, const float *input, int c, int h,
                          int w, const float *want) {
  const Value *out = &g->values[g->output];
  cr_assert(out->c == c && out->h == h && out->w == w,
            "%s: output shape %dx%dx%d, want %dx%dx%d", what, out->c, out->h,
            out->w, c, h, w);
  const float *got = interp_run(g, input, &arena);
  for (size_t i = 0; i < value_count(out); i++)
    cr_expect(fabsf(got[i] - want[i]) <= 1e-6f,
              "%s: element %zu is %.9g, want %.9g", what, i, got[i], want[i]);
}

Test(interp, input_is_copied) {
  add_input(2, 1, 2);
  float x[] = {1, -2, 3.5f, 0};
  expect_output("input", x, 2, 1, 2, x);
  const float *got = interp_run(g, x, &arena);
  cr_expect(got != x, "the output must be the interpreter's own buffer");
}

Test(interp, conv_stride_2_padding_1_with_bias) {
  // x = 1 2 3     zero-padded by 1, 2x2 windows at stride 2 start at
  //     4 5 6     (-1,-1) (-1,1) (1,-1) (1,1), so they see
  //     7 8 9     [0 0;0 1] [0 0;2 3] [0 4;0 7] [5 6;8 9].
  int x = add_input(1, 3, 3);
  // Channel 0 weights [1 2;3 4] bias 0.5; channel 1 [-1 0;0 1] bias -1.
  float weight[] = {1, 2, 3, 4, -1, 0, 0, 1};
  float bias[] = {0.5f, -1};
  Node conv = unary(GH_OP_CONV2D, x);
  conv.kh = conv.kw = 2;
  conv.stride_h = conv.stride_w = 2;
  conv.pad_h = conv.pad_w = 1;
  conv.out_features = 2;
  conv.params[0] = add_param("w", 4, (int[]){2, 1, 2, 2}, weight);
  conv.params[1] = add_param("b", 1, (int[]){2}, bias);
  graph_add_node(g, conv);
  float in[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  float want[] = {
      4 * 1 + 0.5f,  3 * 2 + 4 * 3 + 0.5f,  // channel 0, row 0
      2 * 4 + 4 * 7 + 0.5f, 1 * 5 + 2 * 6 + 3 * 8 + 4 * 9 + 0.5f,
      1 - 1,  3 - 1,  // channel 1: bottom-right minus top-left, minus 1
      7 - 1, 9 - 5 - 1,
  };
  expect_output("conv", in, 2, 2, 2, want);
}

Test(interp, conv_sums_input_channels_with_rectangular_kernel) {
  // Two 1x3 input channels, a 1x3 kernel, padding only along w, no bias.
  int x = add_input(2, 1, 3);
  float weight[] = {1, 0, -1,  // channel 0: left neighbour minus right
                    0, 1, 0};  // channel 1: the centre
  Node conv = unary(GH_OP_CONV2D, x);
  conv.kh = 1;
  conv.kw = 3;
  conv.pad_w = 1;
  conv.out_features = 1;
  conv.params[0] = add_param("w", 4, (int[]){1, 2, 1, 3}, weight);
  graph_add_node(g, conv);
  float in[] = {1, 2, 3, 10, 20, 30};
  float want[] = {(0 - 2) + 10, (1 - 3) + 20, (2 - 0) + 30};
  expect_output("conv", in, 1, 1, 3, want);
}

Test(interp, grouped_conv_reads_its_groups_channels) {
  // 4 input channels in 2 groups; output 0 sees inputs 0,1, output 1 sees 2,3.
  int x = add_input(4, 1, 1);
  float weight[] = {1, 10, 100, 1000};  // (2, 2, 1, 1)
  Node conv = unary(GH_OP_CONV2D, x);
  conv.groups = 2;
  conv.out_features = 2;
  conv.params[0] = add_param("w", 4, (int[]){2, 2, 1, 1}, weight);
  graph_add_node(g, conv);
  float in[] = {1, 2, 3, 4};
  float want[] = {1 * 1 + 10 * 2, 100 * 3 + 1000 * 4};
  expect_output("grouped conv", in, 2, 1, 1, want);
}

Test(interp, depthwise_conv_with_channel_multiplier) {
  // groups = 2 input channels, 4 outputs: outputs 0,1 read input 0 and
  // outputs 2,3 read input 1, each with its own 2x2 filter (no padding).
  int x = add_input(2, 2, 2);
  float weight[] = {1, 0, 0, 0,   // top-left of input 0
                    0, 0, 0, 1,   // bottom-right of input 0
                    1, 1, 1, 1,   // sum of input 1
                    0, 1, 0, -1}; // top-right minus bottom-right of input 1
  Node conv = unary(GH_OP_CONV2D, x);
  conv.kh = conv.kw = 2;
  conv.groups = 2;
  conv.out_features = 4;
  conv.params[0] = add_param("w", 4, (int[]){4, 1, 2, 2}, weight);
  graph_add_node(g, conv);
  float in[] = {1, 2, 3, 4, 5, 6, 7, 8};
  float want[] = {1, 4, 5 + 6 + 7 + 8, 6 - 8};
  expect_output("depthwise conv", in, 4, 1, 1, want);
}

Test(interp, batchnorm) {
  // eps 1 makes the standard deviations exact: sqrt(3 + 1) = 2, sqrt(0 + 1) = 1.
  int x = add_input(2, 1, 2);
  Node bn = unary(GH_OP_BATCHNORM, x);
  bn.eps = 1;
  bn.params[0] = add_param("gamma", 1, (int[]){2}, (float[]){2, 0.5f});
  bn.params[1] = add_param("beta", 1, (int[]){2}, (float[]){1, -1});
  bn.params[2] = add_param("mean", 1, (int[]){2}, (float[]){1, 0});
  bn.params[3] = add_param("var", 1, (int[]){2}, (float[]){3, 0});
  graph_add_node(g, bn);
  float in[] = {5, -3, 2, 4};
  float want[] = {2 * (5 - 1) / 2.0f + 1, 2 * (-3 - 1) / 2.0f + 1,
                  0.5f * 2 - 1, 0.5f * 4 - 1};
  expect_output("batchnorm", in, 2, 1, 2, want);
}

// Every activation at -4, -1, 0, 1, 3, 7.
static const struct {
  Act act;
  float want[6];
} activation_cases[] = {
    {GH_ACT_NONE, {-4, -1, 0, 1, 3, 7}},
    {GH_ACT_RELU, {0, 0, 0, 1, 3, 7}},
    {GH_ACT_RELU6, {0, 0, 0, 1, 3, 6}},
    // relu6(x + 3) / 6
    {GH_ACT_HARD_SIGMOID, {0, 2 / 6.0f, 3 / 6.0f, 4 / 6.0f, 1, 1}},
    // x * relu6(x + 3) / 6
    {GH_ACT_HARD_SWISH, {0, -2 / 6.0f, 0, 4 / 6.0f, 3, 7}},
};
static const float activation_inputs[] = {-4, -1, 0, 1, 3, 7};

Test(interp, activation_node) {
  for (size_t k = 0; k < sizeof activation_cases / sizeof *activation_cases;
       k++) {
    fresh_graph();
    Node act = unary(GH_OP_ACTIVATION, add_input(1, 1, 6));
    act.act = activation_cases[k].act;
    graph_add_node(g, act);
    expect_output(act_names[act.act], activation_inputs, 1, 1, 6,
                  activation_cases[k].want);
  }
}

Test(interp, activation_epilogue_of_conv_follows_bias) {
  // 2x - 1 maps these inputs onto -4 -1 0 1 3 7; applying the activation
  // before the bias would give different results.
  float in[] = {-1.5f, 0, 0.5f, 1, 2, 4};
  for (size_t k = 0; k < sizeof activation_cases / sizeof *activation_cases;
       k++) {
    fresh_graph();
    Node conv = unary(GH_OP_CONV2D, add_input(1, 1, 6));
    conv.out_features = 1;
    conv.params[0] = add_param("w", 4, (int[]){1, 1, 1, 1}, (float[]){2});
    conv.params[1] = add_param("b", 1, (int[]){1}, (float[]){-1});
    conv.act = activation_cases[k].act;
    graph_add_node(g, conv);
    expect_output(act_names[conv.act], in, 1, 1, 6, activation_cases[k].want);
  }
}

Test(interp, add) {
  // x + relu6(x): the two operands differ, so swapping or doubling one shows.
  int x = add_input(2, 1, 2);
  Node clip = unary(GH_OP_ACTIVATION, x);
  clip.act = GH_ACT_RELU6;
  int clipped = graph_add_node(g, clip);
  graph_add_node(g, binary(GH_OP_ADD, x, clipped));
  float in[] = {-4, -1, 0.5f, 7};
  float want[] = {-4 + 0, -1 + 0, 0.5f + 0.5f, 7 + 6};
  expect_output("add", in, 2, 1, 2, want);
}

Test(interp, mul_broadcasts_gate_per_channel) {
  // The squeeze-excitation pattern: x * global_avgpool(x).
  int x = add_input(2, 2, 2);
  int gate = graph_add_node(g, unary(GH_OP_GLOBAL_AVGPOOL, x));
  graph_add_node(g, binary(GH_OP_MUL, x, gate));
  float in[] = {1, 2, 3, 4,   // mean 2.5
                2, 2, 4, 0};  // mean 2
  float want[] = {2.5f, 5, 7.5f, 10, 4, 4, 8, 0};
  expect_output("mul", in, 2, 2, 2, want);
}

Test(interp, concat_in_input_order) {
  // concat(x[1:2], x): the slice comes first.
  int x = add_input(2, 1, 2);
  Node slice = unary(GH_OP_SLICE, x);
  slice.begin = 1;
  slice.end = 2;
  int second = graph_add_node(g, slice);
  graph_add_node(g, binary(GH_OP_CONCAT, second, x));
  float in[] = {1, 2, 3, 4};
  float want[] = {3, 4, 1, 2, 3, 4};
  expect_output("concat", in, 3, 1, 2, want);
}

Test(interp, slice) {
  int x = add_input(4, 1, 2);
  Node slice = unary(GH_OP_SLICE, x);
  slice.begin = 1;
  slice.end = 3;
  graph_add_node(g, slice);
  float in[] = {0, 1, 2, 3, 4, 5, 6, 7};
  float want[] = {2, 3, 4, 5};
  expect_output("slice [1, 3)", in, 2, 1, 2, want);
}

Test(interp, channel_shuffle) {
  // Channel k holds 10k and 10k + 1, so whole channels must move together.
  float in[] = {0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51};
  // groups 2: view (2, 3) transposed reads channels 0 3 1 4 2 5.
  float want2[] = {0, 1, 30, 31, 10, 11, 40, 41, 20, 21, 50, 51};
  // groups 3: view (3, 2) transposed reads channels 0 2 4 1 3 5.
  float want3[] = {0, 1, 20, 21, 40, 41, 10, 11, 30, 31, 50, 51};
  struct {
    int groups;
    const float *want;
    const char *what;
  } cases[] = {{2, want2, "shuffle groups 2"}, {3, want3, "shuffle groups 3"}};
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    fresh_graph();
    Node shuffle = unary(GH_OP_SHUFFLE, add_input(6, 1, 2));
    shuffle.groups = cases[k].groups;
    graph_add_node(g, shuffle);
    expect_output(cases[k].what, in, 6, 1, 2, cases[k].want);
  }
}

Test(interp, avgpool_count_include_pad) {
  // 3x3 windows, stride 1, padding 1 over x = 1..9 (row-major 3x3).
  // Window sums:  12 21 16   in-bounds cells:  4 6 4
  //               27 45 33                     6 9 6
  //               24 39 28                     4 6 4
  float in[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  float include_pad[] = {12 / 9.0f, 21 / 9.0f, 16 / 9.0f,
                         27 / 9.0f, 45 / 9.0f, 33 / 9.0f,
                         24 / 9.0f, 39 / 9.0f, 28 / 9.0f};
  float exclude_pad[] = {12 / 4.0f, 21 / 6.0f, 16 / 4.0f,
                         27 / 6.0f, 45 / 9.0f, 33 / 6.0f,
                         24 / 4.0f, 39 / 6.0f, 28 / 4.0f};
  struct {
    bool count_include_pad;
    const float *want;
    const char *what;
  } cases[] = {{true, include_pad, "avgpool count_include_pad"},
               {false, exclude_pad, "avgpool !count_include_pad"}};
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    fresh_graph();
    Node pool = unary(GH_OP_AVGPOOL, add_input(1, 3, 3));
    pool.kh = pool.kw = 3;
    pool.pad_h = pool.pad_w = 1;
    pool.count_include_pad = cases[k].count_include_pad;
    graph_add_node(g, pool);
    expect_output(cases[k].what, in, 1, 3, 3, cases[k].want);
  }
}

Test(interp, avgpool_stride_2) {
  // 2x2 windows at stride 2 over a 2x4 map: the means of [1 2;5 6], [3 4;7 8].
  Node pool = unary(GH_OP_AVGPOOL, add_input(1, 2, 4));
  pool.kh = pool.kw = 2;
  pool.stride_h = pool.stride_w = 2;
  graph_add_node(g, pool);
  float in[] = {1, 2, 3, 4, 5, 6, 7, 8};
  float want[] = {14 / 4.0f, 22 / 4.0f};
  expect_output("avgpool stride 2", in, 1, 1, 2, want);
}

Test(interp, maxpool_ignores_padding) {
  // 2x2 windows, stride 2, padding 1 over 3x3 maps start at (-1,-1) (-1,1)
  // (1,-1) (1,1) and see cells {0} {1,2} {3,6} {4,5,7,8} (row-major).
  // Channel 0 is all negative, so a zero from the padding would win.
  Node pool = unary(GH_OP_MAXPOOL, add_input(2, 3, 3));
  pool.kh = pool.kw = 2;
  pool.stride_h = pool.stride_w = 2;
  pool.pad_h = pool.pad_w = 1;
  graph_add_node(g, pool);
  float in[] = {-1, -2, -3, -4, -5, -6, -7, -8, -9,
                1, 2, 3, 4, 5, 6, 7, 8, 9};
  float want[] = {-1, -2, -4, -5, 1, 3, 7, 9};
  expect_output("maxpool", in, 2, 2, 2, want);
}

Test(interp, global_avgpool) {
  Node pool = unary(GH_OP_GLOBAL_AVGPOOL, add_input(2, 2, 3));
  graph_add_node(g, pool);
  float in[] = {1, 2, 3, 4, 5, 6,         // mean 21 / 6
                -1, -1, -1, -1, -1, 5};  // mean 0
  float want[] = {3.5f, 0};
  expect_output("global_avgpool", in, 2, 1, 1, want);
}

Test(interp, linear_with_bias) {
  Node fc = unary(GH_OP_LINEAR, add_input(3, 1, 1));
  fc.out_features = 2;
  float weight[] = {1, 0, -1,         // x0 - x2
                    0.5f, 0.5f, 0.5f};  // half the sum
  fc.params[0] = add_param("w", 2, (int[]){2, 3}, weight);
  fc.params[1] = add_param("b", 1, (int[]){2}, (float[]){10, -1});
  graph_add_node(g, fc);
  float in[] = {1, 2, 3};
  float want[] = {1 - 3 + 10, 3 - 1};
  expect_output("linear", in, 2, 1, 1, want);
}

Test(interp, linear_without_bias) {
  Node fc = unary(GH_OP_LINEAR, add_input(2, 1, 1));
  fc.out_features = 1;
  fc.params[0] = add_param("w", 2, (int[]){1, 2}, (float[]){3, -2});
  graph_add_node(g, fc);
  float in[] = {5, 4};
  float want[] = {3 * 5 - 2 * 4};
  expect_output("linear", in, 1, 1, 1, want);
}

Test(interp, flatten_keeps_memory_order) {
  graph_add_node(g, unary(GH_OP_FLATTEN, add_input(2, 2, 2)));
  float in[] = {0, 1, 2, 3, 4, 5, 6, 7};
  expect_output("flatten", in, 8, 1, 1, in);
}

Test(interp, unbound_parameter_is_a_compiler_bug, .signal = SIGABRT) {
  Node conv = unary(GH_OP_CONV2D, add_input(1, 1, 1));
  conv.out_features = 1;
  conv.params[0] = graph_add_param(g, "w", 4, (int[]){1, 1, 1, 1}, nowhere);
  graph_add_node(g, conv);
  interp_run(g, (float[]){1}, &arena);
}

// ---- fused prologues and epilogues (see Node in ir/ir.h) ----

// Adds `value` as an extra input of n and returns its index in n->in.
static int extra_input(Node *n, int value) {
  n->in[n->n_in] = value;
  return n->n_in++;
}

// A 1x1 conv of c channels with the identity as weight: its output is its
// input as the conv reads it, prologue included.
static Node identity_conv(int from, int c) {
  Node conv = unary(GH_OP_CONV2D, from);
  conv.out_features = c;
  float *weight = arena_array(&arena, (size_t)c * c, sizeof(float));
  for (int i = 0; i < c; i++)
    weight[i * c + i] = 1;
  conv.params[0] = add_param("w", 4, (int[]){c, c, 1, 1}, weight);
  return conv;
}

Test(interp, conv_in_shuffle_reads_shuffled_channels) {
  // The channel_shuffle test's permutations, done by the conv's prologue.
  float in[] = {0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51};
  // groups 2: channel c reads (c % 2) * 3 + c / 2: 0 3 1 4 2 5.
  float want2[] = {0, 1, 30, 31, 10, 11, 40, 41, 20, 21, 50, 51};
  // groups 3: channel c reads (c % 3) * 2 + c / 3: 0 2 4 1 3 5.
  float want3[] = {0, 1, 20, 21, 40, 41, 10, 11, 30, 31, 50, 51};
  // groups 6 and 1: the identity.
  struct {
    int groups;
    const float *want;
    const char *what;
  } cases[] = {{2, want2, "in_shuffle 2"},
               {3, want3, "in_shuffle 3"},
               {6, in, "in_shuffle 6"},
               {1, in, "in_shuffle 1"}};
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    fresh_graph();
    Node conv = identity_conv(add_input(6, 1, 2), 6);
    conv.in_shuffle = cases[k].groups;
    graph_add_node(g, conv);
    expect_output(cases[k].what, in, 6, 1, 2, cases[k].want);
  }
}

Test(interp, conv_in_shuffle_feeds_a_grouped_conv) {
  // 4 channels x = 1 10 100 1000, in_shuffle 2 reads 0 2 1 3: the conv sees
  // 1 100 10 1000. Groups 2: output 0 = 1*1 + 2*100, output 1 = 3*10 + 4*1000.
  Node conv = unary(GH_OP_CONV2D, add_input(4, 1, 1));
  conv.groups = 2;
  conv.out_features = 2;
  conv.in_shuffle = 2;
  conv.params[0] = add_param("w", 4, (int[]){2, 2, 1, 1},
                             (float[]){1, 2, 3, 4});
  graph_add_node(g, conv);
  float in[] = {1, 10, 100, 1000};
  float want[] = {1 + 200, 30 + 4000};
  expect_output("grouped conv with in_shuffle", in, 2, 1, 1, want);
}

// x (4, 1, 2) whose channel means 2 5 8 11 serve as an input scale.
static float scale_source[] = {1, 3, 4, 6, 7, 9, 10, 12};

Test(interp, conv_in_scale_scales_input_channels) {
  // Channel c of the conv's input is x[c] * mean(x[c]).
  int x = add_input(4, 1, 2);
  int gate = graph_add_node(g, unary(GH_OP_GLOBAL_AVGPOOL, x));
  Node conv = identity_conv(x, 4);
  conv.in_scale = extra_input(&conv, gate);
  graph_add_node(g, conv);
  float want[] = {1 * 2, 3 * 2, 4 * 5, 6 * 5, 7 * 8, 9 * 8, 10 * 11, 12 * 11};
  expect_output("in_scale", scale_source, 4, 1, 2, want);
}

Test(interp, conv_in_scale_applies_after_the_shuffle) {
  // in_shuffle 2 reads channels 0 2 1 3; the scale is indexed by the conv's
  // input channel, so channel 1 is x[2] * 5 (not * 8), channel 2 x[1] * 8.
  int x = add_input(4, 1, 2);
  int gate = graph_add_node(g, unary(GH_OP_GLOBAL_AVGPOOL, x));
  Node conv = identity_conv(x, 4);
  conv.in_shuffle = 2;
  conv.in_scale = extra_input(&conv, gate);
  graph_add_node(g, conv);
  float want[] = {1 * 2, 3 * 2, 7 * 5, 9 * 5, 4 * 8, 6 * 8, 10 * 11, 12 * 11};
  expect_output("in_shuffle then in_scale", scale_source, 4, 1, 2, want);
}

Test(interp, conv_in_scale_leaves_padding_zero) {
  // A 1x3 kernel of ones over 1x2 maps padded by 1, scale 3: the sums of
  // the scaled neighbours, with the padding still adding nothing.
  int x = add_input(1, 1, 2);
  int gate = graph_add_node(g, unary(GH_OP_GLOBAL_AVGPOOL, x));  // mean 3
  Node conv = unary(GH_OP_CONV2D, x);
  conv.kw = 3;
  conv.pad_w = 1;
  conv.out_features = 1;
  conv.params[0] = add_param("w", 4, (int[]){1, 1, 1, 3},
                             (float[]){1, 1, 1});
  conv.params[1] = add_param("b", 1, (int[]){1}, (float[]){0.5f});
  conv.in_scale = extra_input(&conv, gate);
  graph_add_node(g, conv);
  float in[] = {2, 4};
  float want[] = {3 * (2 + 4) + 0.5f, 3 * (2 + 4) + 0.5f};
  expect_output("in_scale with padding", in, 1, 1, 2, want);
}

Test(interp, conv_residual_is_added_before_act) {
  // y = relu(-3x + 1 + x) = relu(1 - 2x): x = 1 -2 3 gives relu(-1 5 -5)
  // = 0 5 0. Relu before the residual, relu(1 - 3x) + x, would give 1 5 3.
  int x = add_input(1, 1, 3);
  Node conv = unary(GH_OP_CONV2D, x);
  conv.out_features = 1;
  conv.act = GH_ACT_RELU;
  conv.params[0] = add_param("w", 4, (int[]){1, 1, 1, 1}, (float[]){-3});
  conv.params[1] = add_param("b", 1, (int[]){1}, (float[]){1});
  conv.residual = extra_input(&conv, x);
  graph_add_node(g, conv);
  float in[] = {1, -2, 3};
  float want[] = {0, 5, 0};
  expect_output("conv residual + relu", in, 1, 1, 3, want);
}

Test(interp, conv_residual_from_another_value) {
  // y = 2x + relu6(x), with act none: the residual is in[1], not the input.
  int x = add_input(1, 1, 3);
  Node clip = unary(GH_OP_ACTIVATION, x);
  clip.act = GH_ACT_RELU6;
  int clipped = graph_add_node(g, clip);
  Node conv = unary(GH_OP_CONV2D, x);
  conv.out_features = 1;
  conv.params[0] = add_param("w", 4, (int[]){1, 1, 1, 1}, (float[]){2});
  conv.residual = extra_input(&conv, clipped);
  graph_add_node(g, conv);
  float in[] = {-1, 2, 8};
  float want[] = {-2 + 0, 4 + 2, 16 + 6};
  expect_output("conv residual", in, 1, 1, 3, want);
}

Test(interp, conv_with_shuffle_scale_and_residual) {
  // All three on a 1x1 conv: y = relu(W (x[0 2 1 3] * mean) + x).
  // Shuffled and scaled: 2 6 | 35 45 | 32 48 | 110 132.
  // W: out 0 = ch 0 - ch 1 = -33 -39, + x[0] = -32 -36, relu 0 0;
  //    out 1 = ch 2 = 32 48, + x[1] = 36 54; out 2 = 0 + x[2] = 7 9;
  //    out 3 = ch 3 - ch 2 = 78 84, + x[3] = 88 96.
  int x = add_input(4, 1, 2);
  int gate = graph_add_node(g, unary(GH_OP_GLOBAL_AVGPOOL, x));
  Node conv = unary(GH_OP_CONV2D, x);
  conv.out_features = 4;
  conv.act = GH_ACT_RELU;
  conv.in_shuffle = 2;
  float weight[] = {1, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, -1, 1};
  conv.params[0] = add_param("w", 4, (int[]){4, 4, 1, 1}, weight);
  conv.in_scale = extra_input(&conv, gate);
  conv.residual = extra_input(&conv, x);
  graph_add_node(g, conv);
  float want[] = {0, 0, 36, 54, 7, 9, 88, 96};
  expect_output("conv with every extra", scale_source, 4, 1, 2, want);
}

Test(interp, linear_residual_is_added_before_act) {
  // y = relu(W x + b + x): W = [1 1; -1 0], b = 0 -1, x = 2 -3.
  // W x + b = -1 -3, + x = 1 -6, relu 1 0 (relu first: 0 + 2, 0 - 3).
  int x = add_input(2, 1, 1);
  Node fc = unary(GH_OP_LINEAR, x);
  fc.out_features = 2;
  fc.act = GH_ACT_RELU;
  fc.params[0] = add_param("w", 2, (int[]){2, 2}, (float[]){1, 1, -1, 0});
  fc.params[1] = add_param("b", 1, (int[]){2}, (float[]){0, -1});
  fc.residual = extra_input(&fc, x);
  graph_add_node(g, fc);
  float in[] = {2, -3};
  float want[] = {1, 0};
  expect_output("linear residual + relu", in, 2, 1, 1, want);
}

// ---- ghost_module ----

// A ghost_module node reading `from` with P primary maps, `mult` cheap maps
// each, out channels and a d x d cheap kernel; weights are given row-major
// (primary (P, I, kh, kw), cheap (out - P, 1, d, d)), biases may be NULL.
// Extra inputs and kernel geometry are the caller's, before add_ghost.
static Node ghost_node(int from, int primary, int mult, int out, int d) {
  Node ghost = unary(GH_OP_GHOST, from);
  ghost.ghost_primary = primary;
  ghost.ghost_mult = mult;
  ghost.ghost_dw = d;
  ghost.out_features = out;
  return ghost;
}

// Adds the node, then its parameters with the dims param_shape asks for.
static void add_ghost(Node ghost, const float *w0, const float *b1,
                      const float *w2, const float *b3) {
  int out = graph_add_node(g, ghost);
  Node *n = &g->nodes[g->values[out].producer];
  const float *data[4] = {w0, b1, w2, b3};
  static const char *const keys[4] = {"primary.w", "primary.b", "cheap.w",
                                      "cheap.b"};
  for (int slot = 0; slot < 4; slot++) {
    int ndim, dims[4];
    if (data[slot] && param_shape(g, n, slot, &ndim, dims))
      n->params[slot] = add_param(keys[slot], ndim, dims, data[slot]);
  }
  graph_verify(g);
}

Test(interp, ghost_ratio_2_inner_act_and_act) {
  // x (2, 1, 3): x0 = 1 2 3, x1 = 2 0 4. Primary 1x1, P = 2:
  //   p0 = x0 + x1 + 1 = 4 3 8, p1 = x0 - x1 = -1 2 -1.
  // Cheap 3x3, padding 1 (on a 1-row map only the middle kernel row sees
  // data; the 5s in the top row must land in the padding):
  //   c0[x] = p0[x-1] - 3.5, c1[x] = 2 p1[x] + p1[x+1] + 0.5.
  float w0[] = {1, 1, 1, -1}, b1[] = {1, 0};
  float w2[] = {5, 5, 5, 1, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 2, 1, 5, 5, 5};
  float b3[] = {-3.5f, 0.5f};
  float in[] = {1, 2, 3, 2, 0, 4};
  // inner_act relu: p = 4 3 8 | 0 2 0; c0 = -3.5 0.5 -0.5 -> 0 0.5 0;
  // c1 = 2.5 4.5 0.5.
  float want_inner[] = {4, 3, 8, 0, 2, 0, 0, 0.5f, 0, 2.5f, 4.5f, 0.5f};
  // act relu only: c1 = 0.5 3.5 -1.5 from the unclipped p1, then relu all.
  float want_outer[] = {4, 3, 8, 0, 2, 0, 0, 0.5f, 0, 0.5f, 3.5f, 0};
  struct {
    Act inner, act;
    const float *want;
    const char *what;
  } cases[] = {
      {GH_ACT_RELU, GH_ACT_NONE, want_inner, "ghost inner_act relu"},
      {GH_ACT_NONE, GH_ACT_RELU, want_outer, "ghost act relu"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    fresh_graph();
    Node ghost = ghost_node(add_input(2, 1, 3), 2, 1, 4, 3);
    ghost.inner_act = cases[k].inner;
    ghost.act = cases[k].act;
    add_ghost(ghost, w0, b1, w2, b3);
    expect_output(cases[k].what, in, 4, 1, 3, cases[k].want);
  }
}

Test(interp, ghost_ratio_3_truncated_cheap_maps) {
  // x = 2 (1x1x1); primary P = 2: p = 2 -2. Cheap 3x3 over a 1x1 map: only
  // the centre tap (7s elsewhere fall in the padding). Cheap channel j reads
  // p[j / 2]: c = 10 p0, 100 p0, 1000 p1, 10000 p1, cut to out - 2 maps.
  float w0[] = {1, -1};
  float w2[4 * 9];
  float centres[] = {10, 100, 1000, 10000};
  for (int j = 0; j < 4; j++)
    for (int t = 0; t < 9; t++)
      w2[j * 9 + t] = t == 4 ? centres[j] : 7;
  float want[] = {2, -2, 20, 200, -2000, -20000};
  float in[] = {2};
  for (int out = 2; out <= 6; out++) {
    fresh_graph();
    // Rows are outermost, so w2's first out - 2 rows are the cut weight.
    add_ghost(ghost_node(add_input(1, 1, 1), 2, 2, out, 3), w0, NULL,
              out > 2 ? w2 : NULL, NULL);
    char what[40];
    snprintf(what, sizeof what, "ghost ratio 3, %d channels", out);
    expect_output(what, in, out, 1, 1, want);
  }
}

Test(interp, ghost_primary_geometry_and_2d_cheap_conv) {
  // Primary: 3x3 ones, stride 2, padding 1 over x = 1..9 (3x3): the window
  // sums 12 16 | 24 28. Cheap 3x3, stride 1, padding 1 on that 2x2 map:
  // c(y, x) = p(y, x+1) + 0.5 p(y+1, x) = 16 + 12, 0 + 14 | 28 + 0, 0.
  float w0[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  float w2[9] = {0, 0, 0, 0, 0, 1, 0, 0.5f, 0};
  Node ghost = ghost_node(add_input(1, 3, 3), 1, 1, 2, 3);
  ghost.kh = ghost.kw = 3;
  ghost.stride_h = ghost.stride_w = 2;
  ghost.pad_h = ghost.pad_w = 1;
  add_ghost(ghost, w0, NULL, w2, NULL);
  float in[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  float want[] = {12, 16, 24, 28, 28, 14, 28, 0};
  expect_output("ghost primary geometry", in, 2, 2, 2, want);
}

Test(interp, ghost_with_prologue_and_residual) {
  // x (4, 1, 2) = scale_source, in_shuffle 2, in_scale = channel means:
  // the primary reads 2 6 | 35 45 | 32 48 | 110 132 (as in the conv test).
  // Primary 1x1, P = 2: p0 = ch 1 = 35 45, p1 = ch 2 - ch 0 = 30 42.
  // Cheap 1x1: c0 = p0 = 35 45, c1 = -p1 = -30 -42.
  // + residual x: 36 48 | 34 48 | 42 54 | -20 -30; relu: the last is 0 0
  // (relu before the residual would give 10 12).
  int x = add_input(4, 1, 2);
  int gate = graph_add_node(g, unary(GH_OP_GLOBAL_AVGPOOL, x));
  Node ghost = ghost_node(x, 2, 1, 4, 1);
  ghost.act = GH_ACT_RELU;
  ghost.in_shuffle = 2;
  ghost.in_scale = extra_input(&ghost, gate);
  ghost.residual = extra_input(&ghost, x);
  float w0[] = {0, 1, 0, 0, -1, 0, 1, 0};
  float w2[] = {1, -1};
  add_ghost(ghost, w0, NULL, w2, NULL);
  float want[] = {36, 48, 34, 48, 42, 54, 0, 0};
  expect_output("ghost with prologue and residual", scale_source, 4, 1, 2,
                want);
}
