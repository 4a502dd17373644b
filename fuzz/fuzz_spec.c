// libFuzzer target: YAML bytes -> spec reader and lowering -> IR.
// Any user error is caught (DiagTrap); a crash, leak, hang, assertion or
// sanitizer report is a bug. The input may start with a "#!" options line
// (fuzz_common.h).
#include "fuzz_common.h"

// File scope: it is used after longjmp.
static Arena arena;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzOptions o;
  fuzz_options(data, size, &o);  // the line stays: it is a YAML comment
  SpecOptions opt = fuzz_spec_options(&o);
  DiagTrap trap;
  if (diag_try(&trap, setjmp(trap.jump))) {
    Graph *g = spec_parse(&arena, &opt, data, size);
    model_stats(g);
    diag_end(&trap);
  }
  arena_free(&arena);
  return 0;
}
