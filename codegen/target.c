// --target and --cpu: which instruction set the kernels are built for.
// x86-64 CPUs are named by the psABI levels (generic = baseline SSE2);
// every aarch64 CPU has NEON, so any aarch64 name gets the NEON kernels.
#include "codegen.h"

#include <string.h>

#if defined(__x86_64__)
#define HOST_TRIPLE "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define HOST_TRIPLE "aarch64-linux-gnu"
#else
#define HOST_TRIPLE NULL
#endif

static bool starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

// The best level this machine runs, for --cpu native.
static const char *host_x86_level(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
    return "x86-64-v4";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return "x86-64-v3";
#endif
  return "x86-64";
}

Target target_resolve(const char *triple, const char *cpu) {
  static const char known[] =
      "x86_64-linux-gnu, aarch64-linux-gnu, aarch64-linux-android";
  if (!triple) {
    if (!HOST_TRIPLE)
      gh_error("no --target given and this host is neither x86-64 nor "
               "aarch64 (%s)", known);
    triple = HOST_TRIPLE;
  }
  if (!cpu)
    cpu = "generic";
  // ELF on Linux and Android only: the tests cover those; other systems
  // would get another object format and ABI.
  if (!strstr(triple, "-linux"))
    gh_error("--target: unsupported triple '%s' (%s)", triple, known);
  Target t = {.triple = triple, .cpu = cpu};
  bool host = strcmp(triple, HOST_TRIPLE ? HOST_TRIPLE : "") == 0;
  if (starts_with(triple, "x86_64-")) {
    const char *level = cpu;
    if (!strcmp(cpu, "native")) {
      if (!host)
        gh_error("--cpu native: the host is not %s", triple);
      level = host_x86_level();
    } else if (!strcmp(cpu, "generic")) {
      level = "x86-64";
    }
    if (!strcmp(level, "x86-64") || !strcmp(level, "x86-64-v2"))
      t.isa = ISA_SCALAR;
    else if (!strcmp(level, "x86-64-v3"))
      t.isa = ISA_AVX2;
    else if (!strcmp(level, "x86-64-v4"))
      t.isa = ISA_AVX512;
    else
      gh_error("--cpu: unknown x86-64 CPU '%s' (generic, x86-64-v2, "
               "x86-64-v3, x86-64-v4, native)", cpu);
    t.llvm_cpu = level;
  } else if (starts_with(triple, "aarch64-") || starts_with(triple, "arm64-")) {
    t.aarch64 = true;
    t.isa = ISA_NEON;
    if (!strcmp(cpu, "native") && !host)
      gh_error("--cpu native: the host is not %s", triple);
    static const char *const arm_cpus[] = {
        "generic", "native", "cortex-a53", "cortex-a55", "cortex-a76",
        "cortex-a78", "cortex-x1", "neoverse-n1", "apple-m1"};
    bool found = false;
    for (size_t i = 0; i < sizeof arm_cpus / sizeof *arm_cpus; i++)
      found |= !strcmp(cpu, arm_cpus[i]);
    if (!found)
      gh_error("--cpu: unknown aarch64 CPU '%s' (generic, native, "
               "cortex-a53, cortex-a55, cortex-a76, cortex-a78, cortex-x1, "
               "neoverse-n1, apple-m1)", cpu);
    t.llvm_cpu = strcmp(cpu, "native") ? cpu : "generic";
  } else {
    gh_error("--target: unsupported triple '%s' (%s)", triple, known);
  }
  return t;
}

const char *isa_macro(Isa isa) {
  switch (isa) {
  case ISA_AVX2: return "GHR_ISA_AVX2";
  case ISA_AVX512: return "GHR_ISA_AVX512";
  case ISA_NEON: return "GHR_ISA_NEON";
  case ISA_SCALAR: return NULL;
  }
  return NULL;
}
