// Passes: graph to graph, one file and one entry point each. Every pass
// needs a verified graph with bound parameters; it marks the nodes it
// replaces dead, and the pipeline compacts and verifies after it.
#ifndef GHOSTCC_PASSES_H
#define GHOSTCC_PASSES_H

#include <stdio.h>

#include "../ir/ir.h"

void fold_bn(Graph *g);
void fuse_activation(Graph *g);
void fuse_ghost(Graph *g);
void shuffle_remap(Graph *g);
void fuse_se(Graph *g);
void fuse_residual(Graph *g);
void concat_in_place(Graph *g);

typedef struct {
  const char *name;        // as in --no-NAME and --dump-ir=NAME
  void (*run)(Graph *g);
} Pass;

// pipeline.c: the passes in the order they run.
extern const Pass passes[];
extern const int n_passes;

typedef struct {
  bool disabled[16];       // by index into passes[]
  bool dump_after[16];     // print the IR after this pass
  FILE *dump;              // where to print
} PassOptions;

int pass_index(const char *name);  // -1 if there is no such pass
void run_passes(Graph *g, const PassOptions *opt);

#endif
