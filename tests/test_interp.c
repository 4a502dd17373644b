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
