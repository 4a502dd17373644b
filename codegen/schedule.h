// The model as the backends see it: a straight list of runtime-kernel calls
// whose every argument is a constant (an integer, a float, NULL, or a fixed
// offset into the input, the output, the arena or the weights blob), and
// the weights blob itself, some of it packed for the kernels that read it.
// The C backend prints the calls; the LLVM backend builds them. Both take
// the kernels from runtime/, so the two run the same arithmetic.
#ifndef GHOSTCC_SCHEDULE_H
#define GHOSTCC_SCHEDULE_H

#include "../ir/ir.h"

// The instruction set the kernels are built for (runtime/ghr_simd.h).
typedef enum { ISA_SCALAR, ISA_AVX2, ISA_AVX512, ISA_NEON } Isa;

// What the code is generated for: --target and --cpu.
typedef struct {
  const char *triple;  // e.g. "x86_64-linux-gnu", "aarch64-linux-android"
  const char *cpu;     // as given: "generic", "x86-64-v3", "native", ...
  const char *llvm_cpu;  // the same for LLVM ("native" resolved), e.g. "x86-64-v4"
  Isa isa;
  bool aarch64;
} Target;

// Resolves --target and --cpu (either may be NULL: the host's triple,
// "generic"); unknown names are user errors.
Target target_resolve(const char *triple, const char *cpu);
// The ISA macro generated C defines (NULL for ISA_SCALAR).
const char *isa_macro(Isa isa);

typedef enum {
  ARG_INT,      // .value
  ARG_FLOAT,    // .f
  ARG_NULL,     // a null pointer
  ARG_INPUT,    // input + .value floats (read only)
  ARG_OUTPUT,   // output + .value floats
  ARG_ARENA,    // arena + .value floats
  ARG_WEIGHTS,  // weights blob + .value floats (read only)
} ArgKind;

typedef struct {
  ArgKind kind;
  int64_t value;
  float f;
} Arg;

enum { MAX_CALL_ARGS = 24 };

typedef struct {
  const char *note;    // one line for a comment before the call, or NULL
  const char *kernel;  // e.g. "ghr_conv1x1"; NULL: only the note
  Arg args[MAX_CALL_ARGS];
  int n_args;
} Call;

typedef struct {
  Call *calls;
  int n_calls;
  // runtime/ files the calls need, each once, in the order to paste them
  // (after ghr.h and ghr_simd.h, which every model gets).
  const char **files;
  int n_files;
  // Every parameter, each at a multiple of 16 floats (64 bytes).
  float *weights;
  size_t weight_floats;
} Schedule;

// schedule.c: picks a kernel per op for the target, packs the weights the
// kernels want packed, and resolves every pointer to a base and an offset.
Schedule schedule_model(const Graph *g, const MemPlan *plan,
                        const Target *target);

#endif
