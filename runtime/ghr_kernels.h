// Prototypes of the runtime kernels, for building and testing the runtime
// on its own. Generated code does not include this: it carries the kernel
// definitions themselves, each kernel in its own file (runtime/NAME.c) so
// that ghostcc copies only the kernels a model uses.
#ifndef GHR_KERNELS_H
#define GHR_KERNELS_H

#include "ghr.h"

// runtime/conv2d.c: out (oc, oh, ow) = act(conv(in', weight) + bias +
// residual), zero padding, weight (oc, ic/groups, kh, kw). Output channel o
// belongs to group g = o / oc_per_group, which reads input channels
// [g*ic/groups, (g+1)*ic/groups); oc may be less than groups * oc_per_group
// (only the leading output channels are computed: a ghost module's cut
// cheap maps). in' is the input as read through the prologue: channel c is
// plane (c % s) * (ic/s) + c / s of `in` when in_shuffle = s > 0 (a channel
// shuffle), times in_scale[c] when in_scale is not NULL. bias, in_scale and
// residual (oc, oh, ow) may be NULL; out aliases none of the inputs.
GHR_API void ghr_conv2d(const float *in, int ic, int ih, int iw, float *out,
                        int oc, int oh, int ow, const float *weight,
                        const float *bias, int kh, int kw, int sh, int sw,
                        int ph, int pw, int groups, int oc_per_group,
                        const float *in_scale, int in_shuffle,
                        const float *residual, int act);

// runtime/conv1x1.c: a 1x1, stride-1, unpadded conv as a register-blocked
// GEMM, out (oc, hw) = act(W . in' + bias + residual), W packed by
// conv1x1_pack (codegen/pack_conv1x1.c) for the ISA it is built for and
// for hw. in' row k (k < ic) is absolute input channel c = first + k of
// `in` (ic_total channels), read through the channel shuffle when
// in_shuffle = s > 0 (plane (c % s) * (ic_total / s) + c / s) and times
// in_scale[c] when in_scale is not NULL. A grouped 1x1 conv is one call
// per group (first = g * ic_per_group; out, bias, residual and packed
// offset per group).
// bias (oc), in_scale (ic_total), residual (oc, hw) may be NULL; out
// aliases none of the inputs.
GHR_API void ghr_conv1x1(const float *in, int ic_total, int first, int ic,
                         int hw, float *out, int oc, const float *packed,
                         const float *bias, const float *in_scale,
                         int in_shuffle, const float *residual, int act);

// runtime/dwconv.c: depthwise conv, out (oc, oh, ow) = act(conv(in',
// weight) + bias + residual), zero padding, weight (oc, kh, kw). Output
// channel o (o < oc) reads input channel o / mult (mult output channels per
// input channel); oc may be less than ic * mult (a ghost module's cut cheap
// maps). in' as for ghr_conv2d: input channel c is plane
// (c % s) * (ic / s) + c / s of `in` when in_shuffle = s > 0, times
// in_scale[c] when in_scale is not NULL. bias (oc), in_scale (ic), residual
// (oc, oh, ow) may be NULL; out aliases none of the inputs.
GHR_API void ghr_dwconv(const float *in, int ic, int ih, int iw, float *out,
                        int oc, int oh, int ow, const float *weight,
                        const float *bias, int kh, int kw, int sh, int sw,
                        int ph, int pw, int mult, const float *in_scale,
                        int in_shuffle, const float *residual, int act);

// runtime/conv_direct.c: dense conv (groups 1) as a register-blocked
// implicit GEMM, out (oc, oh, ow) = act(conv(in', W) + bias + residual),
// zero padding, W packed by conv_direct_pack (codegen/pack_conv_direct.c)
// for the ISA it is built for; in' as for ghr_dwconv (shuffle, scale).
// bias (oc), in_scale (ic), residual (oc, oh, ow) may be NULL; out aliases
// none of the inputs.
GHR_API void ghr_conv_direct(const float *in, int ic, int ih, int iw,
                             float *out, int oc, int oh, int ow,
                             const float *packed, const float *bias, int kh,
                             int kw, int sh, int sw, int ph, int pw,
                             const float *in_scale, int in_shuffle,
                             const float *residual, int act);

// runtime/conv_winograd.c: ghr_conv_direct's contract for 3x3 kernels of
// stride 1 and padding 1 (oh = ih, ow = iw <= 128; the window arguments
// are these) by Winograd F(2x2, 3x3), W packed by winograd_pack
// (codegen/pack_winograd.c) for the ISA it is built for.
GHR_API void ghr_conv_winograd(const float *in, int ic, int ih, int iw,
                               float *out, int oc, int oh, int ow,
                               const float *packed, const float *bias, int kh,
                               int kw, int sh, int sw, int ph, int pw,
                               const float *in_scale, int in_shuffle,
                               const float *residual, int act);

// runtime/batchnorm.c: inference BatchNorm with running statistics.
GHR_API void ghr_batchnorm(const float *in, float *out, int c, int hw,
                           const float *gamma, const float *beta,
                           const float *mean, const float *var, float eps,
                           int act);

// runtime/activation.c: out[i] = act(in[i]); in == out is allowed.
GHR_API void ghr_activation(const float *in, float *out, int n, int act);

// runtime/add.c: out[i] = act(a[i] + b[i]); out may alias a or b.
GHR_API void ghr_add(const float *a, const float *b, float *out, int n,
                     int act);

// runtime/mul_channel.c: out (c, hw) = act(x (c, hw) * gate[c]).
GHR_API void ghr_mul_channel(const float *x, const float *gate, float *out,
                             int c, int hw, int act);

// runtime/copy.c: out[i] = act(in[i]) for n floats (concat parts, slices,
// flatten).
GHR_API void ghr_copy(const float *in, float *out, int n, int act);

// runtime/channel_shuffle.c: view (groups, c/groups, hw), transpose the
// first two axes: out channel j*groups + i = in channel i*(c/groups) + j.
GHR_API void ghr_channel_shuffle(const float *in, float *out, int c, int hw,
                                 int groups, int act);

// runtime/avgpool.c, runtime/maxpool.c: pooling over (kh, kw) windows.
// avgpool: padding cells are zeros and count in the divisor when
// count_include_pad (PyTorch's default); otherwise the divisor is the number
// of cells inside the input. maxpool: padding cells are ignored.
GHR_API void ghr_avgpool(const float *in, int c, int ih, int iw, float *out,
                         int oh, int ow, int kh, int kw, int sh, int sw,
                         int ph, int pw, int count_include_pad, int act);
GHR_API void ghr_maxpool(const float *in, int c, int ih, int iw, float *out,
                         int oh, int ow, int kh, int kw, int sh, int sw,
                         int ph, int pw, int act);

// runtime/global_avgpool.c: out[c] = act(mean of in (c, hw)).
GHR_API void ghr_global_avgpool(const float *in, float *out, int c, int hw,
                                int act);

// runtime/linear.c: out (n_out) = act(weight (n_out, n_in) . in + bias),
// the weight packed by codegen/pack_linear.c; bias may be NULL.
GHR_API void ghr_linear(const float *in, float *out, int n_in, int n_out,
                        const float *packed, const float *bias, int act);

#endif
