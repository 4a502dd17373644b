// The reference interpreter: the oracle every pass and backend is tested
// against. It favours obvious correctness over speed: one fresh buffer per
// value, plain loops that follow each op's definition, and no code shared
// with runtime/, so a bug in a kernel cannot hide by being copied here.
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

static void run_conv2d(const Graph *g, const Node *n, const Value *in,
                       const float *x, const Value *out, float *y) {
  int groups = n->groups;
  gh_assert(groups >= 1 && in->c % groups == 0 && out->c % groups == 0);
  int in_per_group = in->c / groups, out_per_group = out->c / groups;
  gh_assert(out->h == window_count(in->h, n->kh, n->stride_h, n->pad_h));
  gh_assert(out->w == window_count(in->w, n->kw, n->stride_w, n->pad_w));
  int weight_dims[4] = {out->c, in_per_group, n->kh, n->kw};
  const float *weight = param_data(g, n, 0, false, 4, weight_dims);
  const float *bias = param_data(g, n, 1, true, 1, (int[]){out->c});

  for (int o = 0; o < out->c; o++) {
    int first_in = (o / out_per_group) * in_per_group;  // o's group's inputs
    for (int oy = 0; oy < out->h; oy++) {
      for (int ox = 0; ox < out->w; ox++) {
        double sum = bias ? bias[o] : 0.0;
        for (int i = 0; i < in_per_group; i++) {
          for (int ky = 0; ky < n->kh; ky++) {
            for (int kx = 0; kx < n->kw; kx++) {
              int iy = oy * n->stride_h - n->pad_h + ky;
              int ix = ox * n->stride_w - n->pad_w + kx;
              if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w)
                continue;  // zero padding adds nothing
              // weight is (O, I/groups, KH, KW)
              size_t w_at = (((size_t)o * in_per_group + i) * n->kh + ky) *
                                (size_t)n->kw + kx;
              sum += (double)weight[w_at] * x[chw(in, first_in + i, iy, ix)];
            }
          }
        }
        y[chw(out, o, oy, ox)] = (float)sum;
      }
    }
  }
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

// Computes node n into buf[n->out] from the buffers of its inputs.
static void run_node(const Graph *g, const Node *n, const float *input,
                     float *const *buf) {
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
    run_conv2d(g, n, in, x, out, y);
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
    gh_assert(op_arity[n->op] < 0 ? n->n_in >= 1
                                  : n->n_in == op_arity[n->op]);
    // Topological order: every input already computed.
    for (int i = 0; i < n->n_in; i++) {
      gh_assert(n->in[i] >= 0 && n->in[i] < g->n_values);
      gh_assert(buf[n->in[i]] != NULL);
    }
    gh_assert(n->out >= 0 && n->out < g->n_values && buf[n->out] == NULL);
    const Value *out = &g->values[n->out];
    gh_assert(out->c >= 1 && out->h >= 1 && out->w >= 1);
    buf[n->out] = arena_array(scratch, value_count(out), sizeof(float));
    run_node(g, n, input, buf);
    for (size_t i = 0; i < value_count(out); i++)
      buf[n->out][i] = activate(n->act, buf[n->out][i]);
  }
  gh_assert(g->output >= 0 && g->output < g->n_values &&
            buf[g->output] != NULL);
  return buf[g->output];
}
