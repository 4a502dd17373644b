// The IR verifier: after the front end and after every pass, the graph must
// be well formed. A failure here is a compiler bug, never a user error.
#include "ir.h"

#include <stdio.h>
#include <string.h>

static void check_params(const Graph *g, const Node *n) {
  for (int slot = 0; slot < GH_MAX_PARAMS; slot++) {
    int ndim, dims[4];
    bool used = param_shape(g, n, slot, &ndim, dims);
    int id = n->params[slot];
    if (id < 0)
      continue;
    gh_assert(used && id < g->n_params);
    const Param *p = &g->params[id];
    gh_assert(p->ndim == ndim);
    for (int d = 0; d < ndim; d++)
      gh_assert(p->dims[d] == dims[d]);
  }
  // Weights and BatchNorm statistics are not optional.
  if (n->op == GH_OP_CONV2D || n->op == GH_OP_LINEAR || n->op == GH_OP_GHOST)
    gh_assert(n->params[0] >= 0);
  if (n->op == GH_OP_GHOST && g->values[n->out].c > n->ghost_primary)
    gh_assert(n->params[2] >= 0);
  if (n->op == GH_OP_BATCHNORM)
    for (int slot = 0; slot < 4; slot++)
      gh_assert(n->params[slot] >= 0);
}

void graph_verify(const Graph *g) {
  gh_assert(g->n_nodes > 0 && g->nodes[0].op == GH_OP_INPUT);
  gh_assert(g->input == g->nodes[0].out);
  gh_assert(g->output >= 0 && g->output < g->n_values);
  gh_assert(g->n_values == g->n_nodes);
  bool *used = arena_array(g->arena, (size_t)g->n_values, sizeof(bool));
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = &g->nodes[i];
    gh_assert(n->op >= 0 && n->op < GH_OP_COUNT && !n->dead);
    gh_assert(n->op != GH_OP_INPUT || i == 0);
    gh_assert(n->out >= 0 && n->out < g->n_values);
    gh_assert(g->values[n->out].producer == i);
    for (int k = 0; k < n->n_in; k++) {
      // Topological order: inputs come from earlier nodes.
      gh_assert(n->in[k] >= 0 && n->in[k] < g->n_values);
      gh_assert(g->values[n->in[k]].producer < i);
      used[n->in[k]] = true;
    }
    Value shape = g->values[n->out];
    char msg[512];
    const char *err = infer_shape(g, n, &shape, msg, sizeof msg);
    if (err) {
      fprintf(stderr, "verifier: node %d (%s): %s\n", i, n->name, err);
      gh_assert(!"node shape does not infer");
    }
    const Value *v = &g->values[n->out];
    gh_assert(shape.c == v->c && shape.h == v->h && shape.w == v->w);
    check_params(g, n);
  }
  // Views: each is one input of the in-place concat that owns its root, at
  // its channel offset, and views do not nest.
  for (int v = 0; v < g->n_values; v++) {
    const Value *val = &g->values[v];
    if (val->view_of < 0)
      continue;
    const Value *root = &g->values[val->view_of];
    const Node *cat = &g->nodes[root->producer];
    gh_assert(root->view_of < 0 && cat->op == GH_OP_CONCAT);
    gh_assert(v != g->input && val->h == root->h && val->w == root->w);
    int channel = 0, found = 0;
    for (int k = 0; k < cat->n_in; k++) {
      if (cat->in[k] == v) {
        gh_assert(channel == val->view_channel);
        found++;
      }
      channel += g->values[cat->in[k]].c;
    }
    gh_assert(found == 1);
  }

  // No dangling values: everything but the output feeds some node.
  for (int v = 0; v < g->n_values; v++)
    gh_assert(used[v] || v == g->output);
}
