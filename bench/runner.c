/*
 * Benchmark child: runs a ghostcc-generated model (built with --name model)
 * on command, so that bench.mjs can alternate it with ONNX Runtime in one
 * invocation.
 *
 * usage: runner input.bin output.bin
 *   Loads input.bin (raw little-endian f32, MODEL_INPUT_SIZE floats), runs
 *   the model once, writes the logits to output.bin, prints
 *   "ready IN OUT ARENA_BYTES" and then serves commands from stdin, one per
 *   line:
 *     run N   run the model N times; answer one line with N wall times in
 *             ms (clock_gettime(CLOCK_MONOTONIC) around each model_run)
 *     quit    exit 0 (so does end of input)
 *   Any error is reported as a line "error MESSAGE" and exit status 1.
 */
#define _POSIX_C_SOURCE 199309L
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int fail(const char *what, const char *detail)
{
    printf("error %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    fflush(stdout);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fail("usage: runner input.bin output.bin", NULL);
    const size_t in_n = (size_t)MODEL_INPUT_SIZE;
    const size_t out_n = (size_t)MODEL_OUTPUT_SIZE;
    float *input = malloc(in_n * sizeof *input);
    float *output = malloc(out_n * sizeof *output);
    size_t arena_bytes = ((size_t)MODEL_ARENA_BYTES + 63) / 64 * 64;
    void *arena = aligned_alloc(64, arena_bytes ? arena_bytes : 64);
    if (!input || !output || !arena)
        return fail("out of memory", NULL);

    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return fail("cannot open input", argv[1]);
    size_t got = fread(input, sizeof *input, in_n, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != in_n || extra)
        return fail("input size does not match MODEL_INPUT_SIZE", argv[1]);

    /* Touch the arena once so that page faults are not timed. */
    memset(arena, 0, arena_bytes);
    if (model_run(input, output, arena) != 0)
        return fail("model_run failed", NULL);
    f = fopen(argv[2], "wb");
    if (!f || fwrite(output, sizeof *output, out_n, f) != out_n ||
        fclose(f) != 0)
        return fail("cannot write output", argv[2]);

    printf("ready %zu %zu %zu\n", in_n, out_n, (size_t)MODEL_ARENA_BYTES);
    fflush(stdout);

    char line[128];
    double *times = NULL;
    while (fgets(line, sizeof line, stdin)) {
        long n;
        if (strncmp(line, "quit", 4) == 0)
            break;
        if (sscanf(line, "run %ld", &n) != 1 || n < 1 || n > 1000000)
            return fail("bad command", line);
        double *t = realloc(times, (size_t)n * sizeof *t);
        if (!t)
            return fail("out of memory", NULL);
        times = t;
        for (long i = 0; i < n; i++) {
            double t0 = now_ms();
            int rc = model_run(input, output, arena);
            times[i] = now_ms() - t0;
            if (rc != 0)
                return fail("model_run failed", NULL);
        }
        for (long i = 0; i < n; i++)
            printf(i ? " %.6f" : "%.6f", times[i]);
        printf("\n");
        fflush(stdout);
    }
    free(times);
    free(arena);
    free(output);
    free(input);
    return 0;
}
