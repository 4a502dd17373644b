// concat_in_place: the inputs of a concatenation are written straight into
// their channel ranges of its output (ir.h: Value.view_of), so the concat
// copies nothing. ShuffleNet's stride-2 unit: the pooled shortcut and the
// branch land in their halves of one buffer. An activation on the concat
// moves into the producers.
// Requires: fuse_activation (the concat carries its activation).
#include "passes.h"

static bool can_write_in_place(const Graph *g, const Node *cat, int k) {
  int v = cat->in[k];
  const Node *p = &g->nodes[g->values[v].producer];
  if (v == g->input || v == g->output || g->values[v].view_of >= 0 ||
      p->op == GH_OP_CONCAT)
    return false;
  for (int j = 0; j < cat->n_in; j++)
    if (j != k && cat->in[j] == v)
      return false;
  // The concat's activation can only move into a producer nobody else reads.
  return cat->act == GH_ACT_NONE ||
         (p->act == GH_ACT_NONE && value_uses(g, v) == 1);
}

void concat_in_place(Graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    Node *cat = &g->nodes[i];
    if (cat->op != GH_OP_CONCAT || cat->dead || concat_is_in_place(g, cat))
      continue;
    bool all = true;
    for (int k = 0; k < cat->n_in && all; k++)
      all = can_write_in_place(g, cat, k);
    if (!all)
      continue;
    int channel = 0;
    for (int k = 0; k < cat->n_in; k++) {
      Value *v = &g->values[cat->in[k]];
      v->view_of = cat->out;
      v->view_channel = channel;
      channel += v->c;
      if (cat->act != GH_ACT_NONE)
        g->nodes[v->producer].act = cat->act;
    }
    cat->act = GH_ACT_NONE;
  }
}
