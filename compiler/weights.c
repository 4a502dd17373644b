// Binding parameters to data: from a safetensors file by key, or random.
#include "ghostcc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void format_shape(char *buf, size_t size, int ndim, const int64_t *dims) {
  size_t len = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < ndim && len < size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? ", " : "",
                            (long long)dims[i]);
  if (len < size)
    snprintf(buf + len, size - len, "]");
}

// A layer declared without bias must not silently drop a trained one.
static void check_no_stray_bias(const Graph *g, const StFile *f,
                                const char *path) {
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = &g->nodes[i];
    if ((n->op != GH_OP_CONV2D && n->op != GH_OP_LINEAR) || n->params[1] >= 0)
      continue;
    char key[1024];
    snprintf(key, sizeof key, "%s.bias", n->name);
    if (st_find(f, key))
      gh_error_at(n->loc, "%s has a tensor '%s' but layer '%s' has no bias "
                  "(add `bias: true`)", path, key, n->name);
  }
}

void weights_bind(Graph *g, const StFile *f, const char *path) {
  for (int i = 0; i < g->n_params; i++) {
    Param *p = &g->params[i];
    const StTensor *t = st_find(f, p->key);
    if (!t)
      gh_error_at(p->loc, "%s has no tensor '%s'", path, p->key);
    int64_t want[4];
    for (int d = 0; d < p->ndim; d++)
      want[d] = p->dims[d];
    bool same = t->ndim == p->ndim;
    for (int d = 0; same && d < p->ndim; d++)
      same = t->shape[d] == want[d];
    if (!same) {
      char expected[128], actual[128];
      format_shape(expected, sizeof expected, p->ndim, want);
      format_shape(actual, sizeof actual, t->ndim, t->shape);
      gh_error_at(p->loc, "%s: tensor '%s' has shape %s, expected %s", path,
                  p->key, actual, expected);
    }
    if (!t->data)
      gh_error_at(p->loc, "%s: tensor '%s' has dtype %s, expected F32, F16 "
                  "or BF16", path, p->key, t->dtype);
    for (size_t k = 0; k < t->count; k++)
      if (!isfinite(t->data[k]))
        gh_error_at(p->loc, "%s: tensor '%s' holds a non-finite value at "
                    "element %zu", path, p->key, k);
    p->data = t->data;
  }
  check_no_stray_bias(g, f, path);
}

// splitmix64: a tiny, well-mixed generator; the same seed gives the same
// weights on every platform.
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform in [lo, hi).
static float uniform(uint64_t *state, float lo, float hi) {
  double u = (double)(next_random(state) >> 11) / 9007199254740992.0;
  return lo + (float)(u * (hi - lo));
}

// Fills one node's parameters so that activations keep a sane scale through
// a deep network: weights ~ U(-a, a) with a = sqrt(3 / fan_in) (variance
// 1/fan_in), BatchNorm statistics away from the identity.
static void randomize_node(Graph *g, const Node *n, uint64_t *state) {
  for (int slot = 0; slot < GH_MAX_PARAMS; slot++) {
    if (n->params[slot] < 0)
      continue;
    Param *p = &g->params[n->params[slot]];
    p->data = arena_array(g->arena, p->count, sizeof(float));
    float lo = -0.1f, hi = 0.1f;
    if (n->op == GH_OP_BATCHNORM) {
      static const float range[4][2] = {
          {0.5f, 1.5f}, {-0.2f, 0.2f}, {-0.2f, 0.2f}, {0.5f, 2.0f}};
      lo = range[slot][0];
      hi = range[slot][1];
    } else if (slot == 0) {
      size_t fan_in = p->count / (size_t)p->dims[0];
      hi = (float)sqrt(3.0 / (double)fan_in);
      lo = -hi;
    }
    for (size_t k = 0; k < p->count; k++)
      p->data[k] = uniform(state, lo, hi);
  }
}

void weights_random(Graph *g, uint64_t seed) {
  uint64_t state = seed;
  for (int i = 0; i < g->n_nodes; i++)
    randomize_node(g, &g->nodes[i], &state);
}
