// Internal to the front end: the parsed spec as spec.c hands it to
// lowering.c. Every YAML node keeps its line and column.
#ifndef GHOSTCC_SPEC_H
#define GHOSTCC_SPEC_H

#include <yaml.h>

#include "ghostcc.h"

typedef enum { ROUND_FLOOR, ROUND_MAKE_DIVISIBLE } RoundMode;

// A named top-level number: width, resolution, num_classes, params: {...}.
typedef struct {
  const char *name;
  double value;
  SrcLoc loc;
  bool given;  // in the spec or on the command line, not a default
} SpecParam;

enum { SPEC_MAX_PARAMS = 64, SPEC_MAX_FIELDS = 32 };

typedef struct {
  Arena *arena;
  const char *path;       // for messages
  yaml_document_t *doc;
  const char *name;       // model name
  int input[3];           // C, H, W after --resolution
  SrcLoc input_loc;
  double width;
  RoundMode round_mode;
  int round_divisor;
  SpecParam params[SPEC_MAX_PARAMS];
  int n_params;
  yaml_node_t *layers;    // sequence
  int ghost_ratio;        // ghostify: ghost modules' ratio s, 0: off
  int ghost_dw;           // ghostify: their cheap kernel d
  long *work;             // steps spent reading the document (spec_charge)
} Spec;

// One layer's fields: from a YAML mapping, or a table row's cells named by
// the table's columns. Lowering marks what it reads; the rest is an error.
typedef struct {
  const char *key;
  yaml_node_t *value;
  SrcLoc loc;             // of the value
  SrcLoc key_loc;         // of the key (a table's column name)
  bool used;
} Field;

typedef struct {
  const char *type;       // layer type, e.g. "conv"
  SrcLoc loc;             // of the layer
  Field items[SPEC_MAX_FIELDS];
  int n;
} Fields;

SrcLoc spec_loc(const Spec *s, const yaml_node_t *node);
const char *spec_scalar(const Spec *s, yaml_node_t *node, const char *what);
// A value chosen by a parameter, {by: groups, 1: 144, 3: 240, ...}, as the
// scalar node it selects; any other node as it is.
yaml_node_t *spec_select(const Spec *s, yaml_node_t *node);
// Numbers: a literal, the name of a top-level parameter, or a selection.
double spec_number(const Spec *s, yaml_node_t *node, const char *what);
int spec_int(const Spec *s, yaml_node_t *node, const char *what);
bool spec_bool(const Spec *s, yaml_node_t *node, const char *what);
// Looks a parameter up by name; NULL if there is none.
const SpecParam *spec_param(const Spec *s, const char *name);
// Width-scaled channel count under the spec's rounding rule.
int spec_scale_channels(const Spec *s, double channels, SrcLoc loc);
// Counts `steps` of work done on the document; an error once the total
// passes the limit. YAML aliases share nodes, so a small spec can ask for
// the same table or selection to be read a great many times.
void spec_charge(const Spec *s, long steps, SrcLoc loc);
// Longest layer name (they become parameter keys).
enum { SPEC_MAX_NAME = 512 };
int make_divisible(double v, int divisor);

// lowering.c: the layer list to IR.
void lower_layers(const Spec *s, Graph *g);

#endif
