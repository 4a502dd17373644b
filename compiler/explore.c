// ghostcc explore: compiles a grid of widths x resolutions of one spec and
// compares the variants (params, MACs, arena, weights, code size, compile
// time and, with --bench, the latency measured on this machine).
//
// Each variant goes through the same in-memory pipeline as `ghostcc SPEC`
// (compile_in_memory) inside its own DiagTrap, so a width the spec cannot
// take becomes an error row instead of ending the exploration. The spec
// itself, the options and an explicit weights file are checked once up
// front with the usual conventions (FILE:LINE:COL: error: ..., exit 1).
#include "ghostcc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: ghostcc explore SPEC --width RANGE [options]\n"
    "\n"
    "Compiles every variant of SPEC over widths x resolutions and prints a\n"
    "table: params and MACs (as specified), arena and weight bytes, generated\n"
    "code size, compile time and, with --bench, the latency on this machine.\n"
    "\n"
    "options:\n"
    "  --width A:B:STEP       widths A, A+STEP, ... up to B inclusive (e.g.\n"
    "  --width A,B,...        0.5:1.5:0.1), or a list\n"
    "  --resolution R,R,...   input resolutions (default: the spec's)\n"
    "  --bench                build each variant with the host compiler\n"
    "                         ($CC or cc, -std=c11 -O3 -march=native) and a\n"
    "                         timing main, and report the median latency\n"
    "  --csv FILE             also write the table as CSV\n"
    "  --svg FILE             also write a chart: latency (with --bench) or\n"
    "                         MACs against width, one line per resolution\n"
    "  --name N, --weights FILE, --random-weights SEED, --set NAME=VALUE,\n"
    "  --ghostify ratio=S[,dw=D], --no-PASS, --max-arena BYTES\n"
    "                         as for ghostcc SPEC (default weights: random,\n"
    "                         seed 0; the figures do not depend on them)\n"
    "  --help                 print this help\n"
    "\n"
    "A variant that does not compile is an error row; the exit status is 1\n"
    "only if none compiles (or on bad options or a bad spec), and then no\n"
    "CSV or SVG file is written.\n";

enum { MAX_VARIANTS = 10000 };

// Benchmark of the timing main: warm-up runs, then timed runs until both
// minimums are reached.
enum { BENCH_WARMUP = 3, BENCH_MIN_RUNS = 20, BENCH_MAX_RUNS = 100000 };
#define BENCH_MIN_MS 200.0

typedef struct {
  const char *width;       // as printed and passed to the spec
  double width_value;
  const char *resolution;  // as printed; passed to the spec unless default
  bool default_resolution;
  // Results.
  const char *error;       // NULL if the variant compiled (and ran)
  ModelStats stats;
  size_t arena_bytes;
  uint64_t weight_bytes;   // the stored parameters, after the passes
  size_t code_bytes;       // NAME.h + NAME.c
  size_t weights_source_bytes;  // NAME_weights.c
  double compile_ms;       // ghostcc, spec to C in memory
  double cc_ms;            // --bench: the host compiler
  double latency_ms;       // --bench: median
  int runs;                // --bench: timed runs
} Variant;

typedef struct {
  Arena arena;             // options, variants, results
  Options opt;             // the options every variant shares
  const char **overrides;  // --set, then room for width and resolution
  int n_overrides;
  const char *options_text;
  bool bench;
  const char *csv_path, *svg_path;
  const char *model;       // the model name, from the spec
  Variant *variants;
  int n_variants;
  bool tty;                // stderr is a terminal: progress with \r
} Explore;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

//
// Options
//



// A finite number that is all of `text` (no spaces).
static bool parse_number(const char *text, double *v) {
  char *end;
  errno = 0;
  *v = strtod(text, &end);
  return *text && !*end && !errno && isfinite(*v) && *text != ' ';
}

// The fewest decimals (at most 9) that write v exactly enough.
static int decimals(double v) {
  double scale = 1;
  for (int d = 0; d < 9; d++, scale *= 10) {
    double x = fabs(v) * scale;
    if (fabs(x - round(x)) < 1e-6 * (x > 1 ? x : 1))
      return d;
  }
  return 9;
}

// Splits a comma list into trimmed items; empty items are an error.
static int split_list(Arena *a, const char *option, const char *text,
                      const char ***items) {
  int n = 1;
  for (const char *p = text; *p; p++)
    n += *p == ',';
  if (n > MAX_VARIANTS)
    gh_error("%s: more than %d values", option, MAX_VARIANTS);
  *items = arena_array(a, (size_t)n, sizeof **items);
  const char *p = text;
  for (int i = 0; i < n; i++) {
    const char *end = strchr(p, ',');
    if (!end)
      end = p + strlen(p);
    while (p < end && *p == ' ')
      p++;
    const char *last = end;
    while (last > p && last[-1] == ' ')
      last--;
    if (last == p)
      gh_error("%s: empty value in '%s'", option, text);
    (*items)[i] = arena_strndup(a, p, (size_t)(last - p));
    p = *end ? end + 1 : end;
  }
  return n;
}

// "A:B:STEP" (B included within rounding) or "A,B,...": the widths as text
// (a range printed with the decimals of A and STEP, so 0.5:1.5:0.1 gives
// 0.5, 0.6, ..., 1.5 without float drift) and as numbers.
static int parse_widths(Arena *a, const char *text, const char ***texts,
                        double **values) {
  const char *colon = strchr(text, ':');
  if (!colon) {
    int n = split_list(a, "--width", text, texts);
    *values = arena_array(a, (size_t)n, sizeof **values);
    for (int i = 0; i < n; i++)
      if (!parse_number((*texts)[i], &(*values)[i]) || (*values)[i] <= 0)
        gh_error("--width: '%s' is not a positive number",
                 (*texts)[i]);
    return n;
  }
  const char **parts;
  char *range = arena_strdup(a, text);
  for (char *p = range; *p; p++)
    if (*p == ':')
      *p = ',';
  double lo, hi, step;
  if (split_list(a, "--width", range, &parts) != 3 ||
      !parse_number(parts[0], &lo) || !parse_number(parts[1], &hi) ||
      !parse_number(parts[2], &step))
    gh_error("--width: expected A:B:STEP (e.g. 0.5:1.5:0.1) or a "
             "list A,B,..., got '%s'", text);
  if (lo <= 0 || step <= 0 || hi < lo)
    gh_error("--width: the range '%s' needs 0 < A <= B and STEP > 0",
             text);
  double count = floor((hi - lo) / step + 1e-6) + 1;
  if (count > MAX_VARIANTS)
    gh_error("--width: '%s' has more than %d values", text,
             MAX_VARIANTS);
  int n = (int)count;
  int d = decimals(lo) > decimals(step) ? decimals(lo) : decimals(step);
  *texts = arena_array(a, (size_t)n, sizeof **texts);
  *values = arena_array(a, (size_t)n, sizeof **values);
  for (int i = 0; i < n; i++) {
    (*texts)[i] = arena_printf(a, "%.*f", d, lo + i * step);
    (*values)[i] = strtod((*texts)[i], NULL);
  }
  return n;
}

static int parse_resolutions(Arena *a, const char *text,
                             const char ***texts) {
  int n = split_list(a, "--resolution", text, texts);
  for (int i = 0; i < n; i++) {
    const char *r = (*texts)[i];
    char *end;
    errno = 0;
    long v = strtol(r, &end, 10);
    if (*end || errno || v < 1 || r[0] == '+')
      gh_error("--resolution: '%s' is not a positive integer", r);
  }
  return n;
}


// --csv and --svg: fail now on a destination that cannot be written, not
// after the whole exploration.
static void check_destination(const char *option, const char *path) {
  struct stat st;
  if (!*path || path[strlen(path) - 1] == '/')
    gh_error("%s needs a file name, got '%s'", option, path);
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    gh_error("%s: '%s' is a directory", option, path);
}

static void parse_options(Explore *ex, int argc, char **argv) {
  Arena *a = &ex->arena;
  Options *opt = &ex->opt;
  ex->overrides = arena_array(a, (size_t)argc + 2, sizeof(const char *));
  char *text = arena_strdup(a, "");
  const char *widths = NULL, *resolutions = NULL;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i], *v = NULL;
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      fputs(usage, stdout);
      arena_free(a);
      exit(0);
    } else if ((v = option_value(argc, argv, &i, "--width"))) {
      widths = v;
      continue;
    } else if ((v = option_value(argc, argv, &i, "--resolution"))) {
      resolutions = v;
      continue;
    } else if (!strcmp(arg, "--bench")) {
      ex->bench = true;
      continue;
    } else if ((v = option_value(argc, argv, &i, "--csv"))) {
      check_destination("--csv", v);
      ex->csv_path = v;
      continue;
    } else if ((v = option_value(argc, argv, &i, "--svg"))) {
      check_destination("--svg", v);
      ex->svg_path = v;
      continue;
    } else if ((v = option_value(argc, argv, &i, "--name"))) {
      opt->spec.name = v;
    } else if ((v = option_value(argc, argv, &i, "--weights"))) {
      opt->weights_path = v;
    } else if ((v = option_value(argc, argv, &i, "--random-weights"))) {
      opt->random_weights = true;
      opt->seed = parse_count("--random-weights", v);
    } else if ((v = option_value(argc, argv, &i, "--set"))) {
      ex->overrides[ex->n_overrides++] = v;
    } else if ((v = option_value(argc, argv, &i, "--ghostify"))) {
      opt->spec.ghostify = v;
    } else if ((v = option_value(argc, argv, &i, "--max-arena"))) {
      opt->max_arena = (size_t)parse_count("--max-arena", v);
      continue;
    } else if (!strncmp(arg, "--no-", 5)) {
      opt->passes.disabled[pass_named(arg + 5, arg)] = true;
    } else if (arg[0] == '-' && arg[1]) {
      gh_error("unknown option '%s' (see ghostcc explore --help)",
               arg);
    } else {
      if (opt->spec.spec_path)
        gh_error("more than one spec: '%s' and '%s'",
                 opt->spec.spec_path, arg);
      opt->spec.spec_path = arg;
      continue;
    }
    // As in main.c: what shapes the output goes into its provenance.
    text = arena_printf(a, "%s %s", text, arg);
    if (v && v != arg + strlen(arg) - strlen(v))
      text = arena_printf(a, "%s %s", text, v);
  }
  if (!opt->spec.spec_path) {
    fputs(usage, stderr);
    arena_free(a);
    exit(1);
  }
  if (!widths)
    gh_error("--width is required: a range A:B:STEP (e.g. "
             "0.5:1.5:0.1) or a list A,B,...");
  if (opt->weights_path && opt->random_weights)
    gh_error("--weights and --random-weights exclude each other");
  if (!opt->weights_path && !opt->random_weights) {
    opt->random_weights = true;  // the figures do not depend on the values
    text = arena_printf(a, "%s --random-weights 0", text);
  }
  opt->emit = true;
  opt->passes.dump = stdout;
  opt->spec.overrides = ex->overrides;
  opt->spec.n_overrides = ex->n_overrides;
  ex->options_text = text;

  const char **width_texts, **res_texts = NULL;
  double *width_values;
  int n_widths = parse_widths(a, widths, &width_texts, &width_values);
  int n_res = resolutions ? parse_resolutions(a, resolutions, &res_texts) : 1;
  if ((long)n_widths * n_res > MAX_VARIANTS)
    gh_error("%d widths x %d resolutions is more than %d variants",
             n_widths, n_res, MAX_VARIANTS);

  // The spec as written (with --set), and the weights file, once: errors
  // here are the user's and end the run with the usual message.
  Arena probe = {0};
  size_t len;
  unsigned char *yaml = read_file(&probe, opt->spec.spec_path, 16u << 20, &len);
  Graph *g = spec_parse(&probe, &opt->spec, yaml, len);
  ex->model = arena_strdup(a, g->name);
  const Value *in = &g->values[g->input];
  const char *spec_resolution =
      in->h == in->w ? arena_printf(a, "%d", in->h)
                     : arena_printf(a, "%dx%d", in->h, in->w);
  if (!res_texts)
    res_texts = &spec_resolution;
  if (opt->weights_path)
    st_load(&probe, opt->weights_path);
  arena_free(&probe);

  ex->n_variants = n_widths * n_res;
  ex->variants = arena_array(a, (size_t)ex->n_variants, sizeof(Variant));
  // One resolution at a time, the widths in order: a chart line each.
  for (int r = 0; r < n_res; r++)
    for (int w = 0; w < n_widths; w++)
      ex->variants[r * n_widths + w] = (Variant){
          .width = width_texts[w],
          .width_value = width_values[w],
          .resolution = res_texts[r],
          .default_resolution = !resolutions,
      };
}

//
// Progress, on stderr
//

static void progress(const Explore *ex, int i, const char *stage) {
  const Variant *v = &ex->variants[i];
  if (ex->tty)
    fprintf(stderr, "\r[%d/%d] width %s resolution %s: %s...\033[K", i + 1,
            ex->n_variants, v->width, v->resolution, stage);
  else if (!strcmp(stage, "compiling"))
    fprintf(stderr, "[%d/%d] width %s resolution %s ...\n", i + 1,
            ex->n_variants, v->width, v->resolution);
}

static void progress_done(const Explore *ex) {
  if (ex->tty)
    fputs("\r\033[K", stderr);
}

//
// --bench: build with the host compiler and time it
//

// Runs argv in dir with stdout and stderr into log; returns the exit status
// (128 + signal when killed, 127 when it could not be started).
static int run_in(const char *dir, char *const argv[], const char *log) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    gh_error("cannot start '%s': %s", argv[0], strerror(errno));
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || chdir(dir) != 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
      _exit(127);
    close(fd);
    execvp(argv[0], argv);
    fprintf(stderr, "cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      gh_error("cannot wait for '%s': %s", argv[0], strerror(errno));
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// The first line of a log that mentions an error, else its first line.
static const char *log_excerpt(Arena *a, const char *log) {
  size_t len;
  char *text = (char *)read_file(a, log, 1u << 20, &len);
  text[len] = '\0';
  const char *pick = NULL;
  for (char *line = text; *line && !pick;) {
    char *end = strchr(line, '\n');
    if (strstr(line, "error") &&
        (!end || strstr(line, "error") < end))
      pick = line;
    line = end ? end + 1 : line + strlen(line);
  }
  if (!pick)
    pick = text;
  size_t n = strcspn(pick, "\n");
  return n ? arena_strndup(a, pick, n < 300 ? n : 300) : "(no output)";
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
        unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
  }
  rmdir(dir);
}

// A main that times NAME_run: warm-up runs, then at least BENCH_MIN_RUNS
// timed runs and BENCH_MIN_MS; prints the median.
static const char *timing_main(Arena *a, const char *id, const char *macro) {
  return arena_printf(
      a,
      "/* The timing main of ghostcc explore --bench. */\n"
      "#define _POSIX_C_SOURCE 200809L\n"
      "#include <stdio.h>\n#include <stdlib.h>\n#include <time.h>\n\n"
      "#include \"%1$s.h\"\n\n"
      "static double now_ms(void) {\n"
      "  struct timespec t;\n"
      "  clock_gettime(CLOCK_MONOTONIC, &t);\n"
      "  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;\n"
      "}\n\n"
      "static int by_value(const void *a, const void *b) {\n"
      "  double x = *(const double *)a, y = *(const double *)b;\n"
      "  return (x > y) - (x < y);\n"
      "}\n\n"
      "static double times[%3$d];\n\n"
      "int main(void) {\n"
      "  size_t arena_bytes = (%2$s_ARENA_BYTES + %2$s_ARENA_ALIGN - 1) /\n"
      "                       %2$s_ARENA_ALIGN * %2$s_ARENA_ALIGN;\n"
      "  float *input = malloc(sizeof(float) * %2$s_INPUT_SIZE);\n"
      "  float *output = malloc(sizeof(float) * %2$s_OUTPUT_SIZE);\n"
      "  void *arena = aligned_alloc(%2$s_ARENA_ALIGN, arena_bytes);\n"
      "  if (!input || !output || !arena) {\n"
      "    fprintf(stderr, \"error: out of memory\\n\");\n"
      "    return 1;\n"
      "  }\n"
      "  unsigned s = 12345;\n"
      "  for (size_t i = 0; i < %2$s_INPUT_SIZE; i++) {\n"
      "    s = s * 1664525u + 1013904223u;\n"
      "    input[i] = (float)(s >> 8) / 16777216.0f - 0.5f;\n"
      "  }\n"
      "  for (int i = 0; i < %4$d; i++)\n"
      "    if (%1$s_run(input, output, arena) != %2$s_OK) {\n"
      "      fprintf(stderr, \"error: %1$s_run failed\\n\");\n"
      "      return 1;\n"
      "    }\n"
      "  int n = 0;\n"
      "  double start = now_ms();\n"
      "  while (n < %3$d && (n < %5$d || now_ms() - start < %6$.1f)) {\n"
      "    double t0 = now_ms();\n"
      "    %1$s_run(input, output, arena);\n"
      "    times[n++] = now_ms() - t0;\n"
      "  }\n"
      "  qsort(times, (size_t)n, sizeof times[0], by_value);\n"
      "  double median = n %% 2 ? times[n / 2]\n"
      "                        : (times[n / 2 - 1] + times[n / 2]) / 2;\n"
      "  printf(\"runs %%d\\nmedian_ms %%.6f\\nmin_ms %%.6f\\n\", n, median,\n"
      "         times[0]);\n"
      "  printf(\"checksum %%g\\n\", (double)output[0]);\n"
      "  free(input);\n  free(output);\n  free(arena);\n"
      "  return 0;\n"
      "}\n",
      id, macro, BENCH_MAX_RUNS, BENCH_WARMUP, BENCH_MIN_RUNS, BENCH_MIN_MS);
}

// The host compiler: $CC (split at spaces, e.g. "ccache gcc") or cc.
static int compiler_argv(Arena *a, const char **argv) {
  const char *cc = getenv("CC");
  if (!cc || !*cc)
    cc = "cc";
  char *words = arena_strdup(a, cc);
  int n = 0;
  for (char *w = strtok(words, " \t"); w && n < 8; w = strtok(NULL, " \t"))
    argv[n++] = w;
  if (!n)
    argv[n++] = "cc";
  return n;
}

static void build_and_time(Explore *ex, int index, const Output *out,
                           const char *dir, Arena *a) {
  Variant *v = &ex->variants[index];
  // The generated files and the timing main, all or nothing, into dir.
  Output files = *out;
  const char *header = NULL;
  const char *sources[MAX_OUT_FILES];
  int n_sources = 0;
  for (int i = 0; i < out->n_files; i++) {
    const char *name = out->files[i].name;
    size_t n = strlen(name);
    if (n > 2 && !strcmp(name + n - 2, ".h"))
      header = name;
    else if (n > 2 && !strcmp(name + n - 2, ".c"))
      sources[n_sources++] = name;
  }
  gh_assert(header && files.n_files < MAX_OUT_FILES);
  const char *id = arena_strndup(a, header, strlen(header) - 2);
  char *macro = arena_strdup(a, id);
  for (char *p = macro; *p; p++)
    if (*p >= 'a' && *p <= 'z')
      *p = (char)(*p - 'a' + 'A');
  const char *main_text = timing_main(a, id, macro);
  files.files[files.n_files++] = (OutFile){
      "ghostcc_explore_main.c", (char *)main_text, strlen(main_text)};
  write_output(dir, &files);

  progress(ex, index, "building");
  const char *argv[32];
  int n = compiler_argv(a, argv);
  const char *flags[] = {"-std=c11", "-O3", "-march=native", "-o",
                         "ghostcc_explore_bench", "ghostcc_explore_main.c"};
  for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
    argv[n++] = flags[i];
  for (int i = 0; i < n_sources; i++)
    argv[n++] = sources[i];
  argv[n++] = "-lm";
  argv[n] = NULL;
  const char *log = arena_printf(a, "%s/build.log", dir);
  double t0 = now_ms();
  int status = run_in(dir, (char *const *)argv, log);
  v->cc_ms = now_ms() - t0;
  if (status)
    gh_error("the host compiler '%s' failed (exit %d): %s", argv[0], status,
             log_excerpt(a, log));

  progress(ex, index, "running");
  const char *run_log = arena_printf(a, "%s/run.log", dir);
  char *const run_argv[] = {"./ghostcc_explore_bench", NULL};
  status = run_in(dir, run_argv, run_log);
  if (status)
    gh_error("the timing program failed (exit %d): %s", status,
             log_excerpt(a, run_log));
  size_t len;
  char *text = (char *)read_file(a, run_log, 1u << 20, &len);
  text[len] = '\0';
  const char *runs = strstr(text, "runs ");
  const char *median = strstr(text, "median_ms ");
  if (!runs || !median || sscanf(runs, "runs %d", &v->runs) != 1 ||
      sscanf(median, "median_ms %lf", &v->latency_ms) != 1)
    gh_error("the timing program printed no median: %s",
             log_excerpt(a, run_log));
}

// Writes the variant into a fresh temporary directory, builds and times it,
// and removes the directory whatever happens.
static void bench_variant(Explore *ex, int index, const Output *out,
                          Arena *a) {
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/ghostcc-explore-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir))
    gh_error("cannot create a temporary directory '%s': %s", dir,
             strerror(errno));
  DiagTrap trap;
  if (diag_try(&trap, setjmp(trap.jump))) {
    build_and_time(ex, index, out, dir, a);
    diag_end(&trap);
    remove_dir(dir);
    return;
  }
  remove_dir(dir);
  diag_rethrow(&trap);
}

//
// One variant
//

static void measure_variant(Explore *ex, int index, Arena *a) {
  Variant *v = &ex->variants[index];
  Options opt = ex->opt;
  const char **overrides =
      arena_array(a, (size_t)ex->n_overrides + 2, sizeof *overrides);
  memcpy(overrides, ex->overrides, (size_t)ex->n_overrides * sizeof *overrides);
  int n = ex->n_overrides;
  overrides[n++] = arena_printf(a, "width=%s", v->width);
  const char *text =
      arena_printf(a, "%s --width %s", ex->options_text, v->width);
  if (!v->default_resolution) {
    overrides[n++] = arena_printf(a, "resolution=%s", v->resolution);
    text = arena_printf(a, "%s --resolution %s", text, v->resolution);
  }
  opt.spec.overrides = overrides;
  opt.spec.n_overrides = n;
  opt.options_text = text;
  // Timed builds use -march=native, so they get this machine's kernels.
  if (ex->bench)
    opt.cpu = "native";

  progress(ex, index, "compiling");
  double t0 = now_ms();
  Compiled c = compile_in_memory(&opt, a);
  v->compile_ms = now_ms() - t0;
  v->stats = c.stats;
  v->arena_bytes = c.plan.arena_bytes;
  for (int i = 0; i < c.graph->n_params; i++)
    v->weight_bytes += c.graph->params[i].count * sizeof(float);
  for (int i = 0; i < c.out.n_files; i++) {
    const OutFile *f = &c.out.files[i];
    size_t len = strlen(f->name);
    if (len > 10 && !strcmp(f->name + len - 10, "_weights.c"))
      v->weights_source_bytes += f->len;
    else
      v->code_bytes += f->len;
  }
  if (ex->bench)
    bench_variant(ex, index, &c.out, a);
}

// "FILE:LINE:COL: error: MSG" -> "error: FILE:LINE:COL: MSG".
static const char *row_error(Arena *a, const char *message) {
  const char *at = strstr(message, "error: ");
  if (!at || at == message)
    return arena_strdup(a, message);
  const char *loc_end = at;
  while (loc_end > message && (loc_end[-1] == ' ' || loc_end[-1] == ':'))
    loc_end--;
  return arena_printf(a, "error: %.*s: %s", (int)(loc_end - message), message,
                      at + 7);
}

static void run_variant(Explore *ex, int index, Arena *scratch) {
  DiagTrap trap;
  if (diag_try(&trap, setjmp(trap.jump))) {
    measure_variant(ex, index, scratch);
    diag_end(&trap);
  } else {
    ex->variants[index].error = row_error(&ex->arena, trap.message);
  }
}

//
// The table, the CSV and the chart
//

enum { COL_WIDTH, COL_RES, COL_PARAMS, COL_MACS, COL_ARENA, COL_WEIGHTS,
       COL_CODE, COL_WSRC, COL_COMPILE, COL_CC, COL_LATENCY, N_COLS };

static const char *const col_name[N_COLS] = {
    "width", "resolution", "params", "MACs", "arena", "weights", "code",
    "weights.c", "compile", "cc", "latency"};
static const char *const col_unit[N_COLS] = {
    "", "", "M", "M", "KiB", "MiB", "KiB", "MiB", "ms", "ms", "ms"};

static const char *cell(Arena *a, const Variant *v, int col) {
  switch (col) {
  case COL_WIDTH: return v->width;
  case COL_RES: return v->resolution;
  case COL_PARAMS:
    return arena_printf(a, "%.2f", (double)v->stats.params / 1e6);
  case COL_MACS: return arena_printf(a, "%.1f", (double)v->stats.macs / 1e6);
  case COL_ARENA: return arena_printf(a, "%.0f", (double)v->arena_bytes / 1024);
  case COL_WEIGHTS:
    return arena_printf(a, "%.2f", (double)v->weight_bytes / 1048576);
  case COL_CODE: return arena_printf(a, "%.1f", (double)v->code_bytes / 1024);
  case COL_WSRC:
    return arena_printf(a, "%.1f", (double)v->weights_source_bytes / 1048576);
  case COL_COMPILE: return arena_printf(a, "%.1f", v->compile_ms);
  case COL_CC: return arena_printf(a, "%.0f", v->cc_ms);
  default: return arena_printf(a, "%.3f", v->latency_ms);
  }
}

static void print_table(const Explore *ex, Arena *a, FILE *out) {
  int n_cols = ex->bench ? N_COLS : COL_CC;
  int width[N_COLS];
  for (int c = 0; c < n_cols; c++) {
    width[c] = (int)strlen(col_name[c]);
    if ((int)strlen(col_unit[c]) > width[c])
      width[c] = (int)strlen(col_unit[c]);
    for (int i = 0; i < ex->n_variants; i++) {
      const Variant *v = &ex->variants[i];
      if (v->error && c > COL_RES)
        continue;
      int n = (int)strlen(cell(a, v, c));
      if (n > width[c])
        width[c] = n;
    }
  }
  print_name(out, ex->model);
  fprintf(out, ": %d variant%s", ex->n_variants,
          ex->n_variants == 1 ? "" : "s");
  if (ex->bench)
    fprintf(out, "; latency: median of at least %d runs and %.1f s, "
            "cc -O3 -march=native", BENCH_MIN_RUNS, BENCH_MIN_MS / 1000);
  fputs("\n\n", out);
  for (int row = 0; row < 2; row++) {
    for (int c = 0; c < n_cols; c++)
      fprintf(out, "%s%*s", c ? "  " : "", width[c],
              row ? col_unit[c] : col_name[c]);
    fputc('\n', out);
  }
  for (int i = 0; i < ex->n_variants; i++) {
    const Variant *v = &ex->variants[i];
    if (i && strcmp(v->resolution, ex->variants[i - 1].resolution))
      fputc('\n', out);  // a block per resolution
    for (int c = 0; c < n_cols; c++) {
      if (v->error && c > COL_RES) {
        fprintf(out, "  %s", v->error);
        break;
      }
      fprintf(out, "%s%*s", c ? "  " : "", width[c], cell(a, v, c));
    }
    fputc('\n', out);
  }
}

static void csv_field(Buf *b, const char *s) {
  if (!strpbrk(s, ",\"\n\r")) {
    buf_append(b, s, strlen(s));
    return;
  }
  buf_append(b, "\"", 1);
  for (; *s; s++)
    buf_append(b, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
  buf_append(b, "\"", 1);
}

static char *csv_text(const Explore *ex, Arena *a, size_t *len) {
  Buf b = {.arena = a};
  buf_printf(&b, "width,resolution,params,macs,arena_bytes,weight_bytes,"
                 "code_bytes,weights_source_bytes,compile_ms,cc_ms,"
                 "latency_ms,runs,error\n");
  for (int i = 0; i < ex->n_variants; i++) {
    const Variant *v = &ex->variants[i];
    csv_field(&b, v->width);
    buf_append(&b, ",", 1);
    csv_field(&b, v->resolution);
    if (v->error) {
      buf_printf(&b, ",,,,,,,,,,,");
      csv_field(&b, v->error);
    } else {
      buf_printf(&b, ",%llu,%llu,%zu,%llu,%zu,%zu,%.3f,",
                 (unsigned long long)v->stats.params,
                 (unsigned long long)v->stats.macs, v->arena_bytes,
                 (unsigned long long)v->weight_bytes, v->code_bytes,
                 v->weights_source_bytes, v->compile_ms);
      if (ex->bench)
        buf_printf(&b, "%.3f,%.6f,%d,", v->cc_ms, v->latency_ms, v->runs);
      else
        buf_printf(&b, ",,,");
    }
    buf_append(&b, "\n", 1);
  }
  *len = b.len;
  return b.data;
}

// Text that is safe inside SVG elements and attributes.
static const char *xml_text(Arena *a, const char *s) {
  Buf b = {.arena = a};
  for (; *s; s++) {
    switch (*s) {
    case '&': buf_printf(&b, "&amp;"); break;
    case '<': buf_printf(&b, "&lt;"); break;
    case '>': buf_printf(&b, "&gt;"); break;
    case '"': buf_printf(&b, "&quot;"); break;
    default:
      if ((unsigned char)*s >= 0x20 || *s == '\t')
        buf_append(&b, s, 1);
    }
  }
  buf_append(&b, "", 1);
  return b.data;
}

// Ticks at 1, 2 or 5 times a power of ten, about `target` of them over
// [lo, hi].
static double tick_step(double lo, double hi, int target) {
  double raw = (hi - lo) / target;
  double mag = pow(10, floor(log10(raw)));
  double norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

static double chart_value(const Explore *ex, const Variant *v) {
  return ex->bench ? v->latency_ms : (double)v->stats.macs / 1e6;
}

static char *svg_text(const Explore *ex, Arena *a, size_t *len) {
  enum { W = 760, H = 480, LEFT = 80, RIGHT = 170, TOP = 50, BOTTOM = 60 };
  static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c",
                                       "#ff7f0e", "#9467bd", "#8c564b",
                                       "#e377c2", "#7f7f7f", "#bcbd22",
                                       "#17becf"};
  double xmin = INFINITY, xmax = -INFINITY, ymax = 0;
  for (int i = 0; i < ex->n_variants; i++) {
    const Variant *v = &ex->variants[i];
    if (v->error)
      continue;
    xmin = fmin(xmin, v->width_value);
    xmax = fmax(xmax, v->width_value);
    ymax = fmax(ymax, chart_value(ex, v));
  }
  if (xmax - xmin < 1e-9) {
    xmin -= 0.1;
    xmax += 0.1;
  }
  if (ymax <= 0)
    ymax = 1;
  double ystep = tick_step(0, ymax, 6);
  ymax = ceil(ymax / ystep - 1e-9) * ystep;
  // Ticks at the widths explored when there are few, else round ones.
  int n_widths = 0;
  for (int i = 0; i < ex->n_variants; i++)
    n_widths += !strcmp(ex->variants[i].resolution, ex->variants[0].resolution);
  bool at_widths = n_widths <= 12;
  double xstep = tick_step(xmin, xmax, 8);
  double pad = (xmax - xmin) * 0.04;
  xmin -= pad;
  xmax += pad;
  double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define SX(x) (LEFT + ((x) - xmin) / (xmax - xmin) * pw)
#define SY(y) (TOP + ph - (y) / ymax * ph)

  const char *what = ex->bench ? "latency" : "MACs";
  Buf b = {.arena = a};
  buf_printf(&b,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
             "height=\"%d\" viewBox=\"0 0 %d %d\" "
             "font-family=\"sans-serif\" font-size=\"12\">\n"
             "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
             W, H, W, H, W, H);
  buf_printf(&b,
             "<text x=\"%g\" y=\"28\" text-anchor=\"middle\" "
             "font-size=\"16\" font-weight=\"bold\">%s: %s against width"
             "</text>\n",
             LEFT + pw / 2, xml_text(a, ex->model), what);

  // Grid, ticks and tick labels.
  int yd = decimals(ystep), xd = decimals(xstep);
  buf_printf(&b, "<g stroke=\"#dddddd\" stroke-width=\"1\">\n");
  for (int k = 0; k * ystep <= ymax + ystep * 1e-6; k++)
    buf_printf(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\"/>\n",
               LEFT, SY(k * ystep), LEFT + pw, SY(k * ystep));
  Buf xlabels = {.arena = a};
  if (at_widths) {
    for (int i = 0; i < n_widths; i++) {
      double x = SX(ex->variants[i].width_value);
      buf_printf(&b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%g\"/>\n",
                 x, TOP, x, TOP + ph);
      buf_printf(&xlabels, "<text x=\"%.1f\" y=\"%g\">%s</text>\n", x,
                 TOP + ph + 18, xml_text(a, ex->variants[i].width));
    }
  } else {
    for (double x = ceil(xmin / xstep - 1e-6) * xstep;
         x <= xmax + xstep * 1e-6; x += xstep) {
      buf_printf(&b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%g\"/>\n",
                 SX(x), TOP, SX(x), TOP + ph);
      buf_printf(&xlabels, "<text x=\"%.1f\" y=\"%g\">%.*f</text>\n", SX(x),
                 TOP + ph + 18, xd, x);
    }
  }
  buf_append(&xlabels, "", 1);
  buf_printf(&b, "</g>\n<g text-anchor=\"end\">\n");
  for (int k = 0; k * ystep <= ymax + ystep * 1e-6; k++)
    buf_printf(&b, "<text x=\"%d\" y=\"%.1f\">%.*f</text>\n", LEFT - 8,
               SY(k * ystep) + 4, yd, k * ystep);
  buf_printf(&b, "</g>\n<g text-anchor=\"middle\">\n%s</g>\n", xlabels.data);

  // Axes and their labels.
  buf_printf(&b,
             "<path d=\"M %d %d V %g H %g\" fill=\"none\" stroke=\"black\"/>\n",
             LEFT, TOP, TOP + ph, LEFT + pw);
  buf_printf(&b,
             "<text x=\"%g\" y=\"%d\" text-anchor=\"middle\">width "
             "multiplier</text>\n",
             LEFT + pw / 2, H - 16);
  buf_printf(&b,
             "<text x=\"20\" y=\"%g\" text-anchor=\"middle\" "
             "transform=\"rotate(-90 20 %g)\">%s</text>\n",
             TOP + ph / 2, TOP + ph / 2,
             ex->bench ? "latency (ms, median, this machine)"
                       : "MACs (millions)");

  // One line per resolution, in the order they were given.
  int line = 0;
  for (int i = 0; i < ex->n_variants; i++) {
    const Variant *first = &ex->variants[i];
    if (i && !strcmp(first->resolution, ex->variants[i - 1].resolution))
      continue;
    const char *color = colors[line % (sizeof colors / sizeof *colors)];
    Buf points = {.arena = a};
    Buf dots = {.arena = a};
    for (int j = i; j < ex->n_variants &&
                    !strcmp(ex->variants[j].resolution, first->resolution);
         j++) {
      const Variant *v = &ex->variants[j];
      if (v->error)
        continue;
      double x = SX(v->width_value), y = SY(chart_value(ex, v));
      buf_printf(&points, "%s%.1f,%.1f", points.len ? " " : "", x, y);
      buf_printf(&dots,
                 "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">"
                 "<title>width %s, resolution %s: %.*f %s</title></circle>\n",
                 x, y, color, xml_text(a, v->width),
                 xml_text(a, v->resolution), ex->bench ? 3 : 1,
                 chart_value(ex, v), ex->bench ? "ms" : "M MACs");
    }
    buf_append(&points, "", 1);
    buf_append(&dots, "", 1);
    buf_printf(&b,
               "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
               "points=\"%s\"/>\n%s",
               color, points.data, dots.data);
    double ly = TOP + 10 + line * 20;
    buf_printf(&b,
               "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" "
               "stroke-width=\"2\"/>\n"
               "<text x=\"%g\" y=\"%g\">resolution %s</text>\n",
               LEFT + pw + 16, ly, LEFT + pw + 40, ly, color,
               LEFT + pw + 46, ly + 4, xml_text(a, first->resolution));
    line++;
  }
#undef SX
#undef SY
  buf_printf(&b, "</svg>\n");
  *len = b.len;
  return b.data;
}

// Writes the CSV and the SVG all or nothing (each through write_output: a
// temporary, then a rename).
static void write_reports(const Explore *ex, Arena *a) {
  const char *paths[2] = {ex->csv_path, ex->svg_path};
  Output out[2];
  memset(out, 0, sizeof out);
  const char *dirs[2];
  int n_dirs = 0;
  for (int k = 0; k < 2; k++) {
    if (!paths[k])
      continue;
    const char *slash = strrchr(paths[k], '/');
    const char *dir = !slash ? "."
                      : slash == paths[k]
                          ? "/"
                          : arena_strndup(a, paths[k],
                                          (size_t)(slash - paths[k]));
    OutFile file = {slash ? slash + 1 : paths[k], NULL, 0};
    file.data =
        k == 0 ? csv_text(ex, a, &file.len) : svg_text(ex, a, &file.len);
    int d = 0;
    while (d < n_dirs && strcmp(dirs[d], dir))
      d++;
    if (d == n_dirs)
      dirs[n_dirs++] = dir;
    out[d].files[out[d].n_files++] = file;
  }
  for (int d = 0; d < n_dirs; d++)
    write_output(dirs[d], &out[d]);
}

int explore_main(int argc, char **argv) {
  Explore ex = {.tty = isatty(STDERR_FILENO)};
  parse_options(&ex, argc, argv);
  int ok = 0;
  for (int i = 0; i < ex.n_variants; i++) {
    Arena scratch = {0};
    run_variant(&ex, i, &scratch);
    arena_free(&scratch);
    ok += !ex.variants[i].error;
  }
  progress_done(&ex);
  Arena out = {0};
  print_table(&ex, &out, stdout);
  fflush(stdout);
  if (!ok) {
    arena_free(&out);
    arena_free(&ex.arena);
    gh_error("no variant compiled");
  }
  write_reports(&ex, &out);
  arena_free(&out);
  arena_free(&ex.arena);
  return 0;
}
