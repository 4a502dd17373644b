// The reference interpreter: the oracle every pass and backend is tested
// against. It favours obvious correctness over speed: one fresh buffer per
// value (and per conv input read through a prologue), plain loops that
// follow each op's definition, and no code shared with runtime/, so a bug in
// a kernel cannot hide by being copied here.
//
// Sums (convolution, linear, pooling, batchnorm) accumulate in double and
// round to float once. The oracle's own rounding error is then far below a
// float backend's, so a tolerance check measures the backend, not the oracle.
#include "ir.h"

#include <math.h>
#include <string.h>

// Offset of element (c, y, x) of a (C, H, W) tensor stored contiguously.
static size_t chw(const Value *v, int c, int y, int x) {
  return ((size_t)c * (size_t)v->h + (size_t)y) * (size_t)v->w + (size_t)x;
}

// Number of windows of size k with stride s over n cells padded by p on each
// side, rounding down like PyTorch (ceil_mode=False).
static int window_count(int n, int k, int s, int p) {
  gh_assert(k >= 1 && s >= 1 && p >= 0 && n + 2 * p >= k);
  return (n + 2 * p - k) / s + 1;
}

// The data of parameter `slot` of n, checked to be bound and to have the
// expected dims; NULL if the slot is optional and unused.
static const float *param_data(const Graph *g, const Node *n, int slot,
                               bool optional, int ndim, const int *dims) {
  int id = n->params[slot];
  if (id < 0) {
    gh_assert(optional);
    return NULL;
  }
  gh_assert(id < g->n_params);
  const Param *p = &g->params[id];
  gh_assert(p->data != NULL);
  gh_assert(p->ndim == ndim);
  for (int d = 0; d < ndim; d++)
    gh_assert(p->dims[d] == dims[d]);
  return p->data;
}

static float relu6(float v) { return fminf(fmaxf(v, 0.0f), 6.0f); }

static float activate(Act act, float v) {
  switch (act) {
  case GH_ACT_NONE: return v;
  case GH_ACT_RELU: return fmaxf(v, 0.0f);
  case GH_ACT_RELU6: return relu6(v);
  case GH_ACT_HARD_SIGMOID: return relu6(v + 3.0f) / 6.0f;
  case GH_ACT_HARD_SWISH: return v * relu6(v + 3.0f) / 6.0f;
  case GH_ACT_COUNT: break;
  }
  gh_assert(!"unknown activation");
  return v;
}

// y (out) = conv(x (in), weight) + bias, zero padding. Output channel o
// belongs to group o / out_per_group, which reads the input channels
// [group * in_per_group, (group + 1) * in_per_group). Usually out->c is
// groups * out_per_group; a ghost module's cheap conv computes fewer, the
// leading output channels only. weight is (out->c, in_per_group, kh, kw).
static void conv2d(const Value *in, const float *x, const Value *out,
                   float *y, const float *weight, const float *bias, int kh,
                   int kw, int stride_h, int stride_w, int pad_h, int pad_w,
                   int groups, int out_per_group) {
  gh_assert(groups >= 1 && in->c % groups == 0 && out_per_group >= 1);
  gh_assert((out->c - 1) / out_per_group < groups);  // every o has a group
  int in_per_group = in->c / groups;
  gh_assert(out->h == window_count(in->h, kh, stride_h, pad_h));
  gh_assert(out->w == window_count(in->w, kw, stride_w, pad_w));

  for (int o = 0; o < out->c; o++) {
    int first_in = (o / out_per_group) * in_per_group;  // o's group's inputs
    for (int oy = 0; oy < out->h; oy++) {
      for (int ox = 0; ox < out->w; ox++) {
        double sum = bias ? bias[o] : 0.0;
        for (int i = 0; i < in_per_group; i++) {
          for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
              int iy = oy * stride_h - pad_h + ky;
              int ix = ox * stride_w - pad_w + kx;
              if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w)
                continue;  // zero padding adds nothing
              // weight is (O, I/groups, KH, KW)
              size_t w_at = (((size_t)o * in_per_group + i) * kh + ky) *
                                (size_t)kw + kx;
              sum += (double)weight[w_at] * x[chw(in, first_in + i, iy, ix)];
            }
          }
        }
        y[chw(out, o, oy, ox)] = (float)sum;
      }
    }
  }
}

// The input a conv2d or ghost_module node convolves: in[0] read through its
// prologue (see Node in ir.h). Channel c is x[shuffled(c)] * scale[c], where
// shuffled(c) = (c % s) * (C / s) + c / s for in_shuffle = s, PyTorch's
// channel shuffle: view (s, C/s), transpose. Returns in[0]'s own buffer when
// there is no prologue, else a fresh one from scratch.
static const float *conv_input(const Graph *g, const Node *n,
                               float *const *buf, Arena *scratch) {
  const Value *in = &g->values[n->in[0]];
  const float *x = buf[n->in[0]];
  if (n->in_shuffle == 0 && n->in_scale < 0)
    return x;
  gh_assert(n->in_shuffle >= 0);
  int shuffle = n->in_shuffle > 0 ? n->in_shuffle : 1;  // 1 group: identity
  gh_assert(in->c % shuffle == 0);
  const float *scale = NULL;
  if (n->in_scale >= 0) {
    const Value *s = &g->values[n->in[n->in_scale]];
    gh_assert(s->c == in->c && s->h == 1 && s->w == 1);
    scale = buf[n->in[n->in_scale]];
  }
  float *xs = arena_array(scratch, value_count(in), sizeof *xs);
  for (int c = 0; c < in->c; c++) {
    int from = (c % shuffle) * (in->c / shuffle) + c / shuffle;
    for (int iy = 0; iy < in->h; iy++)
      for (int ix = 0; ix < in->w; ix++) {
        float v = x[chw(in, from, iy, ix)];
        xs[chw(in, c, iy, ix)] = scale ? v * scale[c] : v;
      }
  }
  return xs;
}

static void run_conv2d(const Graph *g, const Node *n, const Value *in,
                       const float *x, const Value *out, float *y) {
  int groups = n->groups;
  gh_assert(groups >= 1 && in->c % groups == 0 && out->c % groups == 0);
  int weight_dims[4] = {out->c, in->c / groups, n->kh, n->kw};
  const float *weight = param_data(g, n, 0, false, 4, weight_dims);
  const float *bias = param_data(g, n, 1, true, 1, (int[]){out->c});
  conv2d(in, x, out, y, weight, bias, n->kh, n->kw, n->stride_h, n->stride_w,
         n->pad_h, n->pad_w, groups, out->c / groups);
}

// GhostNet's ghost module (see Node in ir.h), into y's channels:
//   [0, P): primary = inner_act(conv(x, [0]) + [1]), the node's kernel,
//           stride and padding, groups 1;
//   [P, O): cheap = inner_act(conv(primary, [2]) + [3]), D x D, stride 1,
//           padding D/2, cheap channel j reading primary channel j / mult
//           (a depthwise conv with channel multiplier mult, of which only
//           the first O - P maps exist).
static void run_ghost(const Graph *g, const Node *n, const Value *in,
                      const float *x, const Value *out, float *y) {
  int primary_c = n->ghost_primary, mult = n->ghost_mult, d = n->ghost_dw;
  int cheap_c = out->c - primary_c;
  gh_assert(n->groups == 1);
  gh_assert(primary_c >= 1 && mult >= 1 && d >= 1);
  gh_assert(cheap_c >= 0 && cheap_c <= primary_c * mult);

  // The primary maps are y's leading channels: a (P, H, W) tensor at y.
  Value primary = {.c = primary_c, .h = out->h, .w = out->w};
  int primary_dims[4] = {primary_c, in->c, n->kh, n->kw};
  const float *w0 = param_data(g, n, 0, false, 4, primary_dims);
  const float *b1 = param_data(g, n, 1, true, 1, (int[]){primary_c});
  conv2d(in, x, &primary, y, w0, b1, n->kh, n->kw, n->stride_h, n->stride_w,
         n->pad_h, n->pad_w, 1, primary_c);
  for (size_t i = 0; i < value_count(&primary); i++)
    y[i] = activate(n->inner_act, y[i]);

  if (cheap_c == 0) {
    gh_assert(n->params[2] < 0 && n->params[3] < 0);
    return;
  }
  // The cheap maps follow: a (O - P, H, W) tensor right after the primary.
  Value cheap = {.c = cheap_c, .h = out->h, .w = out->w};
  float *cheap_y = y + value_count(&primary);
  int cheap_dims[4] = {cheap_c, 1, d, d};
  const float *w2 = param_data(g, n, 2, false, 4, cheap_dims);
  const float *b3 = param_data(g, n, 3, true, 1, (int[]){cheap_c});
  // conv2d asserts the cheap maps keep the primary's size (d odd).
  conv2d(&primary, y, &cheap, cheap_y, w2, b3, d, d, 1, 1, d / 2, d / 2,
         primary_c, mult);
  for (size_t i = 0; i < value_count(&cheap); i++)
    cheap_y[i] = activate(n->inner_act, cheap_y[i]);
}

static void run_batchnorm(const Graph *g, const Node *n, const Value *in,
                          const float *x, const Value *out, float *y) {
  gh_assert(out->c == in->c && out->h == in->h && out->w == in->w);
  int dims[1] = {in->c};
  const float *gamma = param_data(g, n, 0, false, 1, dims);
  const float *beta = param_data(g, n, 1, false, 1, dims);
  const float *mean = param_data(g, n, 2, false, 1, dims);
  const float *var = param_data(g, n, 3, false, 1, dims);
  for (int c = 0; c < in->c; c++) {
    double std = sqrt((double)var[c] + n->eps);
    for (int iy = 0; iy < in->h; iy++)
      for (int ix = 0; ix < in->w; ix++) {
        size_t at = chw(in, c, iy, ix);
        y[at] = (float)(gamma[c] * (x[at] - (double)mean[c]) / std + beta[c]);
      }
  }
}

static void run_pool(const Node *n, const Value *in, const float *x,
                     const Value *out, float *y) {
  gh_assert(out->c == in->c);
  gh_assert(out->h == window_count(in->h, n->kh, n->stride_h, n->pad_h));
  gh_assert(out->w == window_count(in->w, n->kw, n->stride_w, n->pad_w));
  bool is_max = n->op == GH_OP_MAXPOOL;
  for (int c = 0; c < out->c; c++) {
    for (int oy = 0; oy < out->h; oy++) {
      for (int ox = 0; ox < out->w; ox++) {
        double sum = 0.0;
        float max = -INFINITY;  // padding never wins a max
        int in_bounds = 0;
        for (int ky = 0; ky < n->kh; ky++) {
          for (int kx = 0; kx < n->kw; kx++) {
            int iy = oy * n->stride_h - n->pad_h + ky;
            int ix = ox * n->stride_w - n->pad_w + kx;
            if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w)
              continue;  // padding: zero for the sum, ignored by the max
            float v = x[chw(in, c, iy, ix)];
            sum += v;
            if (v > max)
              max = v;
            in_bounds++;
          }
        }
        // A window wholly in padding has no defined max or mean (PyTorch
        // forbids it by requiring pad <= kernel / 2).
        gh_assert(in_bounds > 0);
        // With floor rounding a window never reaches past the padding, so
        // counting padding means dividing by the full kernel area.
        int divisor = n->count_include_pad ? n->kh * n->kw : in_bounds;
        y[chw(out, c, oy, ox)] = is_max ? max : (float)(sum / divisor);
      }
    }
  }
}

static void run_linear(const Graph *g, const Node *n, const Value *in,
                       const float *x, const Value *out, float *y) {
  gh_assert(in->h == 1 && in->w == 1 && out->h == 1 && out->w == 1);
  int weight_dims[2] = {out->c, in->c};
  const float *weight = param_data(g, n, 0, false, 2, weight_dims);
  const float *bias = param_data(g, n, 1, true, 1, (int[]){out->c});
  for (int o = 0; o < out->c; o++) {
    double sum = bias ? bias[o] : 0.0;
    for (int i = 0; i < in->c; i++)
      sum += (double)weight[(size_t)o * in->c + i] * x[i];  // weight is (O, I)
    y[o] = (float)sum;
  }
}

// Computes node n into buf[n->out] from the buffers of its inputs.
static void run_node(const Graph *g, const Node *n, const float *input,
                     float *const *buf, Arena *scratch) {
  const Value *out = &g->values[n->out];
  float *y = buf[n->out];
  // Most ops have one input; name it once.
  const Value *in = n->n_in > 0 ? &g->values[n->in[0]] : NULL;
  const float *x = n->n_in > 0 ? buf[n->in[0]] : NULL;
  bool same_shape =
      in && in->c == out->c && in->h == out->h && in->w == out->w;

  switch (n->op) {
  case GH_OP_INPUT:
    gh_assert(n->out == g->input);
    memcpy(y, input, value_count(out) * sizeof *y);
    break;
  case GH_OP_CONV2D:
    run_conv2d(g, n, in, conv_input(g, n, buf, scratch), out, y);
    break;
  case GH_OP_BATCHNORM:
    run_batchnorm(g, n, in, x, out, y);
    break;
  case GH_OP_ACTIVATION:
    gh_assert(same_shape);
    memcpy(y, x, value_count(out) * sizeof *y);  // activate() below does it
    break;
  case GH_OP_ADD: {
    const Value *in1 = &g->values[n->in[1]];
    gh_assert(same_shape && in1->c == out->c && in1->h == out->h &&
              in1->w == out->w);
    const float *x1 = buf[n->in[1]];
    for (size_t i = 0; i < value_count(out); i++)
      y[i] = x[i] + x1[i];
    break;
  }
  case GH_OP_MUL: {
    const Value *gate = &g->values[n->in[1]];
    gh_assert(same_shape && gate->c == out->c && gate->h == 1 &&
              gate->w == 1);
    const float *gate_data = buf[n->in[1]];  // (C,1,1): one factor per channel
    for (int c = 0; c < out->c; c++)
      for (int iy = 0; iy < out->h; iy++)
        for (int ix = 0; ix < out->w; ix++)
          y[chw(out, c, iy, ix)] = x[chw(in, c, iy, ix)] * gate_data[c];
    break;
  }
  case GH_OP_CONCAT: {
    gh_assert(n->n_in >= 1);
    int first_channel = 0;  // of the current input within the output
    for (int k = 0; k < n->n_in; k++) {
      const Value *part = &g->values[n->in[k]];
      gh_assert(part->h == out->h && part->w == out->w &&
                first_channel + part->c <= out->c);
      // Channels are contiguous blocks of H*W, so each input is one block.
      memcpy(y + chw(out, first_channel, 0, 0), buf[n->in[k]],
             value_count(part) * sizeof *y);
      first_channel += part->c;
    }
    gh_assert(first_channel == out->c);
    break;
  }
  case GH_OP_SLICE:
    gh_assert(0 <= n->begin && n->begin < n->end && n->end <= in->c);
    gh_assert(out->c == n->end - n->begin && out->h == in->h &&
              out->w == in->w);
    memcpy(y, x + chw(in, n->begin, 0, 0), value_count(out) * sizeof *y);
    break;
  case GH_OP_SHUFFLE: {
    int groups = n->groups;
    gh_assert(same_shape && groups >= 1 && in->c % groups == 0);
    int per_group = in->c / groups;
    // PyTorch: x.view(groups, per_group, H, W).transpose(0, 1), so output
    // channel (j, i) of the (per_group, groups) view is input channel (i, j)
    // of the (groups, per_group) view.
    for (int i = 0; i < groups; i++)
      for (int j = 0; j < per_group; j++)
        memcpy(y + chw(out, j * groups + i, 0, 0),
               x + chw(in, i * per_group + j, 0, 0),
               (size_t)in->h * in->w * sizeof *y);
    break;
  }
  case GH_OP_AVGPOOL:
  case GH_OP_MAXPOOL:
    run_pool(n, in, x, out, y);
    break;
  case GH_OP_GLOBAL_AVGPOOL:
    gh_assert(out->c == in->c && out->h == 1 && out->w == 1);
    for (int c = 0; c < in->c; c++) {
      double sum = 0.0;
      for (int iy = 0; iy < in->h; iy++)
        for (int ix = 0; ix < in->w; ix++)
          sum += x[chw(in, c, iy, ix)];
      y[c] = (float)(sum / ((double)in->h * in->w));
    }
    break;
  case GH_OP_LINEAR:
    run_linear(g, n, in, x, out, y);
    break;
  case GH_OP_FLATTEN:
    // NCHW is already (C*H*W) in memory order: a flatten is a copy.
    gh_assert(value_count(in) == value_count(out) && out->h == 1 &&
              out->w == 1);
    memcpy(y, x, value_count(out) * sizeof *y);
    break;
  case GH_OP_GHOST:
    run_ghost(g, n, in, conv_input(g, n, buf, scratch), out, y);
    break;
  case GH_OP_COUNT:
    gh_assert(!"unknown op");
  }
}

float *interp_run(const Graph *g, const float *input, Arena *scratch) {
  gh_assert(input != NULL);
  // buf[v]: data of value v, NULL until its producer has run.
  float **buf = arena_array(scratch, (size_t)g->n_values, sizeof *buf);
  for (int k = 0; k < g->n_nodes; k++) {
    const Node *n = &g->nodes[k];
    gh_assert(n->op >= 0 && n->op < GH_OP_COUNT);
    int base = node_base_inputs(n);
    gh_assert(op_arity[n->op] < 0 ? base >= 1 : base == op_arity[n->op]);
    // The extra inputs follow the base ones, on the ops that take them.
    bool conv_like = n->op == GH_OP_CONV2D || n->op == GH_OP_GHOST;
    gh_assert(n->residual < 0 ||
              ((conv_like || n->op == GH_OP_LINEAR) &&
               n->residual >= base && n->residual < n->n_in));
    gh_assert(n->in_scale < 0 ||
              (conv_like && n->in_scale >= base && n->in_scale < n->n_in &&
               n->in_scale != n->residual));
    gh_assert(n->in_shuffle == 0 || conv_like);
    // Topological order: every input already computed.
    for (int i = 0; i < n->n_in; i++) {
      gh_assert(n->in[i] >= 0 && n->in[i] < g->n_values);
      gh_assert(buf[n->in[i]] != NULL);
    }
    gh_assert(n->out >= 0 && n->out < g->n_values && buf[n->out] == NULL);
    const Value *out = &g->values[n->out];
    gh_assert(out->c >= 1 && out->h >= 1 && out->w >= 1);
    buf[n->out] = arena_array(scratch, value_count(out), sizeof(float));
    run_node(g, n, input, buf, scratch);
    // The epilogue: the residual, then the activation.
    if (n->residual >= 0) {
      const Value *r = &g->values[n->in[n->residual]];
      gh_assert(r->c == out->c && r->h == out->h && r->w == out->w);
      const float *rx = buf[n->in[n->residual]];
      for (size_t i = 0; i < value_count(out); i++)
        buf[n->out][i] += rx[i];
    }
    for (size_t i = 0; i < value_count(out); i++)
      buf[n->out][i] = activate(n->act, buf[n->out][i]);
  }
  gh_assert(g->output >= 0 && g->output < g->n_values &&
            buf[g->output] != NULL);
  return buf[g->output];
}
