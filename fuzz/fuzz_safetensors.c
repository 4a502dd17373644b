// libFuzzer target: bytes -> safetensors reader -> tensors (and the lookup
// by name the weights binder does).
#include "fuzz_common.h"

static Arena arena;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  DiagTrap trap;
  if (diag_try(&trap, setjmp(trap.jump))) {
    StFile *f = st_parse(&arena, "fuzz.safetensors", data, size);
    // Touch every converted value, so a wrong size or offset shows.
    volatile float sum = 0;
    for (int i = 0; i < f->n_tensors; i++) {
      const StTensor *t = &f->tensors[i];
      if (st_find(f, t->name) == NULL)
        abort();
      for (size_t k = 0; t->data && k < t->count; k++)
        sum += t->data[k];
    }
    (void)sum;
    diag_end(&trap);
  }
  arena_free(&arena);
  return 0;
}
