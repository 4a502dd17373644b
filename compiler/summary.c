// --summary: per layer the op, output shape, parameters, MACs and place in
// the arena; then the totals a researcher compares across variants.
#include "ghostcc.h"

// Learnable parameters, counted as PyTorch's numel() over parameters():
// BatchNorm's running statistics are buffers, not parameters. (Per layer of
// the compiled graph, these are the parameters it stores.)
static uint64_t node_params(const Graph *g, const Node *n) {
  int learnable = n->op == GH_OP_BATCHNORM ? 2 : GH_MAX_PARAMS;
  uint64_t total = 0;
  for (int slot = 0; slot < learnable; slot++)
    if (n->params[slot] >= 0)
      total += g->params[n->params[slot]].count;
  return total;
}

ModelStats model_stats(const Graph *g) {
  ModelStats s = {0};
  for (int i = 0; i < g->n_nodes; i++) {
    s.params += node_params(g, &g->nodes[i]);
    s.macs += node_macs(g, &g->nodes[i]);
  }
  return s;
}

void print_summary(const Graph *g, const MemPlan *plan,
                   const ModelStats *model, FILE *out) {
  const Value *in = &g->values[g->input];
  print_name(out, g->name);
  fprintf(out, ": input %dx%dx%d\n", in->c, in->h, in->w);
  fprintf(out, "%-44s %-15s %-13s %10s %12s %10s %9s\n", "layer", "op",
          "output", "params", "MACs", "offset", "bytes");
  uint64_t params = 0, macs = 0;
  for (int i = 1; i < g->n_nodes; i++) {
    const Node *n = &g->nodes[i];
    const Value *v = &g->values[n->out];
    char shape[48], offset[24];
    snprintf(shape, sizeof shape, "%dx%dx%d", v->c, v->h, v->w);
    size_t at = plan->offset[n->out];
    if (at == SIZE_MAX)
      snprintf(offset, sizeof offset, "%s", n->out == g->output ? "output" : "-");
    else
      snprintf(offset, sizeof offset, "%zu", at);
    uint64_t p = node_params(g, n), m = node_macs(g, n);
    params += p;
    macs += m;
    const char *op =
        n->op == GH_OP_ACTIVATION ? act_names[n->act] : op_names[n->op];
    int width = print_name(out, n->name ? n->name : "");
    fprintf(out, "%*s %-15s %-13s %10llu %12llu %10s %9zu\n",
            width < 44 ? 44 - width : 0, "", op, shape, (unsigned long long)p,
            (unsigned long long)m, offset, value_count(v) * sizeof(float));
  }
  fprintf(out, "total: %llu params (%.2f M), %llu MACs (%.1f M)\n",
          (unsigned long long)model->params, (double)model->params / 1e6,
          (unsigned long long)model->macs, (double)model->macs / 1e6);
  fprintf(out, "compiled: %d ops, %llu stored params, %llu MACs\n",
          g->n_nodes - 1, (unsigned long long)params,
          (unsigned long long)macs);
  uint64_t stored = 0;
  for (int i = 0; i < g->n_params; i++)
    stored += g->params[i].count * sizeof(float);
  fprintf(out,
          "arena: %zu bytes (lower bound %zu, sum of intermediates %zu), "
          "weights: %llu bytes\n",
          plan->arena_bytes, plan->lower_bound, plan->sum_bytes,
          (unsigned long long)stored);
}
