// fold_bn: a BatchNorm right after a conv or linear layer becomes part of
// that layer's weights and bias, with the running statistics:
//   scale = gamma / sqrt(var + eps)
//   w'[o] = w[o] * scale[o],  b'[o] = (b[o] - mean[o]) * scale[o] + beta[o]
// Requires: bound parameters. Guarantees: no BatchNorm that follows a conv
// or linear layer whose result only it reads.
#include "passes.h"

#include <math.h>

static void fold(Graph *g, int bn_index) {
  const Node *bn = &g->nodes[bn_index];
  Node *layer = &g->nodes[g->values[bn->in[0]].producer];
  if ((layer->op != GH_OP_CONV2D && layer->op != GH_OP_LINEAR) ||
      layer->act != GH_ACT_NONE || layer->residual >= 0 ||
      value_uses(g, layer->out) != 1 || bn->act != GH_ACT_NONE)
    return;
  const float *gamma = g->params[bn->params[0]].data;
  const float *beta = g->params[bn->params[1]].data;
  const float *mean = g->params[bn->params[2]].data;
  const float *var = g->params[bn->params[3]].data;
  Param *w = &g->params[layer->params[0]];
  int channels = w->dims[0];
  size_t per_channel = w->count / (size_t)channels;

  float *weight = arena_array(g->arena, w->count, sizeof(float));
  float *bias = arena_array(g->arena, (size_t)channels, sizeof(float));
  const float *old_bias =
      layer->params[1] >= 0 ? g->params[layer->params[1]].data : NULL;
  for (int o = 0; o < channels; o++) {
    float scale = gamma[o] / sqrtf(var[o] + bn->eps);
    for (size_t k = 0; k < per_channel; k++)
      weight[(size_t)o * per_channel + k] =
          w->data[(size_t)o * per_channel + k] * scale;
    bias[o] = ((old_bias ? old_bias[o] : 0.0f) - mean[o]) * scale + beta[o];
  }
  w->data = weight;
  if (layer->params[1] < 0) {
    int dims[1] = {channels};
    layer->params[1] = graph_add_param(
        g, arena_printf(g->arena, "%s.bias", layer->name), 1, dims, layer->loc);
  }
  g->params[layer->params[1]].data = bias;
  graph_replace_uses(g, bn->out, layer->out);
  g->nodes[bn_index].dead = true;
}

void fold_bn(Graph *g) {
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].op == GH_OP_BATCHNORM)
      fold(g, i);
}
