// Checks the reference interpreter itself against PyTorch, on the graph as
// lowered and after the full pass pipeline: the oracle that passes and
// backends are tested against must match the framework first.
// usage: interp_check SPEC WEIGHTS WIDTH RESOLUTION input.bin expected.bin
//        [NAME=VALUE...]   (further spec parameters, as ghostcc --set)
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compiler/ghostcc.h"

#define RTOL 1e-4  // as the harness for generated code

static float *read_floats(Arena *a, const char *path, size_t n) {
  size_t len;
  unsigned char *bytes = read_file(a, path, n * sizeof(float), &len);
  if (len != n * sizeof(float))
    gh_error("%s: %zu bytes, expected %zu floats", path, len, n);
  float *f = arena_array(a, n, sizeof(float));
  memcpy(f, bytes, len);
  return f;
}

static size_t argmax(const float *x, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (x[i] > x[best])
      best = i;
  return best;
}

static bool compare(const char *what, const float *got, const float *expected,
                    size_t n) {
  size_t worst = 0;
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - expected[i]);
    if (d > max_diff || isnan(d)) {
      max_diff = d;
      worst = i;
    }
    if (fabs(expected[i]) > max_ref)
      max_ref = fabs(expected[i]);
  }
  size_t top_got = argmax(got, n), top_ref = argmax(expected, n);
  bool pass = max_diff <= RTOL * max_ref && top_got == top_ref;
  printf("interpreter (%s): max |diff| = %.4g at [%zu], tolerance %.4g, "
         "top-1 %zu (expected %zu): %s\n", what, max_diff, worst,
         RTOL * max_ref, top_got, top_ref, pass ? "PASS" : "FAIL");
  return pass;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: %s SPEC WEIGHTS WIDTH RESOLUTION input.bin "
            "expected.bin [NAME=VALUE...]\n", argv[0]);
    return 2;
  }
  Arena a = {0};
  const char **overrides = arena_array(&a, (size_t)argc, sizeof *overrides);
  overrides[0] = arena_printf(&a, "width=%s", argv[3]);
  overrides[1] = arena_printf(&a, "resolution=%s", argv[4]);
  SpecOptions opt = {.spec_path = argv[1], .overrides = overrides,
                     .n_overrides = 2};
  // NAME=VALUE overrides the spec's parameters; ghostify=... is --ghostify.
  for (int i = 7; i < argc; i++) {
    if (!strncmp(argv[i], "ghostify=", 9))
      opt.ghostify = argv[i] + 9;
    else
      overrides[opt.n_overrides++] = argv[i];
  }
  Graph *g = spec_load(&a, &opt);
  weights_bind(g, st_load(&a, argv[2]), argv[2]);
  const Value *in = &g->values[g->input], *out = &g->values[g->output];
  float *input = read_floats(&a, argv[5], value_count(in));
  size_t n_out = value_count(out);  // the graph changes below
  float *expected = read_floats(&a, argv[6], n_out);
  bool pass = compare("lowered", interp_run(g, input, &a), expected, n_out);
  run_passes(g, &(PassOptions){0});
  pass &= compare("after passes", interp_run(g, input, &a), expected, n_out);
  arena_free(&a);
  return pass ? 0 : 1;
}
