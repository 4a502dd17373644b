// fuse_residual: y = act(layer(x) + r) becomes the layer's epilogue (ir.h:
// residual): the sum is formed as the layer writes its result, which is
// never stored on its own. The fused layer takes the add's place in the
// order, where r is already computed.
// Requires: fuse_activation (the add carries the activation after it).
#include "passes.h"

static bool can_take_residual(const Graph *g, const Node *n) {
  bool op_ok = n->op == GH_OP_CONV2D ||
               (n->op == GH_OP_GHOST && n->inner_act == GH_ACT_NONE);
  return op_ok && n->act == GH_ACT_NONE && n->residual < 0 &&
         n->n_in < GH_MAX_INPUTS && value_uses(g, n->out) == 1;
}

void fuse_residual(Graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    Node *add = &g->nodes[i];
    if (add->op != GH_OP_ADD || add->dead || add->in[0] == add->in[1])
      continue;
    // Prefer the first operand: the block's main path in the specs.
    for (int k = 0; k < 2; k++) {
      Node *layer = &g->nodes[g->values[add->in[k]].producer];
      if (!can_take_residual(g, layer))
        continue;
      Node fused = *layer;
      fused.residual = fused.n_in;
      fused.in[fused.n_in++] = add->in[1 - k];
      fused.act = add->act;
      layer->dead = true;
      graph_replace_node(g, i, fused);
      break;
    }
  }
}
