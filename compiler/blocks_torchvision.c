// Composite blocks of torchvision's mobile networks: each expands into the
// primitive ops, with the state_dict names, of the torchvision module it
// mirrors (torchvision.ops.Conv2dNormActivation, the InvertedResidual blocks
// of MobileNetV2, MobileNetV3 and ShuffleNetV2). A checkpoint saved from
// torchvision.models loads without renaming.
#include "lower.h"

#include <math.h>
#include <string.h>

// torchvision.ops.Conv2dNormActivation: NAME.0 conv (no bias, "same"
// padding (kernel - 1) / 2), NAME.1 BatchNorm, then the activation (NAME.2,
// no parameters).
static int lower_conv_norm_act(Lower *L, SrcLoc loc, const char *name, int x,
                               int out, int kernel, int stride, int groups,
                               Act act, float eps) {
  int y = emit_conv(L, loc, join(L, name, "0"), x, out, kernel, stride,
                    (kernel - 1) / 2, groups, false);
  y = emit_batchnorm(L, loc, join(L, name, "1"), y, eps);
  if (act != GH_ACT_NONE)
    y = emit_activation(L, loc, y, act);
  return y;
}

// MobileNetV2's InvertedResidual: 1x1 expansion to round(in * expand)
// channels (omitted when expand is 1), 3x3 depthwise conv with the stride,
// both with ReLU6, then a linear 1x1 projection; x + that when the shape is
// kept. Names: NAME.conv.0 (expansion: .0.0 conv, .0.1 BN), NAME.conv.1
// (depthwise), NAME.conv.2 (projection conv), NAME.conv.3 (its BN); without
// the expansion every index is one lower.
static int lower_inverted_residual(Lower *L, SrcLoc loc, const char *name,
                                   int x, double expand, int out, int stride,
                                   int kernel, Act act) {
  int in = channels_of(L, x);
  // Python's round(): half to even, as nearbyint in the default mode.
  double hidden_d = nearbyint(in * expand);
  if (hidden_d < 1 || hidden_d > (1 << 20))
    gh_error_at(loc, "expansion %g of %d channels gives %g channels", expand,
                in, hidden_d);
  int hidden = (int)hidden_d;
  const char *conv = join(L, name, "conv");
  int k = 0;
  int h = x;
  if (expand != 1)
    h = lower_conv_norm_act(L, loc, arena_printf(L->g->arena, "%s.%d", conv,
                                                 k++),
                            h, hidden, 1, 1, 1, act, 1e-5f);
  else
    hidden = in;
  h = lower_conv_norm_act(L, loc, arena_printf(L->g->arena, "%s.%d", conv, k++),
                          h, hidden, kernel, stride, hidden, act, 1e-5f);
  h = emit_conv(L, loc, arena_printf(L->g->arena, "%s.%d", conv, k++), h, out,
                1, 1, 0, 1, false);
  h = emit_batchnorm(L, loc, arena_printf(L->g->arena, "%s.%d", conv, k++), h,
                     1e-5f);
  if (stride == 1 && in == out)
    h = emit_binary(L, GH_OP_ADD, loc, name, x, h);
  return h;
}

// torchvision.ops.SqueezeExcitation as MobileNetV3 uses it: global pool,
// fc1 (1x1 conv + bias) + ReLU, fc2 (1x1 conv + bias), hard sigmoid, scale.
static int lower_tv_squeeze_excitation(Lower *L, SrcLoc loc, const char *name,
                                       int x, int squeeze) {
  int c = channels_of(L, x);
  int s = emit_unary(L, GH_OP_GLOBAL_AVGPOOL, loc, join(L, name, "avgpool"),
                     x);
  s = emit_conv(L, loc, join(L, name, "fc1"), s, squeeze, 1, 1, 0, 1, true);
  s = emit_activation(L, loc, s, GH_ACT_RELU);
  s = emit_conv(L, loc, join(L, name, "fc2"), s, c, 1, 1, 0, 1, true);
  s = emit_activation(L, loc, s, GH_ACT_HARD_SIGMOID);
  return emit_binary(L, GH_OP_MUL, loc, name, x, s);
}

// MobileNetV3's InvertedResidual (the paper's bneck): 1x1 expansion to `exp`
// channels (omitted when exp equals the input channels), kxk depthwise conv
// with the stride, both with `act`; optional squeeze-and-excitation with
// make_divisible(exp / 4, 8) channels; linear 1x1 projection; x + that when
// the shape is kept. Names: NAME.block.K for K = 0, 1, ... over the parts
// present (Conv2dNormActivation: .K.0 conv, .K.1 BN; SE: .K.fc1, .K.fc2).
static int lower_mobilenet_v3_block(Lower *L, SrcLoc loc, const char *name,
                                    int x, int kernel, int exp, int out,
                                    bool se, Act act, int stride, float eps) {
  int in = channels_of(L, x);
  const char *block = join(L, name, "block");
  int k = 0;
  int h = x;
  if (exp != in)
    h = lower_conv_norm_act(L, loc,
                            arena_printf(L->g->arena, "%s.%d", block, k++), h,
                            exp, 1, 1, 1, act, eps);
  h = lower_conv_norm_act(L, loc, arena_printf(L->g->arena, "%s.%d", block, k++),
                          h, exp, kernel, stride, exp, act, eps);
  if (se)
    h = lower_tv_squeeze_excitation(
        L, loc, arena_printf(L->g->arena, "%s.%d", block, k++), h,
        make_divisible(exp / 4, 8));
  h = lower_conv_norm_act(L, loc, arena_printf(L->g->arena, "%s.%d", block, k++),
                          h, out, 1, 1, 1, GH_ACT_NONE, eps);
  if (stride == 1 && in == out)
    h = emit_binary(L, GH_OP_ADD, loc, name, x, h);
  return h;
}

// ShuffleNetV2's InvertedResidual, out/2 channels per branch:
//   stride 1: x splits into halves x1, x2 (x.chunk(2)); cat(x1, branch2(x2))
//   stride 2: cat(branch1(x), branch2(x))
// then a channel shuffle with 2 groups. branch1 = 3x3 depthwise stride conv
// (.0) + BN (.1), 1x1 conv (.2) + BN (.3) + ReLU; branch2 = 1x1 conv (.0) +
// BN (.1) + ReLU, 3x3 depthwise stride conv (.3) + BN (.4), 1x1 conv (.5) +
// BN (.6) + ReLU.
static int lower_shufflenet_v2_unit(Lower *L, SrcLoc loc, const char *name,
                                    int x, int out, int stride) {
  int in = channels_of(L, x);
  int half = out / 2;
  if (out % 2)
    gh_error_at(loc, "a ShuffleNetV2 unit needs an even out, got %d", out);
  if (stride == 1 && in != out)
    gh_error_at(loc, "a stride-1 unit keeps its width: out (%d) must equal "
                "the input channels (%d)", out, in);
  int left, right;
  if (stride == 1) {
    left = emit_slice(L, loc, join(L, name, "chunk0"), x, 0, half);
    right = emit_slice(L, loc, join(L, name, "chunk1"), x, half, in);
  } else {
    const char *b1 = join(L, name, "branch1");
    left = emit_conv(L, loc, join(L, b1, "0"), x, in, 3, stride, 1, in, false);
    left = emit_batchnorm(L, loc, join(L, b1, "1"), left, 1e-5f);
    left = emit_conv(L, loc, join(L, b1, "2"), left, half, 1, 1, 0, 1, false);
    left = emit_batchnorm(L, loc, join(L, b1, "3"), left, 1e-5f);
    left = emit_activation(L, loc, left, GH_ACT_RELU);
    right = x;
  }
  const char *b2 = join(L, name, "branch2");
  right = emit_conv(L, loc, join(L, b2, "0"), right, half, 1, 1, 0, 1, false);
  right = emit_batchnorm(L, loc, join(L, b2, "1"), right, 1e-5f);
  right = emit_activation(L, loc, right, GH_ACT_RELU);
  right = emit_conv(L, loc, join(L, b2, "3"), right, half, 3, stride, 1, half,
                    false);
  right = emit_batchnorm(L, loc, join(L, b2, "4"), right, 1e-5f);
  right = emit_conv(L, loc, join(L, b2, "5"), right, half, 1, 1, 0, 1, false);
  right = emit_batchnorm(L, loc, join(L, b2, "6"), right, 1e-5f);
  right = emit_activation(L, loc, right, GH_ACT_RELU);
  Node cat = node_init(GH_OP_CONCAT, name, loc);
  cat.in[0] = left;
  cat.in[1] = right;
  cat.n_in = 2;
  int y = emit(L, cat, NULL, 0);
  Node shuffle = node_init(GH_OP_SHUFFLE, join(L, name, "shuffle"), loc);
  shuffle.in[0] = y;
  shuffle.n_in = 1;
  shuffle.groups = 2;
  return emit(L, shuffle, NULL, 0);
}

//
// Layer functions: the fields of each block
//

static float eps_field(const Lower *L, Fields *f, double def) {
  double eps = number_field(L, f, "eps", def);
  if (!(eps > 0))
    gh_error_at(find_field(f, "eps")->loc, "eps must be positive, got %g",
                eps);
  return (float)eps;
}

static Act act_field(const Lower *L, Fields *f, Act def) {
  Field *x = find_field(f, "act");
  return x ? act_by_name(L, x) : def;
}

static int stride_field(const Lower *L, Fields *f) {
  int stride = positive_field(L, f, "stride", 1);
  if (stride > 2)
    gh_error_at(find_field(f, "stride")->loc, "stride must be 1 or 2, got %d",
                stride);
  return stride;
}

// conv_norm_act: out (or expand: out = expand * input channels, unscaled),
// kernel (3), stride (1), groups (1), depthwise (false), act (relu), eps
// (1e-5), scale (true).
void lower_conv_norm_act_layer(Lower *L, Fields *f, const LayerIO *io) {
  int x = single_input(L, f, io);
  int in = channels_of(L, x);
  int kernel = positive_field(L, f, "kernel", 3);
  int stride = positive_field(L, f, "stride", 1);
  int groups = positive_field(L, f, "groups", 1);
  if (bool_field(L, f, "depthwise", false))
    groups = in;
  bool scale = bool_field(L, f, "scale", true);
  Field *expand = find_field(f, "expand");
  int out;
  if (expand) {
    if (find_field(f, "out"))
      gh_error_at(expand->key_loc, "give either out or expand, not both");
    int times = positive_field(L, f, "expand", 1);
    if ((double)times * in > (1 << 20))
      gh_error_at(expand->loc, "expand %d of %d channels is too many", times,
                  in);
    out = times * in;
  } else if (groups == in && groups > 1 && !find_field(f, "out")) {
    out = in;  // depthwise: out defaults to the input channels
  } else {
    out = channels_field(L, f, "out", scale);
  }
  lower_conv_norm_act(L, f->loc, need_name(f, io), x, out, kernel, stride,
                      groups, act_field(L, f, GH_ACT_RELU),
                      eps_field(L, f, 1e-5));
}

// inverted_residual (MobileNetV2): expand (the paper's t), out, stride (1),
// kernel (3), act (relu6).
void lower_inverted_residual_layer(Lower *L, Fields *f, const LayerIO *io) {
  int x = single_input(L, f, io);
  Field *e = require_field(f, "expand");
  double expand = number_field(L, f, "expand", 1);
  if (!(expand > 0) || expand > 1024)
    gh_error_at(e->loc, "expand must be in (0, 1024], got %g", expand);
  int out = channels_field(L, f, "out", true);
  int stride = stride_field(L, f);
  int kernel = positive_field(L, f, "kernel", 3);
  Act act = act_field(L, f, GH_ACT_RELU6);
  lower_inverted_residual(L, f->loc, need_name(f, io), x, expand, out, stride,
                          kernel, act);
}

// mobilenet_v3_block: kernel (3), exp, out, se (false), act (relu; the
// paper's RE and HS stand for relu and hard_swish), stride (1), eps (0.001,
// torchvision's MobileNetV3 BatchNorm).
void lower_mobilenet_v3_block_layer(Lower *L, Fields *f, const LayerIO *io) {
  int x = single_input(L, f, io);
  int kernel = positive_field(L, f, "kernel", 3);
  int exp = channels_field(L, f, "exp", true);
  int out = channels_field(L, f, "out", true);
  bool se = bool_field(L, f, "se", false);
  Act act = GH_ACT_RELU;
  Field *a = find_field(f, "act");
  if (a) {
    const char *text = spec_scalar(L->s, a->value, "act");
    if (!strcmp(text, "RE"))
      act = GH_ACT_RELU;
    else if (!strcmp(text, "HS"))
      act = GH_ACT_HARD_SWISH;
    else {
      bool known = false;
      for (int i = 0; i < GH_ACT_COUNT; i++)
        known |= !strcmp(text, act_names[i]);
      if (!known)
        gh_error_at(a->loc, "unknown activation '%s' (RE or relu, HS or "
                    "hard_swish, none, relu6, hard_sigmoid)", text);
      act = act_by_name(L, a);
    }
  }
  int stride = stride_field(L, f);
  float eps = eps_field(L, f, 1e-3);
  lower_mobilenet_v3_block(L, f->loc, need_name(f, io), x, kernel, exp, out,
                           se, act, stride, eps);
}

// shufflenet_v2_unit: out, stride (1), scale (true).
void lower_shufflenet_v2_unit_layer(Lower *L, Fields *f, const LayerIO *io) {
  int x = single_input(L, f, io);
  int out = channels_field(L, f, "out", bool_field(L, f, "scale", true));
  int stride = stride_field(L, f);
  lower_shufflenet_v2_unit(L, f->loc, need_name(f, io), x, out, stride);
}
