// Classifies the digits test split with the C that ghostcc generated from
// examples/digits/digits.yaml and the trained weights: prints the accuracy,
// the confusion matrix, a few digits drawn in the terminal, the time per
// image, and whether every prediction is PyTorch's.
//
//   ghostcc examples/digits/digits.yaml
//     --weights examples/digits/digits.safetensors -o OUT
//   cc -std=c11 -O2 -I OUT examples/digits/digits_demo.c OUT/*.c -lm
//   ./a.out examples/digits
//
// DIR holds test_images.u8 (N x 8 x 8 bytes, values 0..16), test_labels.u8
// (N bytes) and pytorch_predictions.txt (one line per image: index, label,
// PyTorch's prediction, its 10 logits). Exit status: 0 if every prediction
// equals PyTorch's, 1 otherwise or on error.
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digits.h"

enum {
  SIDE = 8,
  PIXELS = SIDE * SIDE,
  CLASSES = DIGITS_OUTPUT_SIZE,
  MAX_IMAGES = 100000,
  SHOW = 8,          // digits drawn in the terminal...
  PER_ROW = 4,       // ...this many side by side
  MIN_PASSES = 5,    // timing: at least this many passes over the split...
  MAX_PASSES = 200,  // ...and at most this many, for about MIN_SECONDS
};
static const double MIN_SECONDS = 0.5;

_Static_assert(DIGITS_INPUT_SIZE == PIXELS, "digits.yaml takes 1x8x8");

// The network's input, exactly as train.py computes it in float32:
// (v / 16 - 0.5) / 0.5, every step exact.
static float normalise(unsigned char v) {
  return ((float)v / 16.0f - 0.5f) / 0.5f;
}

static double now_us(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static char *join_path(const char *dir, const char *file) {
  size_t n = strlen(dir) + strlen(file) + 2;
  char *p = malloc(n);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  snprintf(p, n, "%s/%s", dir, file);
  return p;
}

// Reads a whole file of at most `max` bytes; returns its size or -1.
static long read_file(const char *path, unsigned char *buf, long max) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return -1;
  }
  size_t n = fread(buf, 1, (size_t)max, f);
  bool more = fgetc(f) != EOF;
  fclose(f);
  if (more) {
    fprintf(stderr, "%s: larger than %ld bytes\n", path, max);
    return -1;
  }
  return (long)n;
}

// PyTorch's prediction and logits per image, from pytorch_predictions.txt.
static int read_reference(const char *path, int n, const unsigned char *labels,
                          int *pred, float *logits) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    return 1;
  }
  char line[4096];
  int row = 0, lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (line[0] == '#' || line[0] == '\n')
      continue;
    char *p = line, *end;
    long index = strtol(p, &end, 10), label, prediction;
    bool ok = end != p;
    label = strtol(p = end, &end, 10);
    ok = ok && end != p;
    prediction = strtol(p = end, &end, 10);
    ok = ok && end != p;
    for (int c = 0; ok && c < CLASSES; c++) {
      logits[(size_t)row * CLASSES + c] = strtof(p = end, &end);
      ok = end != p;
    }
    if (!ok || index != row || row >= n || label != labels[row] ||
        prediction < 0 || prediction >= CLASSES) {
      fprintf(stderr, "%s:%d: expected \"%d LABEL PREDICTION LOGITS...\" "
              "matching the test split\n", path, lineno, row);
      fclose(f);
      return 1;
    }
    pred[row++] = (int)prediction;
  }
  fclose(f);
  if (row != n) {
    fprintf(stderr, "%s: %d predictions for %d test images\n", path, row, n);
    return 1;
  }
  return 0;
}

static int argmax(const float *v, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[best])
      best = i;
  return best;
}

// Draws digits PER_ROW to a row, two characters per pixel, denser
// characters for more ink, each with its index, label and prediction.
static void draw(const unsigned char *images, const unsigned char *labels,
                 const int *pred, const int *which, int count) {
  static const char ramp[] = " .:-=+*#%@";  // 10 shades for values 0..16
  for (int row = 0; row < count; row += PER_ROW) {
    int end = row + PER_ROW < count ? row + PER_ROW : count;
    for (int y = 0; y < SIDE; y++) {
      for (int k = row; k < end; k++) {
        printf("  |");
        for (int x = 0; x < SIDE; x++) {
          int v = images[(size_t)which[k] * PIXELS + y * SIDE + x];
          char ch = ramp[(v * 9 + 8) / 16];
          printf("%c%c", ch, ch);
        }
        printf("|");
      }
      printf("\n");
    }
    for (int k = row; k < end; k++) {
      int i = which[k];
      char cell[64];
      snprintf(cell, sizeof cell, "#%d: %d -> %d%s", i, labels[i], pred[i],
               pred[i] == labels[i] ? "" : " !!");
      printf("  %-*s", k + 1 < end ? 2 * SIDE + 2 : 0, cell);
    }
    printf("\n\n");
  }
}

int main(int argc, char **argv) {
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: %s DIR  (DIR: test_images.u8, test_labels.u8, "
            "pytorch_predictions.txt)\n", argv[0]);
    return 1;
  }
  const char *dir = argv[1];
  unsigned char *images = malloc((size_t)MAX_IMAGES * PIXELS);
  unsigned char *labels = malloc(MAX_IMAGES + 1);
  if (!images || !labels) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  char *images_path = join_path(dir, "test_images.u8");
  char *labels_path = join_path(dir, "test_labels.u8");
  char *ref_path = join_path(dir, "pytorch_predictions.txt");
  long image_bytes = read_file(images_path, images, (long)MAX_IMAGES * PIXELS);
  long n = read_file(labels_path, labels, MAX_IMAGES);
  if (image_bytes < 0 || n < 0)
    return 1;
  if (n == 0 || image_bytes != n * PIXELS) {
    fprintf(stderr, "%s: %ld bytes, expected %ld (%ld images of 8x8)\n",
            images_path, image_bytes, n * PIXELS, n);
    return 1;
  }
  for (long i = 0; i < n * PIXELS; i++)
    if (images[i] > 16 || (i < n && labels[i] >= CLASSES)) {
      fprintf(stderr, "%s: values must be 0..16 and labels 0..9\n", dir);
      return 1;
    }

  float *inputs = malloc(sizeof(float) * (size_t)n * PIXELS);
  float *logits = malloc(sizeof(float) * (size_t)n * CLASSES);
  float *ref_logits = malloc(sizeof(float) * (size_t)n * CLASSES);
  int *pred = malloc(sizeof(int) * (size_t)n);
  int *ref_pred = malloc(sizeof(int) * (size_t)n);
  void *arena = aligned_alloc(DIGITS_ARENA_ALIGN,
                              (DIGITS_ARENA_BYTES + DIGITS_ARENA_ALIGN - 1) /
                                  DIGITS_ARENA_ALIGN * DIGITS_ARENA_ALIGN);
  if (!inputs || !logits || !ref_logits || !pred || !ref_pred || !arena) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  if (read_reference(ref_path, (int)n, labels, ref_pred, ref_logits))
    return 1;
  for (long i = 0; i < n * PIXELS; i++)
    inputs[i] = normalise(images[i]);

  // Classify the split once for the results...
  for (long i = 0; i < n; i++) {
    if (digits_run(inputs + i * PIXELS, logits + i * CLASSES, arena) !=
        DIGITS_OK) {
      fprintf(stderr, "digits_run failed\n");
      return 1;
    }
    pred[i] = argmax(logits + i * CLASSES, CLASSES);
  }
  // ...then again, whole passes, for the time per image: wall-clock time,
  // and the process's CPU time, which a busy machine inflates less.
  double wall[MAX_PASSES], cpu[MAX_PASSES];
  int passes = 0;
  double spent = 0;
  float scratch[CLASSES];
  while (passes < MAX_PASSES && (passes < MIN_PASSES || spent < MIN_SECONDS)) {
    double start = now_us(CLOCK_MONOTONIC);
    double start_cpu = now_us(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < n; i++)
      digits_run(inputs + i * PIXELS, scratch, arena);
    cpu[passes] = (now_us(CLOCK_PROCESS_CPUTIME_ID) - start_cpu) / (double)n;
    wall[passes] = (now_us(CLOCK_MONOTONIC) - start) / (double)n;
    spent += wall[passes++] * (double)n / 1e6;
  }
  qsort(wall, (size_t)passes, sizeof *wall, by_value);
  qsort(cpu, (size_t)passes, sizeof *cpu, by_value);

  int confusion[CLASSES][CLASSES] = {{0}};
  int correct = 0, ref_correct = 0, same = 0;
  double max_diff = 0;
  for (long i = 0; i < n; i++) {
    confusion[labels[i]][pred[i]]++;
    correct += pred[i] == labels[i];
    ref_correct += ref_pred[i] == labels[i];
    same += pred[i] == ref_pred[i];
    for (int c = 0; c < CLASSES; c++) {
      double d = fabs((double)logits[i * CLASSES + c] -
                      (double)ref_logits[i * CLASSES + c]);
      max_diff = d > max_diff ? d : max_diff;
    }
  }

  printf("digits: scikit-learn's handwritten digits, test split of %ld "
         "images (8x8, 0..16)\n\n", n);
  // A few digits: the mistakes first, then the first correct one of each
  // digit from 0 up.
  int which[SHOW], count = 0;
  for (long i = 0; i < n && count < SHOW; i++)
    if (pred[i] != labels[i])
      which[count++] = (int)i;
  for (int d = 0; d < CLASSES && count < SHOW; d++)
    for (long i = 0; i < n; i++)
      if (labels[i] == d && pred[i] == d) {
        which[count++] = (int)i;
        break;
      }
  printf("a few test images (#index: true digit -> prediction; !! marks a "
         "mistake):\n\n");
  draw(images, labels, pred, which, count);

  printf("confusion matrix (rows: true digit, columns: predicted)\n     ");
  for (int c = 0; c < CLASSES; c++)
    printf("%4d", c);
  printf("\n");
  for (int t = 0; t < CLASSES; t++) {
    printf("  %d: ", t);
    for (int c = 0; c < CLASSES; c++) {
      if (confusion[t][c])
        printf("%4d", confusion[t][c]);
      else
        printf("%4s", ".");
    }
    printf("\n");
  }

  printf("\naccuracy (generated C): %d/%ld = %.2f%%\n", correct, n,
         100.0 * correct / (double)n);
  printf("accuracy (PyTorch):     %d/%ld = %.2f%%\n", ref_correct, n,
         100.0 * ref_correct / (double)n);
  printf("predictions identical to PyTorch's: %d/%ld%s; max |logit "
         "difference| %.2g\n", same, n, same == n ? "" : "  MISMATCH",
         max_diff);
  if (same != n)
    for (long i = 0; i < n; i++)
      if (pred[i] != ref_pred[i])
        fprintf(stderr, "image %ld: generated C predicts %d, PyTorch %d\n", i,
                pred[i], ref_pred[i]);
  printf("%.1f us per image (median of %d passes over the split; CPU time "
         "%.1f us), arena %d bytes\n", wall[passes / 2], passes,
         cpu[passes / 2], DIGITS_ARENA_BYTES);

  free(images_path);
  free(labels_path);
  free(ref_path);
  free(images);
  free(labels);
  free(inputs);
  free(logits);
  free(ref_logits);
  free(pred);
  free(ref_pred);
  free(arena);
  return same == n ? 0 : 1;
}
