// The graph: nodes, values and parameters in growable arrays, by index.
#include "ir.h"

#include <string.h>

const char *const op_names[GH_OP_COUNT] = {
#define X(id, name, arity) name,
    GH_OPS(X)
#undef X
};

const int op_arity[GH_OP_COUNT] = {
#define X(id, name, arity) arity,
    GH_OPS(X)
#undef X
};

const char *const act_names[GH_ACT_COUNT] = {
#define X(id, name) name,
    GH_ACTS(X)
#undef X
};

// Guards against networks that would make the compiler itself misbehave;
// real networks have a few hundred nodes.
enum { GRAPH_MAX_NODES = 1 << 16 };

Graph *graph_new(Arena *a, const char *name) {
  Graph *g = arena_alloc(a, sizeof *g);
  g->arena = a;
  g->name = arena_strdup(a, name);
  g->input = g->output = -1;
  return g;
}

// Doubles an array that lives in the arena (the old copy is abandoned).
static void *grow(Arena *a, void *items, int n, int *cap, size_t elem) {
  if (n < *cap)
    return items;
  int new_cap = *cap ? *cap * 2 : 64;
  void *p = arena_array(a, (size_t)new_cap, elem);
  if (n)
    memcpy(p, items, (size_t)n * elem);
  *cap = new_cap;
  return p;
}

Node node_init(OpKind op, const char *name, SrcLoc loc) {
  Node n = {0};
  n.op = op;
  n.name = name;
  n.loc = loc;
  n.stride_h = n.stride_w = 1;
  n.kh = n.kw = 1;
  n.groups = 1;
  n.out = -1;
  n.residual = n.in_scale = -1;
  for (int i = 0; i < GH_MAX_PARAMS; i++)
    n.params[i] = -1;
  return n;
}

int graph_add_node(Graph *g, Node node) {
  if (g->n_nodes >= GRAPH_MAX_NODES)
    gh_error_at(node.loc, "network has more than %d layers", GRAPH_MAX_NODES);
  Value out = {0};
  char msg[512];
  if (infer_shape(g, &node, &out, msg, sizeof msg))
    gh_error_at(node.loc, "%s: %s", node.name ? node.name : op_names[node.op],
                msg);
  out.producer = g->n_nodes;
  out.name = node.name;
  out.view_of = -1;
  g->values = grow(g->arena, g->values, g->n_values, &g->cap_values,
                   sizeof(Value));
  node.out = g->n_values;
  g->values[g->n_values++] = out;
  g->nodes = grow(g->arena, g->nodes, g->n_nodes, &g->cap_nodes, sizeof(Node));
  g->nodes[g->n_nodes++] = node;
  if (node.op == GH_OP_INPUT)
    g->input = node.out;
  g->output = node.out;
  return node.out;
}

int graph_add_param(Graph *g, const char *key, int ndim, const int *dims,
                    SrcLoc loc) {
  gh_assert(ndim >= 1 && ndim <= 4);
  for (int i = 0; i < g->n_params; i++)
    if (strcmp(g->params[i].key, key) == 0)
      gh_error_at(loc, "parameter '%s' is declared twice (first at line %d)",
                  key, g->params[i].loc.line);
  Param p = {0};
  p.key = arena_strdup(g->arena, key);
  p.ndim = ndim;
  p.count = 1;
  for (int i = 0; i < ndim; i++) {
    gh_assert(dims[i] > 0);
    p.dims[i] = dims[i];
    if (!size_mul(p.count, (size_t)dims[i], &p.count))
      gh_error_at(loc, "parameter '%s' is too large", key);
  }
  p.loc = loc;
  g->params = grow(g->arena, g->params, g->n_params, &g->cap_params,
                   sizeof(Param));
  g->params[g->n_params] = p;
  return g->n_params++;
}

size_t value_count(const Value *v) {
  return (size_t)v->c * (size_t)v->h * (size_t)v->w;
}

uint64_t node_macs(const Graph *g, const Node *n) {
  const Value *out = &g->values[n->out];
  switch (n->op) {
  case GH_OP_CONV2D: {
    const Value *in = &g->values[n->in[0]];
    uint64_t per_output = (uint64_t)(in->c / n->groups) * n->kh * n->kw;
    return per_output * value_count(out);
  }
  case GH_OP_LINEAR:
    return (uint64_t)g->values[n->in[0]].c * (uint64_t)out->c;
  case GH_OP_GHOST: {
    uint64_t plane = (uint64_t)out->h * (uint64_t)out->w;
    uint64_t primary = (uint64_t)g->values[n->in[0]].c * n->kh * n->kw *
                       (uint64_t)n->ghost_primary;
    uint64_t cheap = (uint64_t)n->ghost_dw * n->ghost_dw *
                     (uint64_t)(out->c - n->ghost_primary);
    return (primary + cheap) * plane;
  }
  default:
    return 0;
  }
}

int node_base_inputs(const Node *n) {
  return n->n_in - (n->residual >= 0) - (n->in_scale >= 0);
}

void graph_replace_uses(Graph *g, int from, int to) {
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_in; k++)
      if (g->nodes[i].in[k] == from)
        g->nodes[i].in[k] = to;
  if (g->output == from)
    g->output = to;
}

int value_uses(const Graph *g, int value) {
  int uses = 0;
  for (int i = 0; i < g->n_nodes; i++)
    if (!g->nodes[i].dead)
      for (int k = 0; k < g->nodes[i].n_in; k++)
        uses += g->nodes[i].in[k] == value;
  return uses;
}

void graph_replace_node(Graph *g, int at, Node fused) {
  fused.out = g->nodes[at].out;
  fused.dead = false;
  g->nodes[at] = fused;
}

void graph_compact(Graph *g) {
  // Dead code: nodes nobody reads, repeated until nothing changes.
  for (bool changed = true; changed;) {
    changed = false;
    for (int i = g->n_nodes - 1; i > 0; i--) {
      Node *n = &g->nodes[i];
      if (!n->dead && n->out != g->output && value_uses(g, n->out) == 0) {
        n->dead = true;
        changed = true;
      }
    }
  }
  int *new_value = arena_array(g->arena, (size_t)g->n_values, sizeof(int));
  int *new_param = arena_array(g->arena, (size_t)g->n_params + 1, sizeof(int));
  for (int p = 0; p < g->n_params; p++)
    new_param[p] = -1;
  // Renumbering reads old entries in any order: copy them first.
  Value *old_values = arena_array(g->arena, (size_t)g->n_values, sizeof(Value));
  memcpy(old_values, g->values, (size_t)g->n_values * sizeof(Value));
  Param *old_params = arena_array(g->arena, (size_t)g->n_params + 1,
                                  sizeof(Param));
  if (g->n_params)
    memcpy(old_params, g->params, (size_t)g->n_params * sizeof(Param));
  int n_nodes = 0, n_params = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    Node n = g->nodes[i];
    if (n.dead)
      continue;
    for (int k = 0; k < n.n_in; k++)
      n.in[k] = new_value[n.in[k]];
    for (int slot = 0; slot < GH_MAX_PARAMS; slot++) {
      int p = n.params[slot];
      if (p < 0)
        continue;
      if (new_param[p] < 0) {
        new_param[p] = n_params;
        g->params[n_params++] = old_params[p];
      }
      n.params[slot] = new_param[p];
    }
    Value v = old_values[n.out];
    new_value[n.out] = n_nodes;
    v.producer = n_nodes;
    n.out = n_nodes;
    g->values[n_nodes] = v;
    g->nodes[n_nodes++] = n;
  }
  for (int v = 0; v < n_nodes; v++)
    if (g->values[v].view_of >= 0)
      g->values[v].view_of = new_value[g->values[v].view_of];
  g->input = new_value[g->input];
  g->output = new_value[g->output];
  g->n_nodes = g->n_values = n_nodes;
  g->n_params = n_params;
}

bool concat_is_in_place(const Graph *g, const Node *n) {
  return n->op == GH_OP_CONCAT && g->values[n->in[0]].view_of == n->out;
}
