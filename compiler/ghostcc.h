// The front end: spec reader, lowering to IR, weights, the driver.
#ifndef GHOSTCC_COMPILER_H
#define GHOSTCC_COMPILER_H

#include "../codegen/codegen.h"
#include "../ir/ir.h"
#include "../passes/passes.h"

#define GHOSTCC_VERSION "0.1.0"

//
// safetensors.c: the safetensors reader
//
// Format: u64 little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {...}}, then the data; offsets are relative to the end of
// the header. Every offset and size is checked against the file.
typedef struct {
  const char *name;
  char dtype[8];        // "F32", "F16", "BF16", "I64", ...
  int ndim;
  int64_t shape[8];
  size_t count;         // elements
  float *data;          // converted to f32; NULL for non-float dtypes
} StTensor;

typedef struct {
  StTensor *tensors;    // in header order
  int n_tensors;
  StTensor **by_name;   // the same, sorted by name, for st_find
} StFile;

// Reads and validates a whole file; user errors name the file.
StFile *st_load(Arena *a, const char *path);
// The same for bytes in memory (fuzzing, tests); `path` is for messages.
StFile *st_parse(Arena *a, const char *path, const unsigned char *bytes,
                 size_t len);
// By exact name (binary search), or NULL.
StTensor *st_find(const StFile *f, const char *name);

//
// spec.c: the YAML spec reader (libyaml), lowering.c: blocks to IR
//
typedef struct {
  const char *spec_path;
  const char *name;          // --name, or NULL for the spec's
  const char **overrides;    // "NAME=VALUE" for top-level parameters
  int n_overrides;           // (--set, --width, --resolution)
  const char *ghostify;      // --ghostify "ratio=S,dw=D", or NULL
} SpecOptions;

// Parses the spec and lowers it to a graph with unbound parameters.
Graph *spec_load(Arena *a, const SpecOptions *opt);
Graph *spec_parse(Arena *a, const SpecOptions *opt, const unsigned char *yaml,
                  size_t len);

//
// weights.c: binding parameters to data
//
// Binds every parameter of g by key; errors name the key and shapes.
void weights_bind(Graph *g, const StFile *f, const char *path);
// Deterministic weights with non-trivial BatchNorm statistics.
void weights_random(Graph *g, uint64_t seed);

//
// files.c: reading inputs, writing outputs all or nothing
//
// Reads a whole file of at most max_bytes into the arena.
unsigned char *read_file(Arena *a, const char *path, size_t max_bytes,
                         size_t *len);
// Writes every file into dir (created if missing) or, on any failure,
// none: each goes to a temporary first and is renamed when all are written.
void write_output(const char *dir, const Output *out);

//
// summary.c: --summary, per layer and in total
//
typedef struct {
  uint64_t params;  // learnable, as PyTorch counts them
  uint64_t macs;
} ModelStats;

// The network as specified, before passes change its layers.
ModelStats model_stats(const Graph *g);
void print_summary(const Graph *g, const MemPlan *plan,
                   const ModelStats *model, FILE *out);

//
// driver.c: the pipeline, and the options that steer it
//
typedef struct {
  SpecOptions spec;
  const char *out_dir;        // -o, or NULL
  const char *weights_path;   // --weights, or NULL
  bool random_weights;        // --random-weights SEED
  uint64_t seed;
  bool summary;               // --summary
  bool dump_lowered;          // --dump-ir=lower: the IR before any pass
  bool dump_ir;               // --dump-ir: the IR the backend gets
  PassOptions passes;         // --no-PASS, --dump-ir=PASS
  size_t max_arena;           // --max-arena BYTES, 0: no limit
  bool emit;                  // write generated code
  EmitKind emit_kind;         // --emit c|llvm|bc|obj|asm
  const char *target_triple;  // --target, or NULL for the host
  const char *cpu;            // --cpu, or NULL for generic
  const char *options_text;   // the options, for the provenance comment
} Options;

// What the in-memory part of the pipeline produces; all of it lives in the
// arena the caller passed.
typedef struct {
  Graph *graph;      // after the passes
  ModelStats stats;  // the network as specified, before the passes
  MemPlan plan;
  Output out;        // the generated files (none unless opt->emit)
} Compiled;

// Runs spec -> IR -> weights -> passes -> plan -> codegen, in memory (the
// dumps and the summary opt asks for go to stdout); user errors go to
// gh_error, so a DiagTrap can catch them.
Compiled compile_in_memory(const Options *opt, Arena *arena);
// The same, then writes the files; user errors exit 1.
void compile(const Options *opt);

//
// cli.c: command-line helpers
//
// Matches "--opt VALUE" and "--opt=VALUE" at argv[*i]; advances *i past the
// value. NULL if argv[*i] is another option.
const char *option_value(int argc, char **argv, int *i, const char *opt);
// A non-negative integer option value, or a user error naming the option.
uint64_t parse_count(const char *option, const char *text);
// The index of a pass named in an option, or a user error.
int pass_named(const char *name, const char *option);

//
// explore.c: ghostcc explore, a grid of widths x resolutions compared
//
// argv[0] is "explore"; returns the exit status (user errors exit 1).
int explore_main(int argc, char **argv);

#endif
