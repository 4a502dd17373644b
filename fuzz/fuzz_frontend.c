// libFuzzer target: the whole front half, in memory. Spec (and weights) ->
// IR -> passes -> memory plan -> generated C, which fuzz_check_output
// checks (file names, printable text, comments no name can close).
//
// Input: an optional "#!" options line (fuzz_common.h), the spec, and
// optionally WEIGHTS_MARK followed by a safetensors file; without one the
// weights are random (--random-weights 1).
#include "fuzz_common.h"

#define WEIGHTS_MARK "\n#@weights@\n"
// Random weights for more parameters than this cost seconds per input and
// find nothing new; such inputs are skipped (the limits themselves are the
// spec target's business).
#define FUZZ_MAX_PARAMS ((size_t)1 << 20)

static Arena arena;
static FILE *null_out;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  null_out = fopen("/dev/null", "w");
  return 0;
}

static const uint8_t *find_mark(const uint8_t *data, size_t size) {
  size_t m = sizeof WEIGHTS_MARK - 1;
  for (size_t i = 0; i + m <= size; i++)
    if (data[i] == '\n' && memcmp(data + i, WEIGHTS_MARK, m) == 0)
      return data + i;
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzOptions o;
  fuzz_options(data, size, &o);
  SpecOptions spec_opt = fuzz_spec_options(&o);
  const uint8_t *mark = find_mark(data, size);
  size_t spec_len = mark ? (size_t)(mark - data) : size;
  DiagTrap trap;
  if (diag_try(&trap, setjmp(trap.jump))) {
    Graph *g = spec_parse(&arena, &spec_opt, data, spec_len);
    ModelStats stats = model_stats(g);
    size_t total = 0;
    for (int i = 0; i < g->n_params; i++)
      total += g->params[i].count;
    if (total <= FUZZ_MAX_PARAMS) {
      if (mark) {
        const uint8_t *w = mark + sizeof WEIGHTS_MARK - 1;
        StFile *f = st_parse(&arena, "fuzz.safetensors", w,
                             size - (size_t)(w - data));
        weights_bind(g, f, "fuzz.safetensors");
      } else {
        weights_random(g, 1);
      }
      PassOptions passes = {.dump = null_out};
      memcpy(passes.disabled, o.disabled, sizeof passes.disabled);
      run_passes(g, &passes);
      graph_print(g, null_out);
      MemPlan plan = plan_memory(g, &arena);
      print_summary(g, &plan, &stats, null_out);
      // The fast kernels' scheduling and packing too: the AVX-512 target.
      Target target = target_resolve("x86_64-linux-gnu", "x86-64-v4");
      Schedule schedule = schedule_model(g, &plan, &target);
      Output out = {0};
      emit_c(g, &plan, &schedule, &target, "fuzz\nprovenance */ line", &out);
      fuzz_check_output(&out);
    }
    diag_end(&trap);
  }
  arena_free(&arena);
  return 0;
}
