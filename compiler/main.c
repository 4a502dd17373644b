// The ghostcc command line.
#include "ghostcc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: ghostcc SPEC [options]\n"
    "       ghostcc explore SPEC --width A:B:STEP [--resolution R,...] [--bench]\n"
    "                       [--csv F] [--svg F]   compare variants\n"
    "\n"
    "Compiles a YAML network spec into self-contained C: DIR/NAME.h,\n"
    "DIR/NAME.c and DIR/NAME_weights.c.\n"
    "\n"
    "options:\n"
    "  -o DIR                 write the generated files into DIR (created if\n"
    "                         missing; default: the current directory)\n"
    "  --name N               model name: file names and the C prefix\n"
    "                         (default: the spec's name)\n"
    "  --weights FILE         weights as safetensors, found by the names of\n"
    "                         PyTorch's state_dict\n"
    "  --random-weights SEED  deterministic random weights instead\n"
    "  --width W              width multiplier (the spec's `width`)\n"
    "  --resolution R         input height and width (the spec's `resolution`)\n"
    "  --set NAME=VALUE       override any top-level spec parameter\n"
    "  --ghostify ratio=S[,dw=D]  replace every ordinary conv but the first\n"
    "                         by a ghost module of the same width (d: 3)\n"
    "  --emit KIND            what to generate: c (default: NAME.c and\n"
    "                         NAME_weights.c), llvm (NAME.ll), bc (NAME.bc),\n"
    "                         obj (NAME.o) or asm (NAME.s); always NAME.h\n"
    "  --target TRIPLE        x86_64-linux-gnu, aarch64-linux-gnu or\n"
    "                         aarch64-linux-android (default: the host)\n"
    "  --cpu NAME             the kernels' instruction set: generic (portable\n"
    "                         C, the default), x86-64-v3 (AVX2+FMA), x86-64-v4\n"
    "                         (AVX-512), native (this machine's best); any\n"
    "                         aarch64 CPU gets NEON. Build the C with a\n"
    "                         matching -march (e.g. -march=x86-64-v4)\n"
    "  --summary              print per layer: op, output shape, params, MACs,\n"
    "                         arena offset and bytes; then the totals\n"
    "  --dump-ir              print the IR the backend gets (after all passes)\n"
    "  --dump-ir=PASS         print the IR after PASS; --dump-ir=lower: before\n"
    "                         any pass (may be given more than once)\n"
    "  --no-PASS              turn a pass off\n"
    "  --max-arena BYTES      fail if the arena needs more than BYTES, naming\n"
    "                         the layer where the plan goes over\n"
    "  --help                 print this help\n"
    "  --version              print the version\n"
    "\n"
    "passes, in order: fold_bn, fuse_activation, fuse_ghost, shuffle_remap,\n"
    "fuse_se, fuse_residual, concat_in_place\n"
    "\n"
    "With --summary or --dump-ir and no -o, nothing is written.\n"
    "Errors go to stderr as FILE:LINE:COL: error: ...; the exit status is 1\n"
    "and no output file is left behind.\n";




int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "explore"))
    return explore_main(argc - 1, argv + 1);
  Arena arena = {0};
  Options opt = {0};
  const char **overrides =
      arena_array(&arena, (size_t)argc + 1, sizeof(const char *));
  char *options_text = arena_strdup(&arena, "");
  bool want_output = false;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i], *v = NULL;
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      fputs(usage, stdout);
      arena_free(&arena);
      return 0;
    } else if (!strcmp(arg, "--version")) {
      printf("ghostcc %s\n", GHOSTCC_VERSION);
      arena_free(&arena);
      return 0;
    } else if ((v = option_value(argc, argv, &i, "-o"))) {
      opt.out_dir = v;
      want_output = true;
      continue;  // the output place is not part of the provenance
    } else if ((v = option_value(argc, argv, &i, "--name"))) {
      opt.spec.name = v;
    } else if ((v = option_value(argc, argv, &i, "--weights"))) {
      opt.weights_path = v;
      // By base name, as on the provenance's weights line: where the file
      // lies (build or current directory) must not change the output.
      const char *slash = strrchr(v, '/');
      options_text = arena_printf(&arena, "%s --weights %s", options_text,
                                  slash ? slash + 1 : v);
      continue;
    } else if ((v = option_value(argc, argv, &i, "--random-weights"))) {
      opt.random_weights = true;
      opt.seed = parse_count("--random-weights", v);
    } else if ((v = option_value(argc, argv, &i, "--width"))) {
      overrides[opt.spec.n_overrides++] = arena_printf(&arena, "width=%s", v);
    } else if ((v = option_value(argc, argv, &i, "--resolution"))) {
      overrides[opt.spec.n_overrides++] =
          arena_printf(&arena, "resolution=%s", v);
    } else if ((v = option_value(argc, argv, &i, "--set"))) {
      overrides[opt.spec.n_overrides++] = v;
    } else if ((v = option_value(argc, argv, &i, "--ghostify"))) {
      opt.spec.ghostify = v;
    } else if ((v = option_value(argc, argv, &i, "--emit"))) {
      static const char *const kinds[] = {
          [EMIT_C] = "c", [EMIT_LLVM] = "llvm", [EMIT_BC] = "bc",
          [EMIT_OBJ] = "obj", [EMIT_ASM] = "asm"};
      int kind = 0;
      while (kind < 5 && strcmp(v, kinds[kind]) != 0)
        kind++;
      if (kind == 5)
        gh_error("--emit: unknown kind '%s' (c, llvm, bc, obj, asm)", v);
      opt.emit_kind = (EmitKind)kind;
      want_output = true;
    } else if ((v = option_value(argc, argv, &i, "--target"))) {
      opt.target_triple = v;
    } else if ((v = option_value(argc, argv, &i, "--cpu"))) {
      opt.cpu = v;
    } else if (!strcmp(arg, "--summary")) {
      opt.summary = true;
      continue;
    } else if (!strcmp(arg, "--dump-ir")) {
      opt.dump_ir = true;
      continue;
    } else if (!strncmp(arg, "--dump-ir=", 10)) {
      if (!strcmp(arg + 10, "lower"))
        opt.dump_lowered = true;
      else
        opt.passes.dump_after[pass_named(arg + 10, "--dump-ir")] = true;
      continue;
    } else if ((v = option_value(argc, argv, &i, "--max-arena"))) {
      opt.max_arena = (size_t)parse_count("--max-arena", v);
      continue;
    } else if (!strncmp(arg, "--no-", 5)) {
      opt.passes.disabled[pass_named(arg + 5, arg)] = true;
    } else if (arg[0] == '-' && arg[1]) {
      gh_error("unknown option '%s' (see ghostcc --help)", arg);
    } else {
      if (opt.spec.spec_path)
        gh_error("more than one spec: '%s' and '%s'", opt.spec.spec_path, arg);
      opt.spec.spec_path = arg;
      continue;
    }
    // Options that shape the output are recorded in its provenance.
    options_text = arena_printf(&arena, "%s %s", options_text, arg);
    if (v && v != arg + strlen(arg) - strlen(v))
      options_text = arena_printf(&arena, "%s %s", options_text, v);
  }
  if (!opt.spec.spec_path) {
    fputs(usage, stderr);
    arena_free(&arena);
    return 1;
  }
  if (opt.weights_path && opt.random_weights)
    gh_error("--weights and --random-weights exclude each other");
  opt.spec.overrides = overrides;
  opt.passes.dump = stdout;
  bool dumps = opt.dump_ir || opt.dump_lowered;
  for (int i = 0; i < n_passes; i++)
    dumps |= opt.passes.dump_after[i];
  opt.emit = want_output || (!opt.summary && !dumps);
  if (opt.emit && !opt.weights_path && !opt.random_weights)
    gh_error("no weights: give --weights FILE (safetensors) or "
             "--random-weights SEED");
  if (!opt.out_dir)
    opt.out_dir = ".";
  opt.options_text = options_text;
  compile(&opt);
  arena_free(&arena);
  return 0;
}
