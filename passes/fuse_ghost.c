// fuse_ghost: GhostNet's module, lowered as
//   p = conv(x) [+act]; c = depthwise conv(p) [+act]; y = concat(p, c)
//   [; y = slice(y, 0, out)]
// becomes one ghost_module op (see ir.h) that writes the primary and the
// cheap maps straight into their channel ranges of one output: no concat,
// no copy, and cheap maps cut by the slice are never computed.
// Requires: fuse_activation (both convs carry their activation).
#include "passes.h"

#include <string.h>

static Node *producer(Graph *g, int value) {
  return &g->nodes[g->values[value].producer];
}

static bool plain_conv(const Node *n) {
  return n->op == GH_OP_CONV2D && n->residual < 0 && n->in_scale < 0 &&
         n->in_shuffle == 0;
}

// A parameter cut to its first `rows` rows (the cheap maps kept).
static int leading_rows(Graph *g, int param, int rows) {
  const Param *p = &g->params[param];
  if (p->dims[0] == rows)
    return param;
  int dims[4];
  memcpy(dims, p->dims, sizeof dims);
  dims[0] = rows;
  const char *key = arena_printf(g->arena, "%s[:%d]", p->key, rows);
  int id = graph_add_param(g, key, p->ndim, dims, p->loc);
  g->params[id].data = g->params[param].data;  // rows are outermost
  return id;
}

static void fuse(Graph *g, int concat_index) {
  Node *cat = &g->nodes[concat_index];
  if (cat->n_in != 2)
    return;
  Node *primary = producer(g, cat->in[0]);
  Node *cheap = producer(g, cat->in[1]);
  const Value *p = &g->values[primary->out];
  if (!plain_conv(primary) || !plain_conv(cheap) || primary->groups != 1 ||
      cheap->in[0] != primary->out || cheap->groups != p->c ||
      cheap->kh != cheap->kw || cheap->stride_h != 1 || cheap->stride_w != 1 ||
      cheap->pad_h != cheap->kh / 2 || cheap->pad_w != cheap->kw / 2 ||
      cheap->act != primary->act || value_uses(g, primary->out) != 2 ||
      value_uses(g, cheap->out) != 1)
    return;
  // The slice that keeps the first `out` channels, if there is one.
  int last = concat_index, out = p->c + g->values[cheap->out].c;
  Act act = cat->act;
  if (value_uses(g, cat->out) == 1 && cat->out != g->output) {
    for (int i = concat_index + 1; i < g->n_nodes; i++) {
      Node *s = &g->nodes[i];
      if (!s->dead && s->op == GH_OP_SLICE && s->in[0] == cat->out &&
          s->begin == 0 && act == GH_ACT_NONE) {
        last = i;
        out = s->end;
        act = s->act;
      }
    }
  }
  if (out <= p->c)
    return;  // no cheap map survives the slice: not a ghost module

  Node ghost = node_init(GH_OP_GHOST, cat->name, cat->loc);
  ghost.in[0] = primary->in[0];
  ghost.n_in = 1;
  ghost.out_features = out;
  ghost.kh = primary->kh;
  ghost.kw = primary->kw;
  ghost.stride_h = primary->stride_h;
  ghost.stride_w = primary->stride_w;
  ghost.pad_h = primary->pad_h;
  ghost.pad_w = primary->pad_w;
  ghost.inner_act = primary->act;
  ghost.act = act;
  ghost.ghost_primary = p->c;
  ghost.ghost_mult = g->values[cheap->out].c / p->c;
  ghost.ghost_dw = cheap->kh;
  ghost.params[0] = primary->params[0];
  ghost.params[1] = primary->params[1];
  int cheap_weight = cheap->params[0], cheap_bias = cheap->params[1];
  primary->dead = cheap->dead = cat->dead = true;
  ghost.params[2] = leading_rows(g, cheap_weight, out - p->c);
  if (cheap_bias >= 0)
    ghost.params[3] = leading_rows(g, cheap_bias, out - p->c);
  graph_replace_node(g, last, ghost);
}

void fuse_ghost(Graph *g) {
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].op == GH_OP_CONCAT && !g->nodes[i].dead)
      fuse(g, i);
}
