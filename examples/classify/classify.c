// Classifies image files (PNG or JPEG) with any model ghostcc generated:
// loads each image (stb_image), resizes it to the model's input size,
// normalises it, runs the model and prints the top-k classes.
//
// Build against a model generated with `--name model`, so that its header
// is model.h and its API MODEL_* / model_run:
//
//   ghostcc SPEC --weights W.safetensors --name model -o OUT
//   cc -std=c11 -O2 -I OUT examples/classify/classify.c OUT/*.c -lm -o classify
//   ./classify [options] IMAGE...
//
// Preprocessing, per image:
//   1. decode to 8-bit pixels, 0..255 (stb_image; 16-bit PNGs are reduced
//      to 8 bits); an alpha channel is composited over white;
//   2. resize to the model's H x W by area averaging (each output pixel is
//      the mean of the source pixels it covers, weighted by overlap; the
//      image is stretched, the aspect ratio is not kept);
//   3. with --invert, pixel = 255 - pixel (dark ink on light paper for a
//      model trained on light ink on dark);
//   4. x = (pixel / scale - mean[c]) / std[c], the spec's `preprocess`.
// The channel counts must agree: a 1-channel model takes a grey image, a
// 3-channel one an RGB image (NCHW, R first). --convert turns colour into
// grey (ITU-R BT.601 luma) or grey into RGB instead of refusing.
//
// scale, mean and std are the spec's `preprocess` section, which ghostcc
// writes into the header as MODEL_PIXEL_SCALE, MODEL_MEAN and MODEL_STD
// (brace initialisers, one value per channel); --scale, --mean and --std
// override them; without either, scale 255, mean 0, std 1. --invert is off
// unless the header defines MODEL_INVERT as 1.
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>

#include "model.h"

enum {
  C = MODEL_INPUT_CHANNELS,
  H = MODEL_INPUT_HEIGHT,
  W = MODEL_INPUT_WIDTH,
  CLASSES = MODEL_OUTPUT_SIZE,
  MAX_SIDE = 1 << 15,  // larger images are refused before decoding
};
_Static_assert(C * H * W == MODEL_INPUT_SIZE, "input is C x H x W");

#ifdef MODEL_MEAN
static const float default_mean[] = MODEL_MEAN;
static const float default_std[] = MODEL_STD;
_Static_assert(sizeof default_mean == sizeof(float) * C, "MODEL_MEAN: C values");
_Static_assert(sizeof default_std == sizeof(float) * C, "MODEL_STD: C values");
#define DEFAULTS_FROM "the spec's preprocess"
#else
#define DEFAULTS_FROM "0 and 1"
#endif
#ifndef MODEL_PIXEL_SCALE
#define MODEL_PIXEL_SCALE 255.0f
#endif
#ifndef MODEL_INVERT
#define MODEL_INVERT 0
#endif

typedef struct {
  float scale, mean[C], std[C];
  bool invert, convert, show;
  int top;
  char **labels;  // CLASSES strings, or NULL
} Options;

static const char *prog = "classify";

static void usage(FILE *to) {
  fprintf(to,
          "usage: %s [options] IMAGE...\n"
          "Classifies PNG or JPEG images with the compiled model (input "
          "%dx%dx%d,\n%d classes).\n"
          "  -k, --top K      print the K most likely classes (default 5)\n"
          "  --labels FILE    class names, one per line (line i: class i)\n"
          "  --scale S        input = (pixel / S - mean) / std, pixels 0..255\n"
          "                   (default %g)\n"
          "  --mean M[,M...]  per-channel mean: one value, or %d (default: "
          "%s)\n"
          "  --std S[,S...]   per-channel standard deviation (likewise)\n"
          "  --invert         use 255 - pixel: dark ink on light paper for a "
          "model\n"
          "                   trained on light ink on dark\n"
          "  --convert        convert colour to grey or grey to colour to "
          "match the\n"
          "                   model instead of refusing the image\n"
          "  --show           draw the model's input (after resizing)\n"
          "  -h, --help\n",
          prog, C, H, W, CLASSES, (double)MODEL_PIXEL_SCALE, C, DEFAULTS_FROM);
}

static void fail(const char *fmt, const char *arg) {
  fprintf(stderr, "%s: ", prog);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  exit(1);
}

// "a,b,c" -> C floats (one value is used for every channel).
static void parse_floats(const char *opt, const char *text, float *out,
                         bool positive) {
  float v[C];
  int n = 0;
  const char *p = text;
  for (;;) {
    char *end;
    errno = 0;
    double x = strtod(p, &end);
    if (end == p || errno || !isfinite(x) || n == C)
      break;
    v[n++] = (float)x;
    if (*end == '\0') {
      if (n != 1 && n != C)
        break;
      for (int c = 0; c < C; c++) {
        out[c] = v[n == 1 ? 0 : c];
        if (positive && !(out[c] > 0))
          fail("%s: must be positive", opt);
      }
      return;
    }
    if (*end != ',')
      break;
    p = end + 1;
  }
  if (C == 1)
    fprintf(stderr, "%s: %s '%s': expected one number (the model has one "
            "input channel)\n", prog, opt, text);
  else
    fprintf(stderr, "%s: %s '%s': expected 1 or %d comma-separated "
            "numbers\n", prog, opt, text, C);
  exit(1);
}

static char **read_labels(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
    exit(1);
  }
  char **labels = calloc(CLASSES, sizeof *labels);
  char *line = NULL;
  size_t cap = 0;
  int n = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, f)) >= 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = '\0';
    if (n < CLASSES)
      labels[n] = strdup(line);
    n++;
  }
  free(line);
  fclose(f);
  if (n != CLASSES) {
    fprintf(stderr, "%s: %s: %d labels, but the model has %d classes\n",
            prog, path, n, CLASSES);
    exit(1);
  }
  return labels;
}

// The weight of source pixel s in destination pixel d (n -> m pixels): the
// length of [s, s+1) n [d*n/m, (d+1)*n/m), divided by n/m.
static float overlap(int s, int d, int n, int m) {
  double lo = (double)d * n / m, hi = (double)(d + 1) * n / m;
  double a = s > lo ? s : lo, b = s + 1 < hi ? s + 1 : hi;
  return b > a ? (float)((b - a) / (hi - lo)) : 0.0f;
}

// Area-average resize of one plane, sw x sh -> W x H.
static void resize_plane(const float *src, int sw, int sh, float *dst) {
  float *tmp = malloc(sizeof(float) * (size_t)W * (size_t)sh);
  if (!tmp)
    fail("%s", "out of memory");
  for (int y = 0; y < sh; y++)
    for (int x = 0; x < W; x++) {
      int s0 = (int)((long long)x * sw / W);
      int s1 = (int)(((long long)(x + 1) * sw + W - 1) / W);
      double acc = 0;
      for (int s = s0; s < s1 && s < sw; s++)
        acc += overlap(s, x, sw, W) * src[(size_t)y * sw + s];
      tmp[(size_t)y * W + x] = (float)acc;
    }
  for (int y = 0; y < H; y++) {
    int s0 = (int)((long long)y * sh / H);
    int s1 = (int)(((long long)(y + 1) * sh + H - 1) / H);
    for (int x = 0; x < W; x++) {
      double acc = 0;
      for (int s = s0; s < s1 && s < sh; s++)
        acc += overlap(s, y, sh, H) * tmp[(size_t)s * W + x];
      dst[(size_t)y * W + x] = (float)acc;
    }
  }
  free(tmp);
}

static const char *channel_names(int n) {
  switch (n) {
  case 1: return "grey";
  case 2: return "grey+alpha";
  case 3: return "RGB";
  case 4: return "RGBA";
  default: return "?";
  }
}

// stb_image's reason for a failure, as " (stb_image: REASON)", unless it
// only says that some other format's decoder did not recognise the file.
static const char *reason(void) {
  static char buf[200];
  const char *r = stbi_failure_reason();
  if (!r || !strncmp(r, "Not a ", 6) || strstr(r, "not of any known type"))
    return "";
  snprintf(buf, sizeof buf, " (stb_image: %s)", r);
  return buf;
}

// Loads, converts, resizes and normalises one image into input[C*H*W];
// returns 0, or 1 after printing why not.
static int load_image(const char *path, const Options *o, float *input,
                      float *shown) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
    return 1;
  }
  // The format by its signature, so that errors can name it.
  unsigned char magic[8] = {0};
  size_t got = fread(magic, 1, sizeof magic, f);
  if (ferror(f)) {
    fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
    fclose(f);
    return 1;
  }
  const char *format =
      got == 8 && !memcmp(magic, "\x89PNG\r\n\x1a\n", 8) ? "PNG"
      : got >= 3 && !memcmp(magic, "\xff\xd8\xff", 3)   ? "JPEG"
                                                            : NULL;
  if (!format) {
    fprintf(stderr, "%s: %s: not an image: %s (PNG and JPEG are read)\n",
            prog, path, got == 0 ? "the file is empty" : "unknown format");
    fclose(f);
    return 1;
  }
  rewind(f);
  int w, h, n;
  if (!stbi_info_from_file(f, &w, &h, &n)) {
    fprintf(stderr, "%s: %s: corrupt or truncated %s header%s\n", prog, path,
            format, reason());
    fclose(f);
    return 1;
  }
  if (w > MAX_SIDE || h > MAX_SIDE) {
    fprintf(stderr, "%s: %s: %dx%d is too large (at most %d pixels a side)\n",
            prog, path, w, h, MAX_SIDE);
    fclose(f);
    return 1;
  }
  int colour = n >= 3 ? 3 : 1;  // channels without alpha
  if (colour != C && !(C == 1 || C == 3)) {
    fprintf(stderr, "%s: %s: the model takes %d input channels; images "
            "have 1 (grey) or 3 (RGB)\n", prog, path, C);
    fclose(f);
    return 1;
  }
  if (colour != C && !o->convert) {
    fprintf(stderr, "%s: %s: wrong channel count: the image is %s (%d "
            "channel%s), the model takes %d (%s); --convert converts it\n",
            prog, path, channel_names(n), n, n > 1 ? "s" : "", C,
            channel_names(C));
    fclose(f);
    return 1;
  }
  unsigned char *pixels = stbi_load_from_file(f, &w, &h, &n, 0);
  fclose(f);
  if (!pixels) {
    fprintf(stderr, "%s: %s: truncated or corrupt %s data%s\n", prog, path,
            format, reason());
    return 1;
  }

  // To floats in [0, 1], alpha composited over white, channels converted.
  size_t area = (size_t)w * (size_t)h;
  float *planes = malloc(sizeof(float) * area * C);
  if (!planes)
    fail("%s", "out of memory");
  for (size_t i = 0; i < area; i++) {
    const unsigned char *p = pixels + i * (size_t)n;
    float alpha = (n == 2 || n == 4) ? p[n - 1] / 255.0f : 1.0f;
    float rgb[3];
    for (int c = 0; c < 3; c++)
      rgb[c] = alpha < 1.0f ? p[n >= 3 ? c : 0] * alpha + 255.0f * (1 - alpha)
                            : p[n >= 3 ? c : 0];
    if (C == 1) {
      planes[i] = n >= 3 ? 0.299f * rgb[0] + 0.587f * rgb[1] +
                               0.114f * rgb[2]
                         : rgb[0];
    } else {
      for (int c = 0; c < 3; c++)
        planes[(size_t)c * area + i] = rgb[c];
    }
  }
  stbi_image_free(pixels);

  for (int c = 0; c < C; c++) {
    float *dst = input + (size_t)c * H * W;
    resize_plane(planes + (size_t)c * area, w, h, dst);
    for (int i = 0; i < H * W; i++) {
      float v = o->invert ? 255.0f - dst[i] : dst[i];
      if (c == 0)
        shown[i] = v / 255.0f;
      dst[i] = (v / o->scale - o->mean[c]) / o->std[c];
    }
  }
  free(planes);
  printf("%s: %dx%d %s, resized to %dx%d\n", path, w, h, channel_names(n), W,
         H);
  return 0;
}

// The first channel of the input as the model sees it: more ink, darker
// character (v = 1 is '@').
static void show(const float *v) {
  static const char ramp[] = " .:-=+*#%@";
  for (int y = 0; y < H; y++) {
    printf("  |");
    for (int x = 0; x < W; x++) {
      float t = v[y * W + x];
      int k = (int)lroundf((t < 0 ? 0 : t > 1 ? 1 : t) * 9);
      printf("%c%c", ramp[k], ramp[k]);
    }
    printf("|\n");
  }
}

static void print_top(const float *logits, const Options *o) {
  double max = logits[0], sum = 0;
  for (int i = 1; i < CLASSES; i++)
    max = logits[i] > max ? logits[i] : max;
  for (int i = 0; i < CLASSES; i++)
    sum += exp(logits[i] - max);
  static bool taken[CLASSES];
  memset(taken, 0, sizeof taken);
  for (int k = 0; k < o->top; k++) {
    int best = -1;
    for (int i = 0; i < CLASSES; i++)
      if (!taken[i] && (best < 0 || logits[i] > logits[best]))
        best = i;
    taken[best] = true;
    printf("  %d. class %d%s%s  p=%.4f  logit %.4f\n", k + 1, best,
           o->labels ? "  " : "", o->labels ? o->labels[best] : "",
           exp(logits[best] - max) / sum, logits[best]);
  }
}

int main(int argc, char **argv) {
  Options o = {.scale = MODEL_PIXEL_SCALE, .invert = MODEL_INVERT, .top = 5};
  for (int c = 0; c < C; c++) {
#ifdef MODEL_MEAN
    o.mean[c] = default_mean[c];
    o.std[c] = default_std[c];
#else
    o.mean[c] = 0.0f;
    o.std[c] = 1.0f;
#endif
  }
  int first_image = argc;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--invert")) {
      o.invert = true;
    } else if (!strcmp(a, "--convert")) {
      o.convert = true;
    } else if (!strcmp(a, "--show")) {
      o.show = true;
    } else if (!strcmp(a, "-k") || !strcmp(a, "--top") ||
               !strcmp(a, "--labels") || !strcmp(a, "--mean") ||
               !strcmp(a, "--std") || !strcmp(a, "--scale")) {
      if (!has_value)
        fail("%s needs a value", a);
      const char *v = argv[++i];
      if (!strcmp(a, "--labels")) {
        o.labels = read_labels(v);
      } else if (!strcmp(a, "--mean")) {
        parse_floats(a, v, o.mean, false);
      } else if (!strcmp(a, "--std")) {
        parse_floats(a, v, o.std, true);
      } else if (!strcmp(a, "--scale")) {
        char *end;
        errno = 0;
        o.scale = strtof(v, &end);
        if (end == v || *end || errno || !(o.scale > 0) || !isfinite(o.scale))
          fail("--scale '%s': expected a positive number", v);
      } else {
        char *end;
        long k = strtol(v, &end, 10);
        if (end == v || *end || k < 1)
          fail("--top '%s': expected a positive integer", v);
        o.top = k > CLASSES ? CLASSES : (int)k;
      }
    } else if (!strcmp(a, "--")) {
      first_image = i + 1;
      break;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
      usage(stderr);
      return 1;
    } else {
      first_image = i;
      break;
    }
  }
  if (first_image >= argc) {
    usage(stderr);
    return 1;
  }

  float *input = malloc(sizeof(float) * MODEL_INPUT_SIZE);
  float *shown = malloc(sizeof(float) * H * W);
  float *logits = malloc(sizeof(float) * CLASSES);
  void *arena = aligned_alloc(MODEL_ARENA_ALIGN,
                              (MODEL_ARENA_BYTES + MODEL_ARENA_ALIGN - 1) /
                                  MODEL_ARENA_ALIGN * MODEL_ARENA_ALIGN);
  if (!input || !shown || !logits || !arena)
    fail("%s", "out of memory");
  int status = 0;
  for (int i = first_image; i < argc; i++) {
    if (load_image(argv[i], &o, input, shown)) {
      status = 1;
      continue;
    }
    if (o.show)
      show(shown);
    if (model_run(input, logits, arena) != MODEL_OK)
      fail("%s", "model_run failed");
    print_top(logits, &o);
  }
  if (o.labels)
    for (int c = 0; c < CLASSES; c++)
      free(o.labels[c]);
  free(o.labels);
  free(input);
  free(shown);
  free(logits);
  free(arena);
  return status;
}
