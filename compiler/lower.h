// Internal to lowering: the state of lowering a spec, the readers of a
// layer's fields and the emitters of IR that primitive layers (lowering.c)
// and composite blocks (blocks.c) share.
#ifndef GHOSTCC_LOWER_H
#define GHOSTCC_LOWER_H

#include "spec.h"

typedef struct {
  const char *name;
  int value;
} Ref;

// The table row being lowered: its cells by column, and the counters that
// name templates use.
typedef struct {
  const yaml_node_t *columns;  // the table's column names
  yaml_node_t *cells;          // this row's values
  int stage, index, n;         // stage, row within it, row overall
} Row;

typedef struct {
  const Spec *s;
  Graph *g;
  const Row *row;   // inside a table row, or NULL
  int ordinary_convs;  // seen so far (ghostify keeps the first)
  int cur;          // output of the previous layer: the default input
  Ref *refs;        // named layer outputs, for `from`
  int n_refs, cap_refs;
} Lower;

typedef struct {
  const char *name;  // layer name from the spec, or NULL
  int in[GH_MAX_INPUTS];
  int n_in;          // 0 when the spec gives no `from`
} LayerIO;

//
// lowering.c
//

// Fields: each reader marks the field used; a missing optional field gives
// `def`, a missing required one an error at the layer.
Field *find_field(Fields *f, const char *key);
Field *require_field(Fields *f, const char *key);
int int_field(const Lower *L, Fields *f, const char *key, int def);
int positive_field(const Lower *L, Fields *f, const char *key, int def);
int nonnegative_field(const Lower *L, Fields *f, const char *key, int def);
double number_field(const Lower *L, Fields *f, const char *key, double def);
bool bool_field(const Lower *L, Fields *f, const char *key, bool def);
// A channel count: a literal is given at width 1.0 and scaled by the spec's
// width; a parameter name (num_classes) or `scale: false` keeps it as is.
int channels_field(const Lower *L, Fields *f, const char *key, bool scale);
Act act_by_name(const Lower *L, Field *x);
const char *need_name(const Fields *f, const LayerIO *io);
int single_input(const Lower *L, const Fields *f, const LayerIO *io);

// Emitters: each appends one node (and its parameters NAME.weight, ...),
// makes it the current layer and returns its output value.
const char *join(const Lower *L, const char *prefix, const char *suffix);
int emit(Lower *L, Node n, const char *const *suffixes, int n_params);
int emit_conv(Lower *L, SrcLoc loc, const char *name, int x, int out,
              int kernel, int stride, int pad, int groups, bool bias);
int emit_batchnorm(Lower *L, SrcLoc loc, const char *name, int x, float eps);
int emit_unary(Lower *L, OpKind op, SrcLoc loc, const char *name, int x);
int emit_activation(Lower *L, SrcLoc loc, int x, Act act);
int emit_binary(Lower *L, OpKind op, SrcLoc loc, const char *name, int a,
                int b);
int emit_slice(Lower *L, SrcLoc loc, const char *name, int x, int begin,
               int end);
int channels_of(const Lower *L, int value);

typedef void LowerFn(Lower *L, Fields *f, const LayerIO *io);

//
// blocks.c: composite blocks
//
LowerFn lower_ghost_module_layer, lower_squeeze_excite_layer,
    lower_ghost_bottleneck_layer, lower_shufflenet_v1_unit_layer,
    lower_basic_block_layer;
int emit_ordinary_conv(Lower *L, SrcLoc loc, const char *name, int x, int out,
                       int kernel, int stride, int pad, int groups,
                       bool bias);

//
// blocks_torchvision.c: torchvision's mobile networks
//
LowerFn lower_conv_norm_act_layer, lower_inverted_residual_layer,
    lower_mobilenet_v3_block_layer, lower_shufflenet_v2_unit_layer;

#endif
