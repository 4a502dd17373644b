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
// real networks have a few hundred nodes. Some steps (the memory plan,
// parameter and weight lookup by key) are quadratic in the node count: at
// this limit a compile takes a few seconds, at 65536 it took half a minute.
enum { GRAPH_MAX_NODES = 1 << 14 };
// One tensor (f32: 512 MiB); lowering bounds them all together.
#define GRAPH_MAX_PARAM_ELEMS ((size_t)1 << 27)

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

// The slot of `key` in g->param_slots: where it is, or the empty slot where
// it would go (open addressing, linear probing).
static int *param_slot(const Graph *g, const char *key) {
  size_t mask = (size_t)g->n_param_slots - 1;
  size_t i = (size_t)hash_bytes(HASH_SEED, key, strlen(key)) & mask;
  while (g->param_slots[i] &&
         strcmp(g->params[g->param_slots[i] - 1].key, key) != 0)
    i = (i + 1) & mask;
  return &g->param_slots[i];
}

// Keeps the key index at most half full; rebuilds it after graph_compact
// renumbered the parameters (it drops the index).
static void index_params(Graph *g) {
  if (g->param_slots && (size_t)g->n_param_slots > 2 * (size_t)g->n_params + 2)
    return;
  int n = 64;
  while ((size_t)n <= 2 * (size_t)g->n_params + 2)
    n *= 2;
  g->param_slots = arena_array(g->arena, (size_t)n, sizeof(int));
  g->n_param_slots = n;
  for (int i = 0; i < g->n_params; i++)
    *param_slot(g, g->params[i].key) = i + 1;
}

int graph_add_param(Graph *g, const char *key, int ndim, const int *dims,
                    SrcLoc loc) {
  gh_assert(ndim >= 1 && ndim <= 4);
  // A hash index: a linear search per parameter made lowering quadratic.
  index_params(g);
  int *slot = param_slot(g, key);
  if (*slot)
    gh_error_at(loc, "parameter '%s' is declared twice (first at line %d)",
                key, g->params[*slot - 1].loc.line);
  Param p = {0};
  p.key = arena_strdup(g->arena, key);
  p.ndim = ndim;
  p.count = 1;
  for (int i = 0; i < ndim; i++) {
    gh_assert(dims[i] > 0);
    p.dims[i] = dims[i];
    if (!size_mul(p.count, (size_t)dims[i], &p.count) ||
        p.count > GRAPH_MAX_PARAM_ELEMS)
      gh_error_at(loc, "parameter '%s' has more than %zu elements", key,
                  GRAPH_MAX_PARAM_ELEMS);
  }
  p.loc = loc;
  g->params = grow(g->arena, g->params, g->n_params, &g->cap_params,
                   sizeof(Param));
  g->params[g->n_params] = p;
  *slot = g->n_params + 1;
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
  // Dead code: nodes nobody reads, and then the nodes only they read. Use
  // counts and a work list keep this linear (a value_uses() per node made
  // this quadratic: minutes for a long chain of layers).
  int *uses = arena_array(g->arena, (size_t)g->n_values, sizeof(int));
  int *dying = arena_array(g->arena, (size_t)g->n_nodes, sizeof(int));
  int n_dying = 0;
  for (int i = 0; i < g->n_nodes; i++)
    if (!g->nodes[i].dead)
      for (int k = 0; k < g->nodes[i].n_in; k++)
        uses[g->nodes[i].in[k]]++;
  for (int i = g->n_nodes - 1; i > 0; i--) {
    Node *n = &g->nodes[i];
    if (!n->dead && n->out != g->output && uses[n->out] == 0) {
      n->dead = true;
      dying[n_dying++] = i;
    }
  }
  while (n_dying > 0) {
    const Node *n = &g->nodes[dying[--n_dying]];
    for (int k = 0; k < n->n_in; k++) {
      int v = n->in[k], p = g->values[v].producer;
      Node *q = &g->nodes[p];
      if (--uses[v] == 0 && p > 0 && !q->dead && q->out != g->output) {
        q->dead = true;
        dying[n_dying++] = p;
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
  g->param_slots = NULL;  // the ids changed
}

bool concat_is_in_place(const Graph *g, const Node *n) {
  return n->op == GH_OP_CONCAT && g->values[n->in[0]].view_of == n->out;
}
