// ghostcc's intermediate representation: the contract between the spec
// reader, the passes and the code generators. This header is the map of
// ir/: one section per file. ir/ knows no YAML, no CLI, no pass, no target.
#ifndef GHOSTCC_IR_H
#define GHOSTCC_IR_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//
// util.c: arenas, diagnostics, checked arithmetic
//

// An arena hands out zeroed, 16-byte aligned memory that lives until
// arena_free releases all of it at once.
typedef struct ArenaBlock ArenaBlock;
typedef struct {
  ArenaBlock *head;
} Arena;

void *arena_alloc(Arena *a, size_t size);
void *arena_array(Arena *a, size_t n, size_t elem_size);
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void arena_free(Arena *a);

// Where a value came from in the user's input; line 0 means "nowhere".
typedef struct {
  const char *file;
  int line, col;  // 1-based
} SrcLoc;

// User errors unwind to the innermost trap (so a library caller, a test or a
// fuzzer can recover); with no trap they print to stderr and exit(1).
//   DiagTrap t;
//   if (diag_try(&t, setjmp(t.jump))) { ...work...; diag_end(&t); }
//   else { use t.message }
typedef struct DiagTrap {
  jmp_buf jump;
  char message[2048];  // "file:line:col: error: ..." without newline
  struct DiagTrap *prev;
} DiagTrap;

bool diag_try(DiagTrap *t, int setjmp_result);
void diag_end(DiagTrap *t);
_Noreturn void gh_error_at(SrcLoc loc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
_Noreturn void gh_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
// Raises a caught error again, to the next trap out (after cleaning up).
_Noreturn void diag_rethrow(const DiagTrap *t);

// Compiler bugs: always checked, abort with the place.
#define gh_assert(cond) \
  ((cond) ? (void)0 : gh_internal_error(__FILE__, __LINE__, #cond))
_Noreturn void gh_internal_error(const char *file, int line, const char *what);

// Overflow-checked size arithmetic: true on success.
bool size_mul(size_t a, size_t b, size_t *out);
bool size_add(size_t a, size_t b, size_t *out);

// 64-bit FNV-1a, for content hashes that must not vary between runs.
uint64_t hash_bytes(uint64_t h, const void *data, size_t len);
#define HASH_SEED 0xcbf29ce484222325ull

//
// graph.c: ops, values, nodes, parameters
//

// Every op once: enum name, printed name, number of inputs (-1: variadic).
#define GH_OPS(X)                                                   \
  X(INPUT, "input", 0)                                              \
  X(CONV2D, "conv2d", 1)                                            \
  X(BATCHNORM, "batchnorm", 1)                                      \
  X(ACTIVATION, "activation", 1) /* identity; node->act does it */ \
  X(ADD, "add", 2)                                                  \
  X(MUL, "mul", 2) /* x (C,H,W) * per-channel gate (C,1,1) */       \
  X(CONCAT, "concat", -1) /* along channels */                     \
  X(SLICE, "slice", 1) /* channels [begin, end) */                 \
  X(SHUFFLE, "channel_shuffle", 1)                                  \
  X(AVGPOOL, "avgpool", 1)                                          \
  X(MAXPOOL, "maxpool", 1)                                          \
  X(GLOBAL_AVGPOOL, "global_avgpool", 1)                            \
  X(LINEAR, "linear", 1) /* input (C,1,1) */                       \
  X(FLATTEN, "flatten", 1) /* (C,H,W) -> (C*H*W,1,1) */             \
  X(GHOST, "ghost_module", 1) /* fused: see Node */

typedef enum {
#define X(id, name, arity) GH_OP_##id,
  GH_OPS(X)
#undef X
  GH_OP_COUNT
} OpKind;

// Activation applied to an op's result (its epilogue).
#define GH_ACTS(X)                    \
  X(NONE, "none")                     \
  X(RELU, "relu")                     \
  X(RELU6, "relu6")                   \
  X(HARD_SIGMOID, "hard_sigmoid")     \
  X(HARD_SWISH, "hard_swish")

typedef enum {
#define X(id, name) GH_ACT_##id,
  GH_ACTS(X)
#undef X
  GH_ACT_COUNT
} Act;

extern const char *const op_names[GH_OP_COUNT];
extern const int op_arity[GH_OP_COUNT];
extern const char *const act_names[GH_ACT_COUNT];

#define GH_MAX_INPUTS 8
#define GH_MAX_CHANNELS_PREPROCESS 4
#define GH_MAX_PARAMS 4

// A tensor value: f32, batch 1, NCHW.
typedef struct {
  int c, h, w;       // shape
  int producer;      // node index
  const char *name;  // name of the producing layer
  int view_of;       // a concat output this value is written into, or -1:
  int view_channel;  // its channels [view_channel, view_channel + c)
} Value;

// Roles of a node's parameters, by op:
//   conv2d, linear: [0] weight (conv: O, I/groups, KH, KW; linear: O, I),
//                   [1] bias (O) or -1
//   batchnorm:      [0] weight/gamma, [1] bias/beta, [2] running_mean,
//                   [3] running_var, all (C)
//   ghost_module:   [0] primary weight (P, I, KH, KW), [1] its bias (P),
//                   [2] cheap weight (O-P, 1, D, D), [3] its bias (O-P)
//
// A ghost_module node is GhostNet's module fused (passes/fuse_ghost.c):
//   primary = inner_act(conv(x, [0]) + [1])           channels [0, P)
//   cheap   = inner_act(dwconv(primary, [2]) + [3])   channels [P, O):
//             cheap channel j reads primary channel j / ghost_mult
// written straight into one output of O channels, no concat, no slice.
//
// Epilogues, applied in this order to an op's result (conv2d, linear,
// ghost_module; act on every op):
//   result (+ in[residual] if residual >= 0), then act.
// Prologues, on how conv2d and ghost_module read their input x = in[0]:
//   input channel c is x[shuffled(c)] when in_shuffle > 0 (channel shuffle
//   with in_shuffle groups), times in[in_scale][c] when in_scale >= 0.
typedef struct {
  OpKind op;
  const char *name;          // layer name, e.g. "blocks.0.0.ghost1.primary_conv.0"
  SrcLoc loc;                // spec node the op was lowered from
  int in[GH_MAX_INPUTS];     // input value ids
  int n_in;
  int out;                   // output value id
  Act act;                   // applied to the result
  int kh, kw;                // conv/pool kernel
  int stride_h, stride_w;    // conv/pool stride
  int pad_h, pad_w;          // conv/pool zero padding (pool: ignored cells)
  int groups;                // conv groups; channel_shuffle groups
  int begin, end;            // slice: channel range [begin, end)
  int out_features;          // conv: out channels; linear: out features
  int shape[3];              // input: C, H, W
  bool count_include_pad;    // avgpool: padding counts in the divisor
  float eps;                 // batchnorm
  int params[GH_MAX_PARAMS]; // parameter ids or -1
  int residual;              // index into in[] of a tensor added, or -1
  int in_scale;              // index into in[] of a (C,1,1) input scale, or -1
  int in_shuffle;            // shuffle groups applied to the input, 0: none
  Act inner_act;             // ghost_module: act of primary and cheap maps
  int ghost_primary;         // ghost_module: P, channels of the primary conv
  int ghost_mult;            // ghost_module: cheap maps per primary map
  int ghost_dw;              // ghost_module: cheap depthwise kernel size
  bool dead;                 // removed by a pass; graph_compact drops it
} Node;

// A constant tensor, found by key in the weights file.
typedef struct {
  const char *key;   // state_dict key, e.g. "conv_stem.weight"
  int ndim;
  int dims[4];
  size_t count;      // product of dims
  float *data;       // NULL until weights are bound
  SrcLoc loc;        // layer that declared it
} Param;

typedef struct {
  Arena *arena;       // owns everything below
  const char *name;   // model name
  Node *nodes;        // topologically ordered
  int n_nodes, cap_nodes;
  Value *values;
  int n_values, cap_values;
  Param *params;
  int n_params, cap_params;
  int *param_slots;   // graph.c: hash of param keys to id + 1, or NULL
  int n_param_slots;  // a power of two, more than twice n_params
  int input;          // value id of the network input
  int output;         // value id of the network output
  // How the application prepares an image (the spec's `preprocess`), for
  // the generated header; the network itself does not apply it.
  bool has_preprocess;
  float pixel_scale;  // pixel values are divided by this first
  float mean[GH_MAX_CHANNELS_PREPROCESS], std[GH_MAX_CHANNELS_PREPROCESS];
} Graph;

Graph *graph_new(Arena *a, const char *name);
// Appends a node, infers its output shape (a user error at node->loc if the
// shapes do not fit) and returns the new output value id.
int graph_add_node(Graph *g, Node node);
// A node with every field neutral (no params, stride 1, groups 1, no act).
Node node_init(OpKind op, const char *name, SrcLoc loc);
int graph_add_param(Graph *g, const char *key, int ndim, const int *dims,
                    SrcLoc loc);
// Editing, for passes: point every use of `from` (and the graph output) at
// `to`; count a value's consumers; drop dead nodes and unused parameters and
// renumber, keeping the node order. Node indices and value ids change.
void graph_replace_uses(Graph *g, int from, int to);
int value_uses(const Graph *g, int value);
void graph_compact(Graph *g);
// Puts `fused` in the place of node `at`, producing at's output value, so
// nothing downstream changes; the nodes it replaces are marked dead by the
// caller.
void graph_replace_node(Graph *g, int at, Node fused);
// Number of inputs an op takes besides the residual and the input scale.
int node_base_inputs(const Node *n);
// True for a concat whose inputs were written straight into its output
// (passes/concat_in_place.c): it copies nothing.
bool concat_is_in_place(const Graph *g, const Node *n);
// Number of multiply-accumulates a node performs.
uint64_t node_macs(const Graph *g, const Node *n);
size_t value_count(const Value *v);  // elements

//
// shape.c: shape inference
//

// Computes n's output shape from its inputs, or returns a message saying
// why it cannot (and leaves *out untouched).
const char *infer_shape(const Graph *g, const Node *n, Value *out,
                        char *msg, size_t msg_size);
// Expected shape of parameter slot `slot` of node n; false if unused.
bool param_shape(const Graph *g, const Node *n, int slot, int *ndim,
                 int dims[4]);

//
// verify.c: the IR verifier, run after every pass
//
void graph_verify(const Graph *g);

//
// print.c: the textual IR (--dump-ir)
//
#include <stdio.h>
void graph_print(const Graph *g, FILE *out);
// A name from the spec or the weights for a terminal: control characters
// escaped (\n, \x1b, \u009b) and '\' doubled. Returns the bytes written.
int print_name(FILE *out, const char *name);

//
// interp.c: the reference interpreter, the oracle for passes and backends
//
// Runs g on input (C*H*W floats of the input value); returns the output
// value's data, allocated in `scratch`. All parameters must be bound.
float *interp_run(const Graph *g, const float *input, Arena *scratch);

//
// plan.c: the static memory plan
//
typedef struct {
  size_t *offset;      // per value: byte offset in the arena (SIZE_MAX: not in the arena)
  int *in_place_of;    // per value: the input whose bytes it reuses, or -1
  size_t arena_bytes;  // size of the plan
  size_t lower_bound;  // largest total of simultaneously live tensors
  size_t sum_bytes;    // all intermediates added up
} MemPlan;

#define GH_ARENA_ALIGN 64
MemPlan plan_memory(const Graph *g, Arena *a);

#endif
