/*
 * Golden-test harness: runs a ghostcc-generated model (built with
 * --name model) on input.bin and compares the result with expected.bin.
 *
 * usage: harness input.bin expected.bin
 * Passes (exit 0) iff max|out - expected| <= RTOL * max|expected| and the
 * argmax of both agree; exits 1 otherwise (including on any I/O error).
 * The .bin files are raw little-endian float32, as written by
 * ghostnet_ref.py.
 */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep in sync with HARNESS_RTOL in golden_common.py. */
#define RTOL 1e-4

/* Raw .bin files are little-endian; refuse to misread them elsewhere. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "harness.c assumes a little-endian host"
#endif

/* Read exactly n floats from path into a new buffer; NULL on error. */
static float *read_floats(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    float *buf = malloc(n * sizeof *buf);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        fclose(f);
        return NULL;
    }
    size_t got = fread(buf, sizeof *buf, n, f);
    /* A longer file means the model's sizes do not match the golden data. */
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != n || extra) {
        fprintf(stderr, "%s: expected exactly %zu floats (%zu bytes)\n", path,
                n, n * sizeof *buf);
        free(buf);
        return NULL;
    }
    return buf;
}

static size_t argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s input.bin expected.bin\n", argv[0]);
        return 1;
    }
    const size_t in_n = (size_t)MODEL_INPUT_SIZE;
    const size_t out_n = (size_t)MODEL_OUTPUT_SIZE;
    int rc = 1;
    float *input = read_floats(argv[1], in_n);
    float *expected = read_floats(argv[2], out_n);
    float *output = malloc(out_n * sizeof *output);
    /* aligned_alloc needs a size that is a multiple of the alignment (and
     * non-zero, so a model needing no arena still gets a valid pointer). */
    size_t arena_bytes = ((size_t)MODEL_ARENA_BYTES + 63) / 64 * 64;
    void *arena = aligned_alloc(64, arena_bytes ? arena_bytes : 64);
    if (!input || !expected || !output || !arena) {
        if (!output || !arena)
            fprintf(stderr, "out of memory\n");
        goto done;
    }
    /* NaN-poison the output so elements the model never writes fail. */
    for (size_t i = 0; i < out_n; i++)
        output[i] = NAN;

    int status = model_run(input, output, arena);
    if (status != 0) {
        fprintf(stderr, "FAIL: model_run returned %d\n", status);
        goto done;
    }

    double max_ref = 0.0, max_diff = 0.0;
    size_t worst = 0, non_finite = 0;
    for (size_t i = 0; i < out_n; i++) {
        if (fabs((double)expected[i]) > max_ref)
            max_ref = fabs((double)expected[i]);
        if (!isfinite(output[i])) {
            non_finite++;
            continue;
        }
        double d = fabs((double)output[i] - (double)expected[i]);
        if (d > max_diff) {
            max_diff = d;
            worst = i;
        }
    }
    double tol = RTOL * max_ref;
    size_t top_out = argmax(output, out_n), top_ref = argmax(expected, out_n);

    printf("max |diff| = %.6g at [%zu] (got %.9g, expected %.9g)\n", max_diff,
           worst, (double)output[worst], (double)expected[worst]);
    printf("tolerance  = %.6g (%g * max|expected| = %g * %.6g)\n", tol, RTOL,
           RTOL, max_ref);
    printf("top-1      = %zu (%.9g) got, %zu (%.9g) expected\n", top_out,
           (double)output[top_out], top_ref, (double)expected[top_ref]);
    if (non_finite)
        printf("FAIL: %zu non-finite output values\n", non_finite);
    else if (max_diff > tol)
        printf("FAIL: max |diff| exceeds tolerance\n");
    else if (top_out != top_ref)
        printf("FAIL: top-1 mismatch\n");
    else {
        printf("PASS\n");
        rc = 0;
    }

done:
    free(input);
    free(expected);
    free(output);
    free(arena);
    return rc;
}
