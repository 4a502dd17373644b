// The papers' figures (seeds/: GhostNet, MobileNetV1, ShuffleNetV1, Ghost
// VGG-16 / ResNet-56 on CIFAR-10) as `--summary` computes them: learnable
// parameters and multiply-accumulates of each network at the widths,
// resolutions and group counts the papers report.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "compiler/ghostcc.h"

typedef struct {
  const char *spec;      // file in specs/
  const char *width, *resolution, *extra;  // overrides ("name=value"), or NULL
  const char *ghostify;  // --ghostify, or NULL
  double macs_m, params_m;  // the paper's figures, millions
} Figure;

// Within 5%: the papers round, and count a few things (e.g. the stem of a
// scaled ShuffleNet) their own way.
static void check(const Figure *f) {
  Arena a = {0};
  const char *overrides[3];
  int n = 0;
  if (f->width)
    overrides[n++] = arena_printf(&a, "width=%s", f->width);
  if (f->resolution)
    overrides[n++] = arena_printf(&a, "resolution=%s", f->resolution);
  if (f->extra)
    overrides[n++] = f->extra;
  SpecOptions opt = {
      .spec_path = arena_printf(&a, "%s/specs/%s", GHOSTCC_SOURCE_DIR, f->spec),
      .overrides = overrides,
      .n_overrides = n,
      .ghostify = f->ghostify};
  ModelStats s = model_stats(spec_load(&a, &opt));
  double macs = (double)s.macs / 1e6, params = (double)s.params / 1e6;
  cr_expect(fabs(macs - f->macs_m) <= 0.05 * f->macs_m,
            "%s width %s resolution %s %s%s: %.1f M MACs, the paper says %.1f M",
            f->spec, f->width, f->resolution, f->extra ? f->extra : "",
            f->ghostify ? " ghost" : "", macs, f->macs_m);
  cr_expect(fabs(params - f->params_m) <= 0.05 * f->params_m + 0.01,
            "%s width %s resolution %s %s%s: %.2f M params, the paper says "
            "%.2f M",
            f->spec, f->width, f->resolution, f->extra ? f->extra : "",
            f->ghostify ? " ghost" : "", params, f->params_m);
  arena_free(&a);
}

// GhostNet, Table 7 of the paper (width 0.5, 1.0, 1.3 at 224).
Test(figures, ghostnet) {
  static const Figure figures[] = {
      {"ghostnet.yaml", "0.5", "224", NULL, NULL, 42, 2.6},
      {"ghostnet.yaml", "1.0", "224", NULL, NULL, 141, 5.2},
      {"ghostnet.yaml", "1.3", "224", NULL, NULL, 226, 7.3},
  };
  for (size_t i = 0; i < sizeof figures / sizeof *figures; i++)
    check(&figures[i]);
}

// MobileNetV1, Tables 6 and 7: width multiplier at 224, resolution at 1.0.
Test(figures, mobilenet_v1) {
  static const Figure figures[] = {
      {"mobilenet_v1.yaml", "1.0", "224", NULL, NULL, 569, 4.2},
      {"mobilenet_v1.yaml", "0.75", "224", NULL, NULL, 325, 2.6},
      {"mobilenet_v1.yaml", "0.5", "224", NULL, NULL, 149, 1.3},
      {"mobilenet_v1.yaml", "0.25", "224", NULL, NULL, 41, 0.5},
      {"mobilenet_v1.yaml", "1.0", "192", NULL, NULL, 418, 4.2},
      {"mobilenet_v1.yaml", "1.0", "160", NULL, NULL, 290, 4.2},
      {"mobilenet_v1.yaml", "1.0", "128", NULL, NULL, 186, 4.2},
  };
  for (size_t i = 0; i < sizeof figures / sizeof *figures; i++)
    check(&figures[i]);
}

// ShuffleNetV1 1x: about 140 MFLOPs for every group count (Table 1 keeps the
// complexity fixed); g = 3: about 138 M MACs and 1.9 M params.
Test(figures, shufflenet_v1) {
  static const Figure figures[] = {
      {"shufflenet_v1.yaml", "1.0", "224", "groups=3", NULL, 138, 1.9},
      {"shufflenet_v1.yaml", "1.0", "224", "groups=1", NULL, 143, 1.53},
      {"shufflenet_v1.yaml", "1.0", "224", "groups=2", NULL, 140, 1.73},
      {"shufflenet_v1.yaml", "1.0", "224", "groups=4", NULL, 136, 1.97},
      {"shufflenet_v1.yaml", "1.0", "224", "groups=8", NULL, 137, 2.43},
  };
  for (size_t i = 0; i < sizeof figures / sizeof *figures; i++)
    check(&figures[i]);
}

// CIFAR-10, Tables 3 and 4 of the GhostNet paper: the plain networks and
// their ghost versions (s = 2, d = 3), params and MACs about halved.
Test(figures, ghost_cifar) {
  static const Figure figures[] = {
      {"vgg16_cifar.yaml", NULL, NULL, NULL, NULL, 313, 15.0},
      {"vgg16_cifar.yaml", NULL, NULL, NULL, "ratio=2,dw=3", 158, 7.7},
      {"resnet56_cifar.yaml", NULL, NULL, NULL, NULL, 125, 0.85},
      {"resnet56_cifar.yaml", NULL, NULL, NULL, "ratio=2,dw=3", 63, 0.43},
  };
  for (size_t i = 0; i < sizeof figures / sizeof *figures; i++)
    check(&figures[i]);
}
