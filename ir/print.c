// The textual IR: one line per node, stable enough to diff in tests.
//   %3 = conv2d %2 -> 16x112x112 k=3x3 s=2x2 p=1x1 g=1 +relu [conv_stem.weight]  # conv_stem (12:5)
#include "ir.h"

static void print_attrs(const Graph *g, const Node *n, FILE *out) {
  switch (n->op) {
  case GH_OP_CONV2D:
  case GH_OP_AVGPOOL:
  case GH_OP_MAXPOOL:
    fprintf(out, " k=%dx%d s=%dx%d p=%dx%d", n->kh, n->kw, n->stride_h,
            n->stride_w, n->pad_h, n->pad_w);
    if (n->op == GH_OP_CONV2D)
      fprintf(out, " g=%d", n->groups);
    if (n->op == GH_OP_AVGPOOL && !n->count_include_pad)
      fprintf(out, " exclude_pad");
    break;
  case GH_OP_BATCHNORM:
    fprintf(out, " eps=%g", (double)n->eps);
    break;
  case GH_OP_SLICE:
    fprintf(out, " [%d:%d]", n->begin, n->end);
    break;
  case GH_OP_SHUFFLE:
    fprintf(out, " g=%d", n->groups);
    break;
  case GH_OP_CONCAT:
    if (concat_is_in_place(g, n))
      fprintf(out, " in_place");
    break;
  case GH_OP_GHOST:
    fprintf(out, " k=%dx%d s=%dx%d p=%dx%d primary=%d x%d dw=%d", n->kh, n->kw,
            n->stride_h, n->stride_w, n->pad_h, n->pad_w, n->ghost_primary,
            n->ghost_mult, n->ghost_dw);
    if (n->inner_act != GH_ACT_NONE)
      fprintf(out, " inner=%s", act_names[n->inner_act]);
    break;
  default:
    break;
  }
  if (n->in_shuffle)
    fprintf(out, " in_shuffle=%d", n->in_shuffle);
  if (n->in_scale >= 0)
    fprintf(out, " in_scale=%%%d", n->in[n->in_scale]);
  if (n->residual >= 0)
    fprintf(out, " +residual=%%%d", n->in[n->residual]);
  if (n->act != GH_ACT_NONE)
    fprintf(out, " +%s", act_names[n->act]);
}

// A newline in a name could forge a line of the dump, an ESC (or its 8-bit
// form CSI, U+009B in UTF-8) a terminal control sequence.
int print_name(FILE *out, const char *name) {
  int written = 0;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    if (*p == '\\')
      written += fprintf(out, "\\\\");
    else if (*p == '\n')
      written += fprintf(out, "\\n");
    else if (*p < 0x20 || *p == 0x7f)
      written += fprintf(out, "\\x%02x", *p);
    else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
      written += fprintf(out, "\\u%04x", *++p);
    else
      written += fputc(*p, out) == EOF ? 0 : 1;
  }
  return written;
}

void graph_print(const Graph *g, FILE *out) {
  fprintf(out, "graph ");
  print_name(out, g->name);
  fprintf(out, " {\n");
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = &g->nodes[i];
    const Value *v = &g->values[n->out];
    fprintf(out, "  %%%d = %s", n->out,
            n->op == GH_OP_ACTIVATION ? act_names[n->act] : op_names[n->op]);
    for (int k = 0; k < node_base_inputs(n); k++)
      fprintf(out, "%s%%%d", k ? ", " : " ", n->in[k]);
    fprintf(out, " -> %dx%dx%d", v->c, v->h, v->w);
    if (n->op != GH_OP_ACTIVATION)
      print_attrs(g, n, out);
    const char *sep = " [";
    for (int k = 0; k < GH_MAX_PARAMS; k++) {
      if (n->params[k] < 0)
        continue;
      fprintf(out, "%s", sep);
      print_name(out, g->params[n->params[k]].key);
      sep = ", ";
    }
    if (sep[0] == ',')
      fputc(']', out);
    if (n->name) {
      fprintf(out, "  # ");
      print_name(out, n->name);
    }
    if (n->loc.line)
      fprintf(out, " (%d:%d)", n->loc.line, n->loc.col);
    fputc('\n', out);
  }
  fprintf(out, "  return %%%d\n}\n", g->output);
}
