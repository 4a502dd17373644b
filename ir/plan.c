// The static memory plan: every intermediate value gets a byte offset in one
// arena. Values whose lifetimes overlap never share bytes. Offsets are given
// greedily, largest value first, each at the lowest offset that clears every
// already placed value it is live with (TFLite's "greedy by size").
// The network input and output live in the caller's buffers, not the arena.
// An elementwise op whose input dies at it writes its result in place: the
// two values are one storage interval.
#include "ir.h"

#include <stdlib.h>

typedef struct {
  int value;        // the first value stored here
  int first, last;  // node steps where the storage is live, inclusive
  size_t bytes;     // rounded up to GH_ARENA_ALIGN
} Interval;

static size_t aligned_bytes(const Value *v) {
  size_t bytes = value_count(v) * sizeof(float);
  return (bytes + GH_ARENA_ALIGN - 1) / GH_ARENA_ALIGN * GH_ARENA_ALIGN;
}

// Ops whose kernels allow the output to alias this input (runtime/: the
// elementwise kernels, read-before-write per element).
static bool may_overwrite(const Node *n, int k) {
  switch (n->op) {
  case GH_OP_ACTIVATION:
  case GH_OP_BATCHNORM:
  case GH_OP_FLATTEN:
    return k == 0;
  case GH_OP_ADD:
    return k < 2;
  case GH_OP_MUL:
    return k == 0;
  default:
    return false;
  }
}

// Step at which each value is read for the last time (its producer's step
// if never read).
static int *last_uses(const Graph *g, Arena *a) {
  int *last = arena_array(a, (size_t)g->n_values, sizeof(int));
  for (int v = 0; v < g->n_values; v++)
    last[v] = g->values[v].producer;
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_in; k++)
      if (last[g->nodes[i].in[k]] < i)
        last[g->nodes[i].in[k]] = i;
  return last;
}

static int by_size_desc(const void *a, const void *b) {
  const Interval *x = a, *y = b;
  if (x->bytes != y->bytes)
    return x->bytes < y->bytes ? 1 : -1;
  return x->value - y->value;  // a total order keeps the plan reproducible
}

typedef struct {
  size_t begin, end;  // bytes taken by a conflicting value
} Span;

static int by_begin(const void *a, const void *b) {
  const Span *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static bool overlap(const Interval *a, const Interval *b) {
  return a->first <= b->last && b->first <= a->last;
}

MemPlan plan_memory(const Graph *g, Arena *a) {
  MemPlan plan = {0};
  plan.offset = arena_array(a, (size_t)g->n_values, sizeof(size_t));
  plan.in_place_of = arena_array(a, (size_t)g->n_values, sizeof(int));
  int *last = last_uses(g, a);
  // Storage intervals: a value written in place joins its input's, a view
  // (concat input written into the concat's output) its root's.
  bool *has_views = arena_array(a, (size_t)g->n_values, sizeof(bool));
  for (int v = 0; v < g->n_values; v++)
    if (g->values[v].view_of >= 0)
      has_views[g->values[v].view_of] = true;
  int *storage = arena_array(a, (size_t)g->n_values, sizeof(int));
  for (int v = 0; v < g->n_values; v++) {
    storage[v] = -1;
    plan.offset[v] = SIZE_MAX;
    plan.in_place_of[v] = -1;
  }
  Interval *iv = arena_array(a, (size_t)g->n_values, sizeof(Interval));
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *node = &g->nodes[i];
    int v = node->out;
    int root = g->values[v].view_of >= 0 ? g->values[v].view_of : v;
    if (root == g->input || root == g->output)
      continue;
    if (v == root)
      plan.sum_bytes += aligned_bytes(&g->values[v]);
    bool plain = v == root && !has_views[v];
    for (int k = 0; k < node->n_in && plain && storage[v] < 0; k++) {
      int u = node->in[k];
      if (may_overwrite(node, k) && storage[u] >= 0 && last[u] == i &&
          g->values[u].view_of < 0 && !has_views[u] &&
          aligned_bytes(&g->values[u]) == aligned_bytes(&g->values[v])) {
        storage[v] = storage[u];
        plan.in_place_of[v] = u;
      }
    }
    // A root's storage starts with its first view or with itself.
    if (storage[root] < 0) {
      storage[root] = n;
      iv[n++] = (Interval){root, i, i, aligned_bytes(&g->values[root])};
    }
    storage[v] = storage[root];
    if (iv[storage[v]].last < last[v])
      iv[storage[v]].last = last[v];
  }

  // Lower bound: the most bytes live at any one step.
  for (int step = 0; step < g->n_nodes; step++) {
    size_t live = 0;
    for (int i = 0; i < n; i++)
      if (iv[i].first <= step && step <= iv[i].last)
        live += iv[i].bytes;
    if (live > plan.lower_bound)
      plan.lower_bound = live;
  }

  qsort(iv, (size_t)n, sizeof *iv, by_size_desc);
  size_t *offset_of = arena_array(a, (size_t)n + 1, sizeof(size_t));
  Span *taken = arena_array(a, (size_t)n + 1, sizeof(Span));
  for (int i = 0; i < n; i++) {
    // The lowest gap between the values already placed that are live at the
    // same time as this one.
    int n_taken = 0;
    for (int j = 0; j < i; j++)
      if (overlap(&iv[j], &iv[i]))
        taken[n_taken++] = (Span){offset_of[j], offset_of[j] + iv[j].bytes};
    qsort(taken, (size_t)n_taken, sizeof *taken, by_begin);
    size_t at = 0;
    for (int j = 0; j < n_taken && taken[j].begin < at + iv[i].bytes; j++)
      if (taken[j].end > at)
        at = taken[j].end;
    offset_of[i] = at;
    if (at + iv[i].bytes > plan.arena_bytes)
      plan.arena_bytes = at + iv[i].bytes;
  }
  // Back from storage to values: qsort moved the intervals, so find each
  // storage's slot by its first value.
  int *slot_of = arena_array(a, (size_t)g->n_values, sizeof(int));
  for (int i = 0; i < n; i++)
    slot_of[iv[i].value] = i;
  for (int v = 0; v < g->n_values; v++) {
    if (storage[v] < 0)
      continue;
    int first = g->values[v].view_of >= 0 ? g->values[v].view_of : v;
    while (plan.in_place_of[first] >= 0)
      first = plan.in_place_of[first];
    plan.offset[v] = offset_of[slot_of[first]];
    const Value *val = &g->values[v];
    if (val->view_of >= 0)
      plan.offset[v] += (size_t)val->view_channel * (size_t)val->h *
                        (size_t)val->w * sizeof(float);
  }
  return plan;
}
