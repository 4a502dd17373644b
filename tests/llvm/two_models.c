/*
 * Two LLVM-backend objects (first.o, second.o, different networks) and one
 * C-backend model (third.c) in one program: nothing but NAME_run may clash.
 * Each model must answer NULL pointers and a misaligned arena with its
 * error codes, then run and give finite outputs. Exit 0 iff all of that holds.
 */
#include "first.h"
#include "second.h"
#include "third.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef int (*RunFn)(const float *input, float *output, void *arena);

static int check(const char *name, RunFn run, size_t in_n, size_t out_n,
                 size_t arena_bytes, int ok, int err_null, int err_align)
{
    float *input = calloc(in_n, sizeof *input);
    float *output = calloc(out_n, sizeof *output);
    /* One extra line so that arena + 4 is still arena_bytes long. */
    size_t bytes = (arena_bytes + 64 + 63) / 64 * 64;
    unsigned char *arena = aligned_alloc(64, bytes);
    int failures = 0;
    if (!input || !output || !arena) {
        fprintf(stderr, "%s: out of memory\n", name);
        failures++;
        goto done;
    }
    for (size_t i = 0; i < in_n; i++)
        input[i] = (float)(i % 17) / 17.0f;
    if (run(NULL, output, arena) != err_null || run(input, NULL, arena) != err_null ||
        run(input, output, NULL) != err_null) {
        fprintf(stderr, "%s: NULL pointers not refused\n", name);
        failures++;
    }
    if (run(input, output, arena + 4) != err_align) {
        fprintf(stderr, "%s: misaligned arena not refused\n", name);
        failures++;
    }
    if (run(input, output, arena) != ok) {
        fprintf(stderr, "%s: run failed\n", name);
        failures++;
    }
    for (size_t i = 0; i < out_n; i++)
        if (!isfinite(output[i])) {
            fprintf(stderr, "%s: output[%zu] = %g\n", name, i, (double)output[i]);
            failures++;
            break;
        }
    printf("%s: %zu outputs, output[0] = %.6g\n", name, out_n, (double)output[0]);
done:
    free(input);
    free(output);
    free(arena);
    return failures;
}

int main(void)
{
    int failures = 0;
    failures += check("first", first_run, FIRST_INPUT_SIZE, FIRST_OUTPUT_SIZE,
                      FIRST_ARENA_BYTES, FIRST_OK, FIRST_ERR_NULL, FIRST_ERR_ALIGN);
    failures += check("second", second_run, SECOND_INPUT_SIZE, SECOND_OUTPUT_SIZE,
                      SECOND_ARENA_BYTES, SECOND_OK, SECOND_ERR_NULL,
                      SECOND_ERR_ALIGN);
    failures += check("third", third_run, THIRD_INPUT_SIZE, THIRD_OUTPUT_SIZE,
                      THIRD_ARENA_BYTES, THIRD_OK, THIRD_ERR_NULL, THIRD_ERR_ALIGN);
    return failures ? 1 : 0;
}
