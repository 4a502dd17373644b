// fuse_se: squeeze-and-excite's gating, y = x * gate (per channel), moves
// into the layers that read y: they scale their input channels by the gate
// as they read x (ir.h: in_scale). The gated activation is never written:
// x is read by the pooling and by the next layer, not three times.
// Requires: fuse_ghost (the reader is usually a ghost module).
#include "passes.h"

static bool can_take_scale(const Node *n, int value) {
  return (n->op == GH_OP_CONV2D || n->op == GH_OP_GHOST) && n->in[0] == value &&
         n->in_scale < 0 && n->in_shuffle == 0 && n->n_in < GH_MAX_INPUTS;
}

void fuse_se(Graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    Node *mul = &g->nodes[i];
    if (mul->op != GH_OP_MUL || mul->dead || mul->act != GH_ACT_NONE ||
        mul->out == g->output)
      continue;
    // Every reader must take the scale, and read y only as its input.
    int readers = 0;
    bool all = true;
    for (int j = i + 1; j < g->n_nodes && all; j++) {
      const Node *n = &g->nodes[j];
      for (int k = 0; k < n->n_in && !n->dead; k++)
        if (n->in[k] == mul->out) {
          all = all && k == 0 && can_take_scale(n, mul->out);
          readers++;
        }
    }
    if (!all || readers == 0)
      continue;
    for (int j = i + 1; j < g->n_nodes; j++) {
      Node *n = &g->nodes[j];
      if (n->dead || n->in[0] != mul->out)
        continue;
      n->in[0] = mul->in[0];
      n->in_scale = n->n_in;
      n->in[n->n_in++] = mul->in[1];
    }
    mul->dead = true;
  }
}
