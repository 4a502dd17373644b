// Runs the models ghostcc_add_model generated: both GhostNets on the same
// image (sampled at each one's resolution) and tiny, whose result is known,
// twice: as tiny and as tiny-copy, whose name is not a plain identifier.
// Exits 0 only if every run returns OK and every logit is finite.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ghost_big.h"
#include "ghost_small.h"
#include "tiny.h"
#include "tiny_copy__037b0454.h"

typedef int (*RunFn)(const float *, float *, void *);

// A smooth test image in [-1, 1], the same picture at any resolution.
static void fill_image(float *x, int c, int h, int w) {
  for (int k = 0; k < c; k++)
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++)
        x[((size_t)k * h + i) * w + j] =
            sinf(3.0f * (float)i / (float)h + (float)k) *
            cosf(5.0f * (float)j / (float)w - (float)k);
}

static float *run(const char *name, RunFn fn, const float *input,
                  size_t out_size, size_t arena_bytes) {
  float *out = malloc(out_size * sizeof *out);
  size_t bytes = (arena_bytes + 63) / 64 * 64;
  void *arena = aligned_alloc(64, bytes ? bytes : 64);
  if (!out || !arena) {
    fprintf(stderr, "%s: out of memory\n", name);
    exit(1);
  }
  int rc = fn(input, out, arena);
  free(arena);
  if (rc != 0) {
    fprintf(stderr, "%s: run returned %d\n", name, rc);
    free(out);
    return NULL;
  }
  for (size_t i = 0; i < out_size; i++)
    if (!isfinite(out[i])) {
      fprintf(stderr, "%s: logit %zu is not finite\n", name, i);
      free(out);
      return NULL;
    }
  return out;
}

static int ghostnet(const char *name, RunFn fn, int c, int h, int w,
                    size_t out_size, size_t arena_bytes) {
  float *input = malloc((size_t)c * h * w * sizeof *input);
  if (!input)
    return 1;
  fill_image(input, c, h, w);
  float *out = run(name, fn, input, out_size, arena_bytes);
  free(input);
  if (!out)
    return 1;
  size_t top = 0;
  for (size_t i = 1; i < out_size; i++)
    if (out[i] > out[top])
      top = i;
  printf("%s: input %dx%dx%d, output %zu, arena %zu bytes, top-1 %zu "
         "(%.4f)\n", name, c, h, w, out_size, arena_bytes, top, out[top]);
  free(out);
  return 0;
}

// tiny.safetensors: logits = W x + b, exact in float.
static int tiny(const char *name, RunFn fn) {
  static const float x[TINY_INPUT_SIZE] = {1, 2, 3, 4};
  static const float want[TINY_OUTPUT_SIZE] = {1.5f, 3.0f, 10.0f};
  float *y = run(name, fn, x, TINY_OUTPUT_SIZE, TINY_ARENA_BYTES);
  if (!y)
    return 1;
  int fails = 0;
  for (int i = 0; i < TINY_OUTPUT_SIZE; i++)
    if (y[i] != want[i]) {
      fprintf(stderr, "%s: logit %d is %g, want %g\n", name, i, y[i], want[i]);
      fails++;
    }
  printf("%s: output %g %g %g\n", name, y[0], y[1], y[2]);
  free(y);
  return fails;
}

int main(void) {
  int fails = 0;
  fails += ghostnet("ghost_small", ghost_small_run, GHOST_SMALL_INPUT_CHANNELS,
                    GHOST_SMALL_INPUT_HEIGHT, GHOST_SMALL_INPUT_WIDTH,
                    GHOST_SMALL_OUTPUT_SIZE, GHOST_SMALL_ARENA_BYTES);
  fails += ghostnet("ghost_big", ghost_big_run, GHOST_BIG_INPUT_CHANNELS,
                    GHOST_BIG_INPUT_HEIGHT, GHOST_BIG_INPUT_WIDTH,
                    GHOST_BIG_OUTPUT_SIZE, GHOST_BIG_ARENA_BYTES);

  _Static_assert(TINY_COPY__037B0454_OUTPUT_SIZE == TINY_OUTPUT_SIZE,
                 "tiny-copy is tiny");
  fails += tiny("tiny", tiny_run);
  fails += tiny("tiny-copy", tiny_copy__037b0454_run);
  return fails ? 1 : 0;
}
