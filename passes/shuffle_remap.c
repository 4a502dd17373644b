// shuffle_remap: a channel shuffle is no op at all: the layers that read
// its result read its input through the permutation instead (ir.h:
// in_shuffle), so the shuffled tensor is never written.
#include "passes.h"

void shuffle_remap(Graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    Node *shuffle = &g->nodes[i];
    if (shuffle->op != GH_OP_SHUFFLE || shuffle->dead ||
        shuffle->act != GH_ACT_NONE || shuffle->out == g->output)
      continue;
    bool all = true;
    for (int j = i + 1; j < g->n_nodes && all; j++) {
      const Node *n = &g->nodes[j];
      for (int k = 0; k < n->n_in && !n->dead; k++)
        if (n->in[k] == shuffle->out)
          all = all && k == 0 && (n->op == GH_OP_CONV2D || n->op == GH_OP_GHOST) &&
                n->in_shuffle == 0 && n->in_scale < 0;
    }
    if (!all)
      continue;
    for (int j = i + 1; j < g->n_nodes; j++) {
      Node *n = &g->nodes[j];
      if (!n->dead && n->in[0] == shuffle->out) {
        n->in[0] = shuffle->in[0];
        n->in_shuffle = shuffle->groups;
      }
    }
    shuffle->dead = true;
  }
}
