// Records a kernel's weight prefetches: a check includes this before the
// runtime source, which then prefetches through check_prefetch. Each
// prefetch must fall inside one of the ranges the check allows for the
// call (the packed weights, the input); a prefetch outside is harmless to
// the results but fetches lines nobody reads, so it counts as a failure.
#ifndef CHECK_PREFETCH_H
#define CHECK_PREFETCH_H

#include <stddef.h>

enum { CHECK_PREFETCH_RANGES = 2 };
static const char *check_prefetch_lo[CHECK_PREFETCH_RANGES];
static const char *check_prefetch_hi[CHECK_PREFETCH_RANGES];
static long check_prefetch_count, check_prefetch_outside;

// Allows [p, p + n floats) as range i for the next call (n = 0: none).
static inline void check_prefetch_allow(int i, const float *p, size_t n) {
  check_prefetch_lo[i] = (const char *)p;
  check_prefetch_hi[i] = (const char *)(p + n);
}

static inline void check_prefetch(const void *p) {
  const char *c = p;
  ++check_prefetch_count;
  for (int i = 0; i < CHECK_PREFETCH_RANGES; ++i)
    if (c >= check_prefetch_lo[i] && c < check_prefetch_hi[i]) return;
  ++check_prefetch_outside;
}

#define GHR_CONV1X1_PREFETCH(p) check_prefetch(p)
#define GHR_CONV_DIRECT_PREFETCH(p) check_prefetch(p)

#endif
