// The spec reader: YAML (libyaml's document API, which keeps every node's
// position) to the top-level parameters, then lowering.c for the layers.
#include "spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Beyond these the compiler would spend minutes or overflow; no real
// network comes near.
#define MAX_SPEC_BYTES (16u << 20)
#define MAX_RESOLUTION 16384
#define MAX_CHANNELS (1 << 20)
// libyaml's loader keeps ~150 bytes per node and its scanner is quadratic
// in the nesting depth; both are bounded before the document is loaded.
#define MAX_YAML_NODES (1 << 18)
#define MAX_YAML_DEPTH 64
// Reading the document (selections, tables, `from` and `$column` lookups):
// real specs take a few thousand steps.
#define MAX_SPEC_WORK (1L << 24)
// A selection {by: NAME, V1: R1, ...} and selections of selections.
#define MAX_SELECT_VALUES 1024
#define MAX_SELECT_DEPTH 16
// The model name becomes file names and C identifiers.
#define MAX_MODEL_NAME 128

SrcLoc spec_loc(const Spec *s, const yaml_node_t *node) {
  return (SrcLoc){s->path, (int)node->start_mark.line + 1,
                  (int)node->start_mark.column + 1};
}

static const char *node_kind(const yaml_node_t *node) {
  switch (node->type) {
  case YAML_SCALAR_NODE: return "a scalar";
  case YAML_SEQUENCE_NODE: return "a list";
  case YAML_MAPPING_NODE: return "a mapping";
  default: return "nothing";
  }
}

const char *spec_scalar(const Spec *s, yaml_node_t *node, const char *what) {
  if (node->type != YAML_SCALAR_NODE)
    gh_error_at(spec_loc(s, node), "%s must be a scalar, not %s", what,
                node_kind(node));
  // "\0" in a quoted scalar: C strings would silently cut it short.
  if (strlen((const char *)node->data.scalar.value) != node->data.scalar.length)
    gh_error_at(spec_loc(s, node), "%s contains a NUL character", what);
  return (const char *)node->data.scalar.value;
}

const SpecParam *spec_param(const Spec *s, const char *name) {
  for (int i = 0; i < s->n_params; i++)
    if (strcmp(s->params[i].name, name) == 0)
      return &s->params[i];
  return NULL;
}

// Parses a whole string as a finite number; false if it is not one.
static bool parse_number(const char *text, double *out) {
  if (!*text)
    return false;
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (*end || errno || !isfinite(v))
    return false;
  *out = v;
  return true;
}

static yaml_node_t *select_one(const Spec *s, yaml_node_t *node);

void spec_charge(const Spec *s, long steps, SrcLoc loc) {
  *s->work += steps;
  if (*s->work > MAX_SPEC_WORK)
    gh_error_at(loc, "the spec takes more than %ld steps to read (YAML "
                "aliases repeating a large table or selection?)",
                MAX_SPEC_WORK);
}

yaml_node_t *spec_select(const Spec *s, yaml_node_t *node) {
  // A loop, not recursion: an alias can make a selection select itself.
  for (int depth = 0; node->type == YAML_MAPPING_NODE; depth++) {
    long n = node->data.mapping.pairs.top - node->data.mapping.pairs.start;
    if (depth == MAX_SELECT_DEPTH)
      gh_error_at(spec_loc(s, node), "selections nest more than %d deep",
                  MAX_SELECT_DEPTH);
    if (n > MAX_SELECT_VALUES)
      gh_error_at(spec_loc(s, node), "a selection has more than %d values",
                  MAX_SELECT_VALUES);
    spec_charge(s, 2 * n, spec_loc(s, node));
    node = select_one(s, node);
  }
  return node;
}

// One step of spec_select: the value a {by: ...} mapping selects.
static yaml_node_t *select_one(const Spec *s, yaml_node_t *node) {
  const char *by = NULL;
  for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
       p < node->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(s->doc, p->key);
    if (!strcmp(spec_scalar(s, k, "a key"), "by"))
      by = spec_scalar(s, yaml_document_get_node(s->doc, p->value), "by");
  }
  if (!by)
    gh_error_at(spec_loc(s, node), "a value given as a mapping selects by a "
                "parameter: {by: NAME, VALUE: RESULT, ...}");
  const SpecParam *param = spec_param(s, by);
  if (!param)
    gh_error_at(spec_loc(s, node), "no parameter '%s' to select by", by);
  for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
       p < node->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(s->doc, p->key);
    double v;
    const char *key = spec_scalar(s, k, "a key");
    if (strcmp(key, "by") != 0 && parse_number(key, &v) && v == param->value)
      return yaml_document_get_node(s->doc, p->value);
  }
  gh_error_at(spec_loc(s, node), "no value for %s = %g", by, param->value);
}

double spec_number(const Spec *s, yaml_node_t *node, const char *what) {
  node = spec_select(s, node);
  const char *text = spec_scalar(s, node, what);
  double v;
  if (parse_number(text, &v))
    return v;
  const SpecParam *p = spec_param(s, text);
  if (p)
    return p->value;
  gh_error_at(spec_loc(s, node), "%s must be a number or a parameter name, "
              "got '%s'", what, text);
}

int spec_int(const Spec *s, yaml_node_t *node, const char *what) {
  double v = spec_number(s, node, what);
  if (v != floor(v) || v < -2147483647.0 || v > 2147483647.0)
    gh_error_at(spec_loc(s, node), "%s must be an integer, got %g", what, v);
  return (int)v;
}

bool spec_bool(const Spec *s, yaml_node_t *node, const char *what) {
  const char *text = spec_scalar(s, node, what);
  if (!strcmp(text, "true") || !strcmp(text, "True"))
    return true;
  if (!strcmp(text, "false") || !strcmp(text, "False"))
    return false;
  gh_error_at(spec_loc(s, node), "%s must be true or false, got '%s'", what,
              text);
}

// PyTorch's _make_divisible (torchvision, timm, GhostNet): the nearest
// multiple of divisor, at least divisor, and never more than 10% below v.
int make_divisible(double v, int divisor) {
  long rounded = (long)floor(v + divisor / 2.0) / divisor * divisor;
  if (rounded < divisor)
    rounded = divisor;
  if ((double)rounded < 0.9 * v)
    rounded += divisor;
  return (int)rounded;
}

int spec_scale_channels(const Spec *s, double channels, SrcLoc loc) {
  double v = channels * s->width;
  if (!(v >= 1.0 || (s->round_mode == ROUND_MAKE_DIVISIBLE && v > 0)))
    gh_error_at(loc, "%g channels at width %g leave fewer than one channel",
                channels, s->width);
  if (v > MAX_CHANNELS)
    gh_error_at(loc, "%g channels at width %g exceed the limit of %d",
                channels, s->width, MAX_CHANNELS);
  return s->round_mode == ROUND_FLOOR ? (int)v
                                      : make_divisible(v, s->round_divisor);
}

// Looks a key up in a mapping; NULL if absent. Duplicate keys are errors.
static yaml_node_t *map_get(const Spec *s, yaml_node_t *map, const char *key) {
  yaml_node_t *found = NULL;
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
       p < map->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(s->doc, p->key);
    if (k->type == YAML_SCALAR_NODE &&
        strcmp((const char *)k->data.scalar.value, key) == 0) {
      if (found)
        gh_error_at(spec_loc(s, k), "duplicate key '%s'", key);
      found = yaml_document_get_node(s->doc, p->value);
    }
  }
  return found;
}

static void check_keys(const Spec *s, yaml_node_t *map,
                       const char *const *allowed, const char *where) {
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
       p < map->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(s->doc, p->key);
    const char *key = spec_scalar(s, k, "a key");
    bool known = false;
    for (int i = 0; allowed[i] && !known; i++)
      known = strcmp(allowed[i], key) == 0;
    if (!known)
      gh_error_at(spec_loc(s, k), "unknown field '%s' in %s", key, where);
    map_get(s, map, key);  // reports duplicates
  }
}

static yaml_node_t *require(const Spec *s, yaml_node_t *map, const char *key) {
  yaml_node_t *v = map_get(s, map, key);
  if (!v)
    gh_error_at(spec_loc(s, map), "missing field '%s'", key);
  return v;
}

static void add_param(Spec *s, const char *name, double value, SrcLoc loc,
                      bool given) {
  if (spec_param(s, name))
    gh_error_at(loc, "parameter '%s' is defined twice", name);
  if (s->n_params == SPEC_MAX_PARAMS)
    gh_error_at(loc, "more than %d parameters", SPEC_MAX_PARAMS);
  s->params[s->n_params++] = (SpecParam){name, value, loc, given};
}

// Applies "NAME=VALUE" overrides from the command line.
static void apply_overrides(Spec *s, const SpecOptions *opt) {
  for (int i = 0; i < opt->n_overrides; i++) {
    const char *eq = strchr(opt->overrides[i], '=');
    if (!eq)
      gh_error("--set expects NAME=VALUE, got '%s'", opt->overrides[i]);
    char *name = arena_strndup(s->arena, opt->overrides[i],
                               (size_t)(eq - opt->overrides[i]));
    SpecParam *p = (SpecParam *)spec_param(s, name);
    if (!p)
      gh_error_at((SrcLoc){s->path, 0, 0},
                  "--set: the spec has no parameter '%s'", name);
    if (!parse_number(eq + 1, &p->value))
      gh_error("parameter '%s' must be a number, got '%s'", name, eq + 1);
    p->loc = (SrcLoc){0};
    p->given = true;
  }
}

static void read_rounding(Spec *s, yaml_node_t *node) {
  s->round_mode = ROUND_FLOOR;
  s->round_divisor = 1;
  if (!node)
    return;
  if (node->type != YAML_MAPPING_NODE)
    gh_error_at(spec_loc(s, node), "channel_rounding must be a mapping "
                "like {mode: make_divisible, divisor: 4}");
  static const char *const keys[] = {"mode", "divisor", NULL};
  check_keys(s, node, keys, "channel_rounding");
  yaml_node_t *mode = require(s, node, "mode");
  const char *m = spec_scalar(s, mode, "mode");
  if (!strcmp(m, "floor"))
    s->round_mode = ROUND_FLOOR;
  else if (!strcmp(m, "make_divisible"))
    s->round_mode = ROUND_MAKE_DIVISIBLE;
  else
    gh_error_at(spec_loc(s, mode), "unknown rounding mode '%s' (floor, "
                "make_divisible)", m);
  yaml_node_t *div = map_get(s, node, "divisor");
  if (div) {
    s->round_divisor = spec_int(s, div, "divisor");
    if (s->round_divisor < 1 || s->round_divisor > 1024)
      gh_error_at(spec_loc(s, div), "divisor must be in [1, 1024], got %d",
                  s->round_divisor);
  }
}

static void check_ghostify(int ratio, int dw, SrcLoc loc) {
  if (ratio < 2 || ratio > 64)
    gh_error_at(loc, "ghostify ratio must be in [2, 64], got %d", ratio);
  if (dw < 1 || dw > 15 || dw % 2 == 0)
    gh_error_at(loc, "ghostify dw must be an odd kernel size up to 15, got %d",
                dw);
}

// `ghostify: {ratio: S, dw: D}` in the spec, or --ghostify ratio=S,dw=D
// (which wins): replace ordinary convs by ghost modules.
static void read_ghostify(Spec *s, yaml_node_t *node, const char *cli) {
  if (cli) {
    int ratio = 2, dw = 3, used = 0;
    if (sscanf(cli, "ratio=%d,dw=%d%n", &ratio, &dw, &used) != 2 ||
        cli[used] != '\0')
      if (sscanf(cli, "ratio=%d%n", &ratio, &used) != 1 || cli[used] != '\0')
        gh_error("--ghostify expects ratio=S[,dw=D], got '%s'", cli);
    check_ghostify(ratio, dw, (SrcLoc){0});
    s->ghost_ratio = ratio;
    s->ghost_dw = dw;
    return;
  }
  if (!node)
    return;
  if (node->type != YAML_MAPPING_NODE)
    gh_error_at(spec_loc(s, node), "ghostify must be a mapping like "
                "{ratio: 2, dw: 3}");
  static const char *const keys[] = {"ratio", "dw", NULL};
  check_keys(s, node, keys, "ghostify");
  yaml_node_t *ratio = map_get(s, node, "ratio"), *dw = map_get(s, node, "dw");
  s->ghost_ratio = ratio ? spec_int(s, ratio, "ratio") : 2;
  s->ghost_dw = dw ? spec_int(s, dw, "dw") : 3;
  check_ghostify(s->ghost_ratio, s->ghost_dw, spec_loc(s, node));
}

// One number per input channel, or one for all of them.
static void read_per_channel(Spec *s, yaml_node_t *node, const char *what,
                             float *out) {
  int channels = s->input[0];
  if (node->type != YAML_SEQUENCE_NODE) {
    float v = (float)spec_number(s, node, what);
    for (int c = 0; c < channels; c++)
      out[c] = v;
    return;
  }
  long n = node->data.sequence.items.top - node->data.sequence.items.start;
  if (n != channels)
    gh_error_at(spec_loc(s, node), "%s has %ld values for %d input channels",
                what, n, channels);
  for (int c = 0; c < channels; c++)
    out[c] = (float)spec_number(
        s, yaml_document_get_node(s->doc, node->data.sequence.items.start[c]),
        what);
}

// `preprocess: {scale: 255, mean: [...], std: [...]}`: how an application
// turns pixels into the network's input, x = (pixel / scale - mean) / std.
static void read_preprocess(Spec *s, yaml_node_t *node, Graph *g) {
  if (!node)
    return;
  if (node->type != YAML_MAPPING_NODE)
    gh_error_at(spec_loc(s, node), "preprocess must be a mapping like "
                "{scale: 255, mean: [0.5], std: [0.5]}");
  if (s->input[0] > GH_MAX_CHANNELS_PREPROCESS)
    gh_error_at(spec_loc(s, node), "preprocess handles images of at most %d "
                "channels", GH_MAX_CHANNELS_PREPROCESS);
  static const char *const keys[] = {"scale", "mean", "std", NULL};
  check_keys(s, node, keys, "preprocess");
  yaml_node_t *scale = map_get(s, node, "scale");
  yaml_node_t *mean = map_get(s, node, "mean"), *std = map_get(s, node, "std");
  g->has_preprocess = true;
  g->pixel_scale = scale ? (float)spec_number(s, scale, "scale") : 255.0f;
  for (int c = 0; c < s->input[0]; c++) {
    g->mean[c] = 0.0f;
    g->std[c] = 1.0f;
  }
  if (mean)
    read_per_channel(s, mean, "mean", g->mean);
  if (std)
    read_per_channel(s, std, "std", g->std);
  for (int c = 0; c < s->input[0]; c++)
    if (!(g->std[c] > 0) || !(g->pixel_scale > 0))
      gh_error_at(spec_loc(s, node), "preprocess scale and std must be "
                  "positive");
}

static void read_input(Spec *s, yaml_node_t *node) {
  s->input_loc = spec_loc(s, node);
  if (node->type != YAML_SEQUENCE_NODE ||
      node->data.sequence.items.top - node->data.sequence.items.start != 3)
    gh_error_at(s->input_loc, "input must be a list [C, H, W]");
  for (int i = 0; i < 3; i++) {
    yaml_node_t *item =
        yaml_document_get_node(s->doc, node->data.sequence.items.start[i]);
    s->input[i] = spec_int(s, item, "input dimension");
    if (s->input[i] < 1 || s->input[i] > MAX_RESOLUTION)
      gh_error_at(spec_loc(s, item), "input dimension must be in [1, %d], "
                  "got %d", MAX_RESOLUTION, s->input[i]);
  }
}

static void read_top_level(Spec *s, yaml_node_t *root, const SpecOptions *opt) {
  static const char *const keys[] = {
      "name", "description", "input", "num_classes", "width", "resolution",
      "channel_rounding", "params", "ghostify", "preprocess", "layers", NULL};
  if (root->type != YAML_MAPPING_NODE)
    gh_error_at(spec_loc(s, root), "a spec must be a mapping with name, "
                "input and layers");
  check_keys(s, root, keys, "the spec");
  yaml_node_t *name = opt->name ? NULL : require(s, root, "name");
  s->name = opt->name ? opt->name : spec_scalar(s, name, "name");
  if (strlen(s->name) > MAX_MODEL_NAME)
    gh_error_at(name ? spec_loc(s, name) : (SrcLoc){0},
                "the model name is longer than %d characters",
                MAX_MODEL_NAME);
  read_input(s, require(s, root, "input"));
  read_rounding(s, map_get(s, root, "channel_rounding"));

  yaml_node_t *width = map_get(s, root, "width");
  add_param(s, "width", width ? spec_number(s, width, "width") : 1.0,
            width ? spec_loc(s, width) : s->input_loc, width != NULL);
  yaml_node_t *res = map_get(s, root, "resolution");
  add_param(s, "resolution", res ? spec_int(s, res, "resolution") : s->input[1],
            res ? spec_loc(s, res) : s->input_loc, res != NULL);
  yaml_node_t *classes = map_get(s, root, "num_classes");
  if (classes)
    add_param(s, "num_classes", spec_int(s, classes, "num_classes"),
              spec_loc(s, classes), true);
  yaml_node_t *params = map_get(s, root, "params");
  if (params) {
    if (params->type != YAML_MAPPING_NODE)
      gh_error_at(spec_loc(s, params), "params must be a mapping NAME: VALUE");
    for (yaml_node_pair_t *p = params->data.mapping.pairs.start;
         p < params->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(s->doc, p->key);
      yaml_node_t *v = yaml_document_get_node(s->doc, p->value);
      add_param(s, spec_scalar(s, k, "a parameter name"),
                spec_number(s, v, "a parameter"), spec_loc(s, v), true);
    }
  }
  apply_overrides(s, opt);

  const SpecParam *w = spec_param(s, "width");
  if (!(w->value > 0) || w->value > 100)
    gh_error_at(w->loc, "width must be in (0, 100], got %g", w->value);
  s->width = w->value;
  const SpecParam *r = spec_param(s, "resolution");
  if (r->value != floor(r->value) || r->value < 1 || r->value > MAX_RESOLUTION)
    gh_error_at(r->loc, "resolution must be an integer in [1, %d], got %g",
                MAX_RESOLUTION, r->value);
  // A resolution makes the input square; without one, [C, H, W] stands.
  if (r->given)
    s->input[1] = s->input[2] = (int)r->value;

  read_ghostify(s, map_get(s, root, "ghostify"), opt->ghostify);

  s->layers = require(s, root, "layers");
  if (s->layers->type != YAML_SEQUENCE_NODE)
    gh_error_at(spec_loc(s, s->layers), "layers must be a list");
}

// Walks the events (which do not expand aliases) and stops at the first
// node past the limits; syntax errors are left to the loader.
static void check_yaml_size(const char *path, const unsigned char *yaml,
                            size_t len) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser))
    gh_error("out of memory");
  yaml_parser_set_input_string(&parser, yaml, len);
  long nodes = 0;
  int depth = 0;
  const char *problem = NULL;
  long limit = 0;
  SrcLoc loc = {path, 0, 0};
  for (bool done = false; !done && !problem;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&parser, &ev))
      break;
    switch (ev.type) {
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
      depth++;
      nodes++;
      break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      depth--;
      break;
    case YAML_SCALAR_EVENT:
    case YAML_ALIAS_EVENT:
      nodes++;
      break;
    case YAML_DOCUMENT_END_EVENT:  // the loader reads the first document
    case YAML_STREAM_END_EVENT:
      done = true;
      break;
    default:
      break;
    }
    if (depth > MAX_YAML_DEPTH) {
      problem = "the YAML nests more than %ld deep";
      limit = MAX_YAML_DEPTH;
    } else if (nodes > MAX_YAML_NODES) {
      problem = "the YAML has more than %ld nodes";
      limit = MAX_YAML_NODES;
    }
    loc.line = (int)ev.start_mark.line + 1;
    loc.col = (int)ev.start_mark.column + 1;
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&parser);
  if (problem)
    gh_error_at(loc, problem, limit);
}

// Everything that needs the libyaml document; the caller frees it on all
// paths, errors included.
static Graph *read_spec(Spec *s, yaml_parser_t *parser, const SpecOptions *opt) {
  if (!yaml_parser_load(parser, s->doc)) {
    SrcLoc loc = {s->path, (int)parser->problem_mark.line + 1,
                  (int)parser->problem_mark.column + 1};
    gh_error_at(loc, "invalid YAML: %s%s%s",
                parser->problem ? parser->problem : "syntax error",
                parser->context ? " " : "",
                parser->context ? parser->context : "");
  }
  yaml_node_t *root = yaml_document_get_root_node(s->doc);
  if (!root)
    gh_error_at((SrcLoc){s->path, 0, 0}, "the spec is empty");
  read_top_level(s, root, opt);
  Graph *g = graph_new(s->arena, s->name);
  read_preprocess(s, map_get(s, root, "preprocess"), g);
  Node in = node_init(GH_OP_INPUT, "input", s->input_loc);
  memcpy(in.shape, s->input, sizeof in.shape);
  graph_add_node(g, in);
  lower_layers(s, g);
  graph_verify(g);
  return g;
}

Graph *spec_parse(Arena *a, const SpecOptions *opt, const unsigned char *yaml,
                  size_t len) {
  const char *path = opt->spec_path ? opt->spec_path : "<spec>";
  if (len > MAX_SPEC_BYTES)
    gh_error_at((SrcLoc){path, 0, 0}, "spec is larger than %u bytes",
                MAX_SPEC_BYTES);
  check_yaml_size(path, yaml, len);
  yaml_parser_t parser;
  yaml_document_t doc = {0};
  if (!yaml_parser_initialize(&parser))
    gh_error("out of memory");
  yaml_parser_set_input_string(&parser, yaml, len);
  long work = 0;
  Spec s = {.arena = a, .path = path, .doc = &doc, .work = &work};
  DiagTrap trap;
  Graph *g = NULL;
  if (diag_try(&trap, setjmp(trap.jump))) {
    g = read_spec(&s, &parser, opt);
    diag_end(&trap);
  }
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  if (!g)
    diag_rethrow(&trap);
  return g;
}

Graph *spec_load(Arena *a, const SpecOptions *opt) {
  size_t len;
  unsigned char *yaml = read_file(a, opt->spec_path, MAX_SPEC_BYTES, &len);
  return spec_parse(a, opt, yaml, len);
}
