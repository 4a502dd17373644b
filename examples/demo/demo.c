// A small program around a generated model: runs ghostnet_run on an image
// (raw f32 NCHW from a file, or a synthetic test pattern), prints the top-5
// classes and the time per inference.
//   cc -std=c11 -O2 -I OUT demo.c OUT/*.c -lm
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ghostnet.h"

enum { WARMUP_RUNS = 3, TIMED_RUNS = 20 };

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

// A smooth colour pattern, normalised like ImageNet inputs.
static void test_pattern(float *image) {
  const int c = GHOSTNET_INPUT_CHANNELS, h = GHOSTNET_INPUT_HEIGHT,
            w = GHOSTNET_INPUT_WIDTH;
  for (int ch = 0; ch < c; ch++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        image[((size_t)ch * h + y) * w + x] =
            sinf(0.05f * (float)(x + 7 * ch)) * cosf(0.03f * (float)y) * 1.5f;
}

static int read_image(const char *path, float *image) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  size_t n = fread(image, sizeof(float), GHOSTNET_INPUT_SIZE, f);
  int extra = fgetc(f);
  fclose(f);
  if (n != GHOSTNET_INPUT_SIZE || extra != EOF) {
    fprintf(stderr, "%s: expected %d raw floats (NCHW)\n", path,
            GHOSTNET_INPUT_SIZE);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  float *image = malloc(sizeof(float) * GHOSTNET_INPUT_SIZE);
  float *logits = malloc(sizeof(float) * GHOSTNET_OUTPUT_SIZE);
  size_t arena_bytes = (GHOSTNET_ARENA_BYTES + GHOSTNET_ARENA_ALIGN - 1) /
                       GHOSTNET_ARENA_ALIGN * GHOSTNET_ARENA_ALIGN;
  void *arena = aligned_alloc(GHOSTNET_ARENA_ALIGN, arena_bytes);
  if (!image || !logits || !arena) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  if (argc > 1) {
    if (read_image(argv[1], image))
      return 1;
  } else {
    test_pattern(image);
  }

  double times[TIMED_RUNS];
  for (int run = 0; run < WARMUP_RUNS + TIMED_RUNS; run++) {
    double start = now_ms();
    int status = ghostnet_run(image, logits, arena);
    if (status != GHOSTNET_OK) {
      fprintf(stderr, "ghostnet_run failed: %d\n", status);
      return 1;
    }
    if (run >= WARMUP_RUNS)
      times[run - WARMUP_RUNS] = now_ms() - start;
  }
  qsort(times, TIMED_RUNS, sizeof *times, by_value);

  // Softmax for readable scores.
  double max = logits[0], sum = 0;
  for (int i = 1; i < GHOSTNET_OUTPUT_SIZE; i++)
    max = logits[i] > max ? logits[i] : max;
  for (int i = 0; i < GHOSTNET_OUTPUT_SIZE; i++)
    sum += exp(logits[i] - max);
  printf("top-5 classes (%s):\n", argc > 1 ? argv[1] : "synthetic test pattern");
  int taken[5];
  for (int k = 0; k < 5 && k < GHOSTNET_OUTPUT_SIZE; k++) {
    int best = -1;
    for (int i = 0; i < GHOSTNET_OUTPUT_SIZE; i++) {
      bool used = false;
      for (int j = 0; j < k; j++)
        used |= taken[j] == i;
      if (!used && (best < 0 || logits[i] > logits[best]))
        best = i;
    }
    taken[k] = best;
    printf("  %d. class %4d  logit %8.4f  p=%.4f\n", k + 1, best,
           logits[best], exp(logits[best] - max) / sum);
  }
  printf("%.3f ms per inference (median of %d runs, min %.3f ms), arena %d "
         "bytes\n",
         times[TIMED_RUNS / 2], TIMED_RUNS, times[0], GHOSTNET_ARENA_BYTES);
  free(image);
  free(logits);
  free(arena);
  return 0;
}
