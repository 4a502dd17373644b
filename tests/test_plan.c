// The static memory plan, checked by proof rather than by example: an
// independent checker recomputes every lifetime from the graph and confirms
// that no two tensors alive at the same step share a byte. It runs on
// GhostNet at three widths and on a few hundred random graphs.
#include "compiler/ghostcc.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static Arena arena;
static void teardown(void) { arena_free(&arena); }

TestSuite(plan, .fini = teardown);

//
// The checker
//

// When a value is alive, in node steps, inclusive: from its producer to its
// last consumer.
typedef struct {
  int first, last;
  size_t bytes;    // the tensor itself
  size_t padded;   // as the plan counts it: rounded up to GH_ARENA_ALIGN
  bool in_arena;   // intermediates only: not the network input or output
} Life;

static Life *lifetimes(const Graph *g) {
  Life *life = arena_array(&arena, (size_t)g->n_values, sizeof(Life));
  for (int v = 0; v < g->n_values; v++) {
    life[v].first = life[v].last = g->values[v].producer;
    life[v].bytes = value_count(&g->values[v]) * sizeof(float);
    life[v].padded = (life[v].bytes + GH_ARENA_ALIGN - 1) / GH_ARENA_ALIGN *
                     GH_ARENA_ALIGN;
    life[v].in_arena = v != g->input && v != g->output;
  }
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_in; k++) {
      Life *l = &life[g->nodes[i].in[k]];
      if (l->last < i)
        l->last = i;
    }
  return life;
}

// NULL if `plan` is valid for g, else what is wrong with it (in msg).
static const char *plan_problem(const Graph *g, const MemPlan *plan,
                                char *msg, size_t size) {
  const Life *life = lifetimes(g);
  for (int v = 0; v < g->n_values; v++) {
    size_t at = plan->offset[v];
    if (!life[v].in_arena) {
      if (at != SIZE_MAX) {
        snprintf(msg, size, "value %d is the network's input or output but "
                 "has arena offset %zu", v, at);
        return msg;
      }
      continue;
    }
    if (at == SIZE_MAX) {
      snprintf(msg, size, "intermediate value %d (%s) has no offset", v,
               g->values[v].name);
      return msg;
    }
    if (at % GH_ARENA_ALIGN) {
      snprintf(msg, size, "value %d (%s) at offset %zu is not %d-byte "
               "aligned", v, g->values[v].name, at, GH_ARENA_ALIGN);
      return msg;
    }
    if (at > plan->arena_bytes || life[v].bytes > plan->arena_bytes - at) {
      snprintf(msg, size, "value %d (%s) at [%zu, %zu) runs past the arena "
               "of %zu bytes", v, g->values[v].name, at, at + life[v].bytes,
               plan->arena_bytes);
      return msg;
    }
  }

  // An in-place result shares its input's bytes only at the step where the
  // input is read for the last time, by the op that writes the result.
  for (int v = 0; v < g->n_values; v++) {
    int u = plan->in_place_of[v];
    if (u >= 0 && (life[u].last != life[v].first ||
                   plan->offset[u] != plan->offset[v])) {
      snprintf(msg, size, "value %d is in place of %d, which is read after "
               "it is written or lives elsewhere", v, u);
      return msg;
    }
  }

  for (int u = 0; u < g->n_values; u++)
    for (int v = u + 1; v < g->n_values; v++) {
      const Life *a = &life[u], *b = &life[v];
      if (!a->in_arena || !b->in_arena || a->last < b->first ||
          b->last < a->first || plan->in_place_of[v] == u ||
          plan->in_place_of[u] == v)
        continue;
      size_t a0 = plan->offset[u], b0 = plan->offset[v];
      if (a0 < b0 + b->bytes && b0 < a0 + a->bytes) {
        snprintf(msg, size, "values %d (%s, steps %d..%d, bytes [%zu, %zu)) "
                 "and %d (%s, steps %d..%d, bytes [%zu, %zu)) are live "
                 "together and overlap", u, g->values[u].name, a->first,
                 a->last, a0, a0 + a->bytes, v, g->values[v].name, b->first,
                 b->last, b0, b0 + b->bytes);
        return msg;
      }
    }

  size_t most_live = 0, sum = 0;
  for (int step = 0; step < g->n_nodes; step++) {
    size_t live = 0;
    for (int v = 0; v < g->n_values; v++) {
      // An in-place result's bytes are its input's at its first step.
      int first = life[v].first + (plan->in_place_of[v] >= 0);
      if (life[v].in_arena && first <= step && step <= life[v].last)
        live += life[v].padded;
    }
    if (live > most_live)
      most_live = live;
  }
  for (int v = 0; v < g->n_values; v++)
    if (life[v].in_arena)
      sum += life[v].padded;
  if (plan->lower_bound != most_live) {
    snprintf(msg, size, "lower_bound is %zu, but at most %zu bytes are live "
             "at once", plan->lower_bound, most_live);
    return msg;
  }
  if (plan->lower_bound > plan->arena_bytes) {
    snprintf(msg, size, "lower_bound %zu exceeds the arena of %zu bytes",
             plan->lower_bound, plan->arena_bytes);
    return msg;
  }
  if (plan->sum_bytes != sum) {
    snprintf(msg, size, "sum_bytes is %zu, the intermediates add up to %zu",
             plan->sum_bytes, sum);
    return msg;
  }
  // Placing every tensor after the previous one would already fit in this.
  if (plan->arena_bytes > plan->sum_bytes) {
    snprintf(msg, size, "the arena of %zu bytes is larger than all "
             "intermediates together (%zu)", plan->arena_bytes,
             plan->sum_bytes);
    return msg;
  }
  return NULL;
}

static void expect_valid_plan(const Graph *g, const MemPlan *plan,
                              const char *what) {
  char msg[1024];
  const char *problem = plan_problem(g, plan, msg, sizeof msg);
  cr_assert(!problem, "%s: invalid memory plan: %s", what, problem);
}

//
// GhostNet
//

static Graph *ghostnet(const char *width) {
  char set_width[64];
  snprintf(set_width, sizeof set_width, "width=%s", width);
  const char *overrides[] = {set_width};
  SpecOptions opt = {.spec_path = GHOSTCC_SOURCE_DIR "/specs/ghostnet.yaml",
                     .overrides = overrides, .n_overrides = 1};
  return spec_load(&arena, &opt);
}

Test(plan, ghostnet_plans_are_valid_at_three_widths) {
  static const char *const widths[] = {"0.5", "1.0", "1.3"};
  for (size_t i = 0; i < sizeof widths / sizeof *widths; i++) {
    Graph *g = ghostnet(widths[i]);
    MemPlan plan = plan_memory(g, &arena);
    char what[64];
    snprintf(what, sizeof what, "GhostNet width %s", widths[i]);
    expect_valid_plan(g, &plan, what);
  }
}

Test(plan, ghostnet_1_0_reuses_memory_close_to_the_bound) {
  Graph *g = ghostnet("1.0");
  MemPlan plan = plan_memory(g, &arena);
  expect_valid_plan(g, &plan, "GhostNet 1.0");
  printf("GhostNet 1.0: arena %zu bytes, lower bound %zu, all "
         "intermediates %zu\n", plan.arena_bytes, plan.lower_bound,
         plan.sum_bytes);
  cr_expect(plan.arena_bytes * 4 <= plan.sum_bytes,
            "the arena (%zu bytes) should be well under a quarter of all "
            "intermediates (%zu)", plan.arena_bytes, plan.sum_bytes);
  cr_expect(plan.arena_bytes * 100 <= plan.lower_bound * 105,
            "the arena (%zu bytes) should be within 5%% of the lower bound "
            "(%zu)", plan.arena_bytes, plan.lower_bound);
}

Test(plan, plan_is_reproducible) {
  Graph *g = ghostnet("1.0");
  MemPlan first = plan_memory(g, &arena);
  MemPlan second = plan_memory(g, &arena);
  cr_expect(first.arena_bytes == second.arena_bytes &&
                memcmp(first.offset, second.offset,
                       (size_t)g->n_values * sizeof(size_t)) == 0,
            "planning the same graph twice gives the same offsets");
}

// The checker must not be vacuous: each kind of corruption is caught.
Test(plan, checker_rejects_broken_plans) {
  Graph *g = ghostnet("1.0");
  MemPlan good = plan_memory(g, &arena);
  const Life *life = lifetimes(g);
  // Two intermediates live at the same step: a node's input and output
  // (not written in place).
  int u = -1, v = -1;
  for (int i = 1; i < g->n_nodes && u < 0; i++) {
    int in = g->nodes[i].in[0], out = g->nodes[i].out;
    if (life[in].in_arena && life[out].in_arena &&
        good.in_place_of[out] != in) {
      u = in;
      v = out;
    }
  }
  cr_assert(u >= 0, "GhostNet has a node between two intermediates");
  size_t *offsets = arena_array(&arena, (size_t)g->n_values, sizeof(size_t));
  char msg[1024];

  MemPlan bad = good;
  bad.offset = offsets;
  memcpy(offsets, good.offset, (size_t)g->n_values * sizeof(size_t));
  offsets[v] = offsets[u];
  const char *problem = plan_problem(g, &bad, msg, sizeof msg);
  // Moving v may also strand a value written in place of it.
  cr_expect(problem && (strstr(problem, "overlap") ||
                        strstr(problem, "in place of")),
            "sharing bytes between live values is caught, got: %s", problem);

  memcpy(offsets, good.offset, (size_t)g->n_values * sizeof(size_t));
  offsets[u] += GH_ARENA_ALIGN / 2;
  problem = plan_problem(g, &bad, msg, sizeof msg);
  cr_expect(problem && strstr(problem, "aligned"),
            "a misaligned offset is caught, got: %s", problem);

  memcpy(offsets, good.offset, (size_t)g->n_values * sizeof(size_t));
  bad.arena_bytes = good.arena_bytes - GH_ARENA_ALIGN;
  problem = plan_problem(g, &bad, msg, sizeof msg);
  cr_expect(problem && strstr(problem, "runs past the arena"),
            "an arena too small is caught, got: %s", problem);

  bad.arena_bytes = good.arena_bytes;
  bad.lower_bound = good.lower_bound - GH_ARENA_ALIGN;
  problem = plan_problem(g, &bad, msg, sizeof msg);
  cr_expect(problem && strstr(problem, "lower_bound"),
            "a wrong lower bound is caught, got: %s", problem);
}

//
// Random graphs
//

// splitmix64: a seeded generator, so every failure can be replayed.
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform in [lo, hi].
static int random_int(uint64_t *state, int lo, int hi) {
  return lo + (int)(next_random(state) % (uint64_t)(hi - lo + 1));
}

enum { MAX_BODY = 60, MAX_VALUES = 4 * MAX_BODY };

typedef struct {
  Graph *g;
  uint64_t rng;
  bool consumed[MAX_VALUES];
} Builder;

static int add(Builder *b, Node n) {
  for (int k = 0; k < n.n_in; k++)
    b->consumed[n.in[k]] = true;
  cr_assert(b->g->n_values < MAX_VALUES, "random graph outgrew the builder");
  return graph_add_node(b->g, n);
}

static Node unary(OpKind op, int from) {
  Node n = node_init(op, op_names[op], (SrcLoc){0});
  n.in[0] = from;
  n.n_in = 1;
  return n;
}

static const Value *value(const Builder *b, int v) {
  return &b->g->values[v];
}

// Half the time the latest value (a chain), else any earlier one (a skip
// connection, which stretches that value's lifetime).
static int pick(Builder *b) {
  int latest = b->g->n_values - 1;
  return random_int(&b->rng, 0, 1) ? latest : random_int(&b->rng, 0, latest);
}

// A random earlier value (x included) with the spatial size of x, and its
// channels too if same_channels.
static int pick_like(Builder *b, int x, bool same_channels) {
  int candidates[MAX_VALUES], n = 0;
  const Value *vx = value(b, x);
  for (int v = 0; v < b->g->n_values; v++) {
    const Value *vv = value(b, v);
    if (vv->h == vx->h && vv->w == vx->w && (!same_channels || vv->c == vx->c))
      candidates[n++] = v;
  }
  return candidates[random_int(&b->rng, 0, n - 1)];
}

static void add_random_node(Builder *b) {
  int x = pick(b);
  const Value *in = value(b, x);
  switch (random_int(&b->rng, 0, 5)) {
  case 0: {
    Node conv = unary(GH_OP_CONV2D, x);
    conv.kh = conv.kw = 2 * random_int(&b->rng, 0, 2) + 1;
    conv.pad_h = conv.pad_w = conv.kh / 2;
    conv.stride_h = conv.stride_w = random_int(&b->rng, 1, 2);
    if (random_int(&b->rng, 0, 3) == 0) {
      conv.groups = in->c;  // depthwise
      conv.out_features = in->c;
    } else {
      conv.out_features = random_int(&b->rng, 1, 24);
    }
    add(b, conv);
    break;
  }
  case 1: {
    Node sum = unary(GH_OP_ADD, x);
    sum.in[1] = pick_like(b, x, true);
    sum.n_in = 2;
    add(b, sum);
    break;
  }
  case 2: {
    Node cat = unary(GH_OP_CONCAT, x);
    cat.n_in = random_int(&b->rng, 2, 4);
    int channels = in->c;
    for (int k = 1; k < cat.n_in; k++) {
      cat.in[k] = pick_like(b, x, false);
      channels += value(b, cat.in[k])->c;
    }
    if (channels <= 96)  // keeps the tensors small
      add(b, cat);
    break;
  }
  case 3: {
    Node relu = unary(GH_OP_ACTIVATION, x);
    relu.act = GH_ACT_RELU;
    add(b, relu);
    break;
  }
  case 4: {
    Node pool = unary(random_int(&b->rng, 0, 1) ? GH_OP_MAXPOOL
                                                 : GH_OP_AVGPOOL, x);
    bool halve = in->h >= 2 && in->w >= 2 && random_int(&b->rng, 0, 1);
    pool.kh = pool.kw = halve ? 2 : 3;
    pool.stride_h = pool.stride_w = halve ? 2 : 1;
    pool.pad_h = pool.pad_w = halve ? 0 : 1;
    add(b, pool);
    break;
  }
  default: {
    Node slice = unary(GH_OP_SLICE, x);
    slice.begin = random_int(&b->rng, 0, in->c - 1);
    slice.end = random_int(&b->rng, slice.begin + 1, in->c);
    add(b, slice);
    break;
  }
  }
}

// A random DAG in which every value but the output is read by a later
// node: values nobody read are pooled and concatenated into the output.
static Graph *random_graph(uint64_t seed) {
  Builder *b = arena_alloc(&arena, sizeof *b);
  b->rng = seed;
  b->g = graph_new(&arena, "random");
  Node in = node_init(GH_OP_INPUT, "input", (SrcLoc){0});
  in.shape[0] = random_int(&b->rng, 1, 16);
  in.shape[1] = random_int(&b->rng, 1, 24);
  in.shape[2] = random_int(&b->rng, 1, 24);
  add(b, in);
  int body = random_int(&b->rng, 1, MAX_BODY);
  for (int i = 0; i < body; i++)
    add_random_node(b);

  int n_values = b->g->n_values, out = -1;
  for (int v = 0; v < n_values; v++) {
    if (b->consumed[v])
      continue;
    int pooled = add(b, unary(GH_OP_GLOBAL_AVGPOOL, v));
    if (out < 0) {
      out = pooled;
    } else {
      Node cat = unary(GH_OP_CONCAT, out);
      cat.in[1] = pooled;
      cat.n_in = 2;
      out = add(b, cat);
    }
  }
  for (int v = 0; v < b->g->n_values; v++)
    cr_assert(b->consumed[v] || v == b->g->output,
              "seed %llu: value %d is never read", (unsigned long long)seed,
              v);
  return b->g;
}

Test(plan, random_graphs_get_valid_plans) {
  int with_skips = 0;
  for (uint64_t seed = 1; seed <= 200; seed++) {
    Graph *g = random_graph(seed);
    MemPlan plan = plan_memory(g, &arena);
    char what[64];
    snprintf(what, sizeof what, "random graph %llu (%d nodes)",
             (unsigned long long)seed, g->n_nodes);
    expect_valid_plan(g, &plan, what);
    // Count graphs where some value outlives the next node: reuse is then
    // more than ping-pong between neighbours.
    const Life *life = lifetimes(g);
    for (int v = 0; v < g->n_values; v++)
      if (life[v].in_arena && life[v].last > life[v].first + 1) {
        with_skips++;
        break;
      }
  }
  cr_expect(with_skips >= 100, "only %d of 200 graphs have skip connections",
            with_skips);
}

Test(plan, no_intermediates_means_an_empty_arena) {
  Graph *g = graph_new(&arena, "tiny");
  Node in = node_init(GH_OP_INPUT, "input", (SrcLoc){0});
  in.shape[0] = in.shape[1] = in.shape[2] = 4;
  graph_add_node(g, in);
  graph_add_node(g, unary(GH_OP_GLOBAL_AVGPOOL, g->input));
  MemPlan plan = plan_memory(g, &arena);
  expect_valid_plan(g, &plan, "input -> output");
  cr_expect(plan.arena_bytes == 0 && plan.lower_bound == 0 &&
                plan.sum_bytes == 0,
            "nothing to place: arena %zu, bound %zu, sum %zu",
            plan.arena_bytes, plan.lower_bound, plan.sum_bytes);
}
