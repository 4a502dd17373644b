// The static memory plan: every intermediate value gets a byte offset in one
// arena. Values whose lifetimes overlap never share bytes. Offsets are given
// greedily, largest value first, each at the lowest offset that clears every
// already placed value it is live with (TFLite's "greedy by size").
// The network input and output live in the caller's buffers, not the arena.
#include "ir.h"

#include <stdlib.h>

typedef struct {
  int value;
  int first, last;  // node steps where the value is live, inclusive
  size_t bytes;     // rounded up to GH_ARENA_ALIGN
} Interval;

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
  Interval *iv = arena_array(a, (size_t)g->n_values, sizeof(Interval));
  int n = 0;
  for (int v = 0; v < g->n_values; v++) {
    plan.offset[v] = SIZE_MAX;
    if (v == g->input || v == g->output)
      continue;
    size_t bytes = value_count(&g->values[v]) * sizeof(float);
    bytes = (bytes + GH_ARENA_ALIGN - 1) / GH_ARENA_ALIGN * GH_ARENA_ALIGN;
    iv[n++] = (Interval){v, g->values[v].producer, g->values[v].producer,
                         bytes};
  }
  int *slot = arena_array(a, (size_t)g->n_values, sizeof(int));
  for (int i = 0; i < n; i++)
    slot[iv[i].value] = i;
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_in; k++) {
      int v = g->nodes[i].in[k];
      if (v != g->input && v != g->output && iv[slot[v]].last < i)
        iv[slot[v]].last = i;
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
  for (int i = 0; i < n; i++)
    plan.sum_bytes += iv[i].bytes;

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
    plan.offset[iv[i].value] = at;
    if (at + iv[i].bytes > plan.arena_bytes)
      plan.arena_bytes = at + iv[i].bytes;
  }
  return plan;
}
