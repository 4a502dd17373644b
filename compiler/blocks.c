// Composite blocks: each expands into the primitive ops, with the parameter
// names, of the PyTorch module it mirrors. A block is a lowering function
// and a layer function that reads its fields (listed in lowering.c).
#include "lower.h"

#include <math.h>

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

// An ordinary convolution (dense, no bias, "same" padding), or the ghost
// module that replaces it under `ghostify` (Han et al.: Ghost-VGG-16,
// Ghost-ResNet-56): every such conv but the network's first becomes a
// ghost module of the same output width, named after the conv.
int emit_ordinary_conv(Lower *L, SrcLoc loc, const char *name, int x, int out,
                       int kernel, int stride, int pad, int groups,
                       bool bias) {
  bool ordinary = groups == 1 && !bias && pad == kernel / 2;
  if (ordinary && L->s->ghost_ratio && L->ordinary_convs++ > 0)
    return lower_ghost_module(L, loc, name, x, out, L->s->ghost_ratio, kernel,
                              L->s->ghost_dw, stride, false);
  return emit_conv(L, loc, name, x, out, kernel, stride, pad, groups, bias);
}

// ResNet's basic block (torchvision's names): conv1 3x3 (stride), bn1, ReLU,
// conv2 3x3, bn2, plus the input or, when the shape changes, a 1x1 conv and
// BN (downsample.0, downsample.1); ReLU after the sum.
static int lower_basic_block(Lower *L, SrcLoc loc, const char *name, int x,
                             int out, int stride) {
  int in = channels_of(L, x);
  int h = emit_ordinary_conv(L, loc, join(L, name, "conv1"), x, out, 3, stride,
                             1, 1, false);
  h = emit_batchnorm(L, loc, join(L, name, "bn1"), h, 1e-5f);
  h = emit_activation(L, loc, h, GH_ACT_RELU);
  h = emit_ordinary_conv(L, loc, join(L, name, "conv2"), h, out, 3, 1, 1, 1,
                         false);
  h = emit_batchnorm(L, loc, join(L, name, "bn2"), h, 1e-5f);
  int shortcut = x;
  if (stride != 1 || in != out) {
    const char *ds = join(L, name, "downsample");
    shortcut = emit_ordinary_conv(L, loc, join(L, ds, "0"), x, out, 1, stride,
                                  0, 1, false);
    shortcut = emit_batchnorm(L, loc, join(L, ds, "1"), shortcut, 1e-5f);
  }
  int y = emit_binary(L, GH_OP_ADD, loc, name, h, shortcut);
  return emit_activation(L, loc, y, GH_ACT_RELU);
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

// ShuffleNetV1's unit: group 1x1 conv (bn1, ReLU), channel shuffle, 3x3
// depthwise conv (bn2), group 1x1 conv (bn3); stride 1: ReLU(x + branch);
// stride 2: ReLU(concat(avgpool3x3/2(x), branch)) with a branch of out - in
// channels. The bottleneck is out/4. first_groups sets the first conv's
// groups (1 in the network's first unit, which then skips the shuffle).
static int lower_shufflenet_v1_unit(Lower *L, SrcLoc loc, const char *name,
                                    int x, int out, int stride, int groups,
                                    int first_groups) {
  int in = channels_of(L, x);
  int mid = out / 4;
  int branch_out = stride == 2 ? out - in : out;
  if (branch_out < 1)
    gh_error_at(loc, "a stride-2 unit must widen: out (%d) must exceed the "
                "input channels (%d)", out, in);
  if (stride == 1 && in != out)
    gh_error_at(loc, "a stride-1 unit keeps its width: out (%d) must equal "
                "the input channels (%d)", out, in);
  int b = emit_conv(L, loc, join(L, name, "gconv1"), x, mid, 1, 1, 0,
                    first_groups, false);
  b = emit_batchnorm(L, loc, join(L, name, "bn1"), b, 1e-5f);
  b = emit_activation(L, loc, b, GH_ACT_RELU);
  if (first_groups > 1) {
    Node shuffle = node_init(GH_OP_SHUFFLE, join(L, name, "shuffle"), loc);
    shuffle.in[0] = b;
    shuffle.n_in = 1;
    shuffle.groups = groups;
    b = emit(L, shuffle, NULL, 0);
  }
  b = emit_conv(L, loc, join(L, name, "dw"), b, mid, 3, stride, 1, mid, false);
  b = emit_batchnorm(L, loc, join(L, name, "bn2"), b, 1e-5f);
  b = emit_conv(L, loc, join(L, name, "gconv2"), b, branch_out, 1, 1, 0,
                groups, false);
  b = emit_batchnorm(L, loc, join(L, name, "bn3"), b, 1e-5f);
  int y;
  if (stride == 1) {
    y = emit_binary(L, GH_OP_ADD, loc, name, x, b);
  } else {
    Node pool = node_init(GH_OP_AVGPOOL, join(L, name, "shortcut"), loc);
    pool.in[0] = x;
    pool.n_in = 1;
    pool.kh = pool.kw = 3;
    pool.stride_h = pool.stride_w = stride;
    pool.pad_h = pool.pad_w = 1;
    pool.count_include_pad = true;
    int shortcut = emit(L, pool, NULL, 0);
    Node cat = node_init(GH_OP_CONCAT, name, loc);
    cat.in[0] = shortcut;
    cat.in[1] = b;
    cat.n_in = 2;
    y = emit(L, cat, NULL, 0);
  }
  return emit_activation(L, loc, y, GH_ACT_RELU);
}

void lower_ghost_module_layer(Lower *L, Fields *f, const LayerIO *io) {
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

void lower_squeeze_excite_layer(Lower *L, Fields *f,
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

void lower_ghost_bottleneck_layer(Lower *L, Fields *f,
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

void lower_shufflenet_v1_unit_layer(Lower *L, Fields *f,
                                           const LayerIO *io) {
  int x = single_input(L, f, io);
  int out = channels_field(L, f, "out", true);
  int stride = positive_field(L, f, "stride", 1);
  if (stride > 2)
    gh_error_at(find_field(f, "stride")->loc, "stride must be 1 or 2");
  int groups = positive_field(L, f, "groups", 1);
  int first_groups = positive_field(L, f, "first_groups", groups);
  lower_shufflenet_v1_unit(L, f->loc, need_name(f, io), x, out, stride,
                           groups, first_groups);
}


void lower_basic_block_layer(Lower *L, Fields *f, const LayerIO *io) {
  int x = single_input(L, f, io);
  int out = channels_field(L, f, "out", true);
  lower_basic_block(L, f->loc, need_name(f, io), x, out,
                    positive_field(L, f, "stride", 1));
}
