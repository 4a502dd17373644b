// fuse_activation: a standalone relu, relu6, hard_sigmoid or hard_swish
// becomes the epilogue of the op that produces its input, when nothing else
// reads that op's result. Guarantees: no such activation node remains.
#include "passes.h"

void fuse_activation(Graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    Node *a = &g->nodes[i];
    if (a->op != GH_OP_ACTIVATION || a->dead)
      continue;
    Node *p = &g->nodes[g->values[a->in[0]].producer];
    if (p->op == GH_OP_INPUT || p->act != GH_ACT_NONE ||
        value_uses(g, p->out) != 1)
      continue;
    p->act = a->act;
    graph_replace_uses(g, a->out, p->out);
    a->dead = true;
  }
}
