// Shape inference: every op's output shape from its inputs and attributes,
// and the shapes its parameters must have.
#include "ir.h"

#include <stdarg.h>
#include <stdio.h>

// Generated kernels index with int: every tensor must stay below this.
#define MAX_TENSOR_ELEMS ((size_t)1 << 30)
// Kernel, stride and padding: far beyond any network, small enough that no
// window arithmetic can overflow.
#define MAX_WINDOW (1 << 16)

static const char *fail(char *msg, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const char *fail(char *msg, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, size, fmt, ap);
  va_end(ap);
  return msg;
}

// Output extent of a sliding window, or 0 if the window does not fit.
static int window_out(int in, int k, int stride, int pad) {
  long span = (long)in + 2L * pad - k;
  return span < 0 ? 0 : (int)(span / stride + 1);
}

static const char *window_shape(const Node *n, const Value *in, Value *out,
                                char *msg, size_t size) {
  if (n->kh < 1 || n->kw < 1)
    return fail(msg, size, "kernel must be positive, got %dx%d", n->kh, n->kw);
  if (n->stride_h < 1 || n->stride_w < 1)
    return fail(msg, size, "stride must be positive, got %dx%d", n->stride_h,
                n->stride_w);
  if (n->kh > MAX_WINDOW || n->kw > MAX_WINDOW || n->pad_h > MAX_WINDOW ||
      n->pad_w > MAX_WINDOW || n->stride_h > MAX_WINDOW ||
      n->stride_w > MAX_WINDOW)
    return fail(msg, size, "kernel, stride and padding must be at most %d",
                MAX_WINDOW);
  if (n->pad_h < 0 || n->pad_w < 0)
    return fail(msg, size, "padding must not be negative, got %dx%d",
                n->pad_h, n->pad_w);
  bool pool = n->op == GH_OP_AVGPOOL || n->op == GH_OP_MAXPOOL;
  if (pool && (n->pad_h > n->kh / 2 || n->pad_w > n->kw / 2))
    return fail(msg, size,
                "padding %dx%d must be at most half the kernel %dx%d",
                n->pad_h, n->pad_w, n->kh, n->kw);
  out->h = window_out(in->h, n->kh, n->stride_h, n->pad_h);
  out->w = window_out(in->w, n->kw, n->stride_w, n->pad_w);
  if (out->h < 1 || out->w < 1)
    return fail(msg, size,
                "kernel %dx%d with padding %dx%d does not fit the %dx%d input",
                n->kh, n->kw, n->pad_h, n->pad_w, in->h, in->w);
  return NULL;
}

static const char *shape_of(const Graph *g, const Node *n, Value *out,
                            char *msg, size_t size) {
  const Value *in = n->n_in > 0 ? &g->values[n->in[0]] : NULL;
  if (in)
    *out = *in;
  switch (n->op) {
  case GH_OP_INPUT:
    out->c = n->shape[0];
    out->h = n->shape[1];
    out->w = n->shape[2];
    if (out->c < 1 || out->h < 1 || out->w < 1)
      return fail(msg, size, "input shape must be positive, got %dx%dx%d",
                  out->c, out->h, out->w);
    return NULL;
  case GH_OP_CONV2D:
    if (n->groups < 1)
      return fail(msg, size, "groups must be positive, got %d", n->groups);
    if (n->out_features < 1)
      return fail(msg, size, "output channels must be positive, got %d",
                  n->out_features);
    if (in->c % n->groups)
      return fail(msg, size, "groups (%d) must divide input channels (%d)",
                  n->groups, in->c);
    if (n->out_features % n->groups)
      return fail(msg, size, "groups (%d) must divide output channels (%d)",
                  n->groups, n->out_features);
    out->c = n->out_features;
    return window_shape(n, in, out, msg, size);
  case GH_OP_BATCHNORM:
  case GH_OP_ACTIVATION:
    return NULL;
  case GH_OP_ADD: {
    const Value *b = &g->values[n->in[1]];
    if (in->c != b->c || in->h != b->h || in->w != b->w)
      return fail(msg, size, "cannot add shapes %dx%dx%d and %dx%dx%d", in->c,
                  in->h, in->w, b->c, b->h, b->w);
    return NULL;
  }
  case GH_OP_MUL: {
    const Value *gate = &g->values[n->in[1]];
    if (gate->c != in->c || gate->h != 1 || gate->w != 1)
      return fail(msg, size,
                  "gate of shape %dx%dx%d does not scale %dx%dx%d per channel",
                  gate->c, gate->h, gate->w, in->c, in->h, in->w);
    return NULL;
  }
  case GH_OP_CONCAT: {
    long c = 0;
    for (int i = 0; i < n->n_in; i++) {
      const Value *v = &g->values[n->in[i]];
      if (v->h != in->h || v->w != in->w)
        return fail(msg, size,
                    "cannot concatenate %dx%d maps with %dx%d maps (input %d)",
                    in->h, in->w, v->h, v->w, i + 1);
      c += v->c;
    }
    if (c > (long)MAX_TENSOR_ELEMS)
      return fail(msg, size, "concatenation has too many channels");
    out->c = (int)c;
    return NULL;
  }
  case GH_OP_SLICE:
    if (n->begin < 0 || n->end > in->c || n->begin >= n->end)
      return fail(msg, size, "channel range [%d, %d) is not inside [0, %d)",
                  n->begin, n->end, in->c);
    out->c = n->end - n->begin;
    return NULL;
  case GH_OP_SHUFFLE:
    if (n->groups < 1 || in->c % n->groups)
      return fail(msg, size, "groups (%d) must divide channels (%d)",
                  n->groups, in->c);
    return NULL;
  case GH_OP_AVGPOOL:
  case GH_OP_MAXPOOL:
    return window_shape(n, in, out, msg, size);
  case GH_OP_GLOBAL_AVGPOOL:
    out->h = out->w = 1;
    return NULL;
  case GH_OP_LINEAR:
    if (in->h != 1 || in->w != 1)
      return fail(msg, size,
                  "linear needs a flat input, got %dx%dx%d (add flatten or "
                  "global_avgpool)",
                  in->c, in->h, in->w);
    if (n->out_features < 1)
      return fail(msg, size, "output features must be positive, got %d",
                  n->out_features);
    out->c = n->out_features;
    return NULL;
  case GH_OP_FLATTEN:
    out->c = (int)value_count(in);
    out->h = out->w = 1;
    return NULL;
  case GH_OP_GHOST:
    if (n->ghost_dw % 2 == 0)
      return fail(msg, size, "the cheap kernel (%d) must be odd to keep the "
                  "map size", n->ghost_dw);
    if (n->ghost_primary < 1 || n->ghost_mult < 1 || n->ghost_dw < 1 ||
        n->out_features < n->ghost_primary ||
        n->out_features > n->ghost_primary * (n->ghost_mult + 1))
      return fail(msg, size, "ghost module of %d channels cannot come from "
                  "%d primary maps with %d cheap maps each", n->out_features,
                  n->ghost_primary, n->ghost_mult);
    out->c = n->out_features;
    return window_shape(n, in, out, msg, size);
  case GH_OP_COUNT:
    break;
  }
  gh_assert(!"unknown op");
  return NULL;
}

// The epilogue and prologue inputs (see Node in ir.h).
static const char *extras_shape(const Graph *g, const Node *n, const Value *v,
                                char *msg, size_t size) {
  const Value *in = &g->values[n->in[0]];
  bool reads_conv_input = n->op == GH_OP_CONV2D || n->op == GH_OP_GHOST;
  gh_assert(n->in_scale < 0 || reads_conv_input);
  gh_assert(n->in_shuffle == 0 || reads_conv_input);
  if (n->residual >= 0) {
    const Value *r = &g->values[n->in[n->residual]];
    if (r->c != v->c || r->h != v->h || r->w != v->w)
      return fail(msg, size, "cannot add a residual of %dx%dx%d to %dx%dx%d",
                  r->c, r->h, r->w, v->c, v->h, v->w);
  }
  if (n->in_scale >= 0) {
    const Value *s = &g->values[n->in[n->in_scale]];
    if (s->c != in->c || s->h != 1 || s->w != 1)
      return fail(msg, size, "input scale %dx%dx%d does not match %d input "
                  "channels", s->c, s->h, s->w, in->c);
  }
  if (n->in_shuffle < 0 || (n->in_shuffle > 0 && in->c % n->in_shuffle))
    return fail(msg, size, "shuffle groups (%d) must divide channels (%d)",
                n->in_shuffle, in->c);
  return NULL;
}

const char *infer_shape(const Graph *g, const Node *n, Value *out, char *msg,
                        size_t msg_size) {
  int arity = op_arity[n->op], base = node_base_inputs(n);
  gh_assert(arity < 0 ? base >= 1 : base == arity);
  gh_assert(n->n_in <= GH_MAX_INPUTS);
  gh_assert(n->residual < n->n_in && n->in_scale < n->n_in);
  gh_assert(n->residual < 0 || n->residual >= base);
  gh_assert(n->in_scale < 0 || n->in_scale >= base);
  for (int i = 0; i < n->n_in; i++)
    gh_assert(n->in[i] >= 0 && n->in[i] < g->n_values);
  Value v = {0};
  const char *err = shape_of(g, n, &v, msg, msg_size);
  if (!err && n->n_in > 0)
    err = extras_shape(g, n, &v, msg, msg_size);
  if (err)
    return err;
  size_t elems = (size_t)v.c * (size_t)v.h * (size_t)v.w;
  if (elems > MAX_TENSOR_ELEMS)
    return fail(msg, msg_size,
                "output of %dx%dx%d exceeds the limit of %zu elements per "
                "tensor",
                v.c, v.h, v.w, MAX_TENSOR_ELEMS);
  out->c = v.c;
  out->h = v.h;
  out->w = v.w;
  return NULL;
}

bool param_shape(const Graph *g, const Node *n, int slot, int *ndim,
                 int dims[4]) {
  const Value *in = &g->values[n->in[0]];
  const Value *out = &g->values[n->out];
  switch (n->op) {
  case GH_OP_CONV2D:
    if (slot == 0) {
      *ndim = 4;
      dims[0] = out->c;
      dims[1] = in->c / n->groups;
      dims[2] = n->kh;
      dims[3] = n->kw;
      return true;
    }
    break;
  case GH_OP_LINEAR:
    if (slot == 0) {
      *ndim = 2;
      dims[0] = out->c;
      dims[1] = in->c;
      return true;
    }
    break;
  case GH_OP_BATCHNORM:
    *ndim = 1;
    dims[0] = out->c;
    return slot < 4;
  case GH_OP_GHOST: {
    int primary = n->ghost_primary, cheap = out->c - n->ghost_primary;
    bool conv = slot == 0 || slot == 2;
    *ndim = conv ? 4 : 1;
    dims[0] = slot < 2 ? primary : cheap;
    dims[1] = slot == 0 ? in->c : 1;
    dims[2] = dims[3] = slot == 0 ? n->kh : n->ghost_dw;
    if (slot == 0)
      dims[3] = n->kw;
    return slot < 4 && (slot < 2 || cheap > 0);
  }
  default:
    return false;
  }
  // Conv and linear bias.
  *ndim = 1;
  dims[0] = out->c;
  return slot == 1;
}
