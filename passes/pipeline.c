// The pass pipeline: each pass, then compaction, then the verifier.
#include "passes.h"

#include <string.h>

// The order matters: activations must sit in their producers before ghost
// modules are recognised, and ghost modules must exist before the SE gate
// and the residual add can fuse into them; what concats are left go last.
const Pass passes[] = {
    {"fold_bn", fold_bn},
    {"fuse_activation", fuse_activation},
    {"fuse_ghost", fuse_ghost},
    {"shuffle_remap", shuffle_remap},
    {"fuse_se", fuse_se},
    {"fuse_residual", fuse_residual},
    {"concat_in_place", concat_in_place},
};
const int n_passes = sizeof passes / sizeof passes[0];

_Static_assert(sizeof passes / sizeof passes[0] <=
                   sizeof(((PassOptions *)0)->disabled),
               "PassOptions holds a flag per pass");

int pass_index(const char *name) {
  for (int i = 0; i < n_passes; i++) {
    // Accept fold-bn as well as fold_bn.
    const char *p = passes[i].name, *q = name;
    while (*p && (*p == *q || (*p == '_' && *q == '-'))) {
      p++;
      q++;
    }
    if (!*p && !*q)
      return i;
  }
  return -1;
}

void run_passes(Graph *g, const PassOptions *opt) {
  for (int i = 0; i < n_passes; i++) {
    if (opt->disabled[i])
      continue;
    passes[i].run(g);
    graph_compact(g);
    graph_verify(g);
    if (opt->dump_after[i]) {
      fprintf(opt->dump, "; after %s\n", passes[i].name);
      graph_print(g, opt->dump);
    }
  }
}
