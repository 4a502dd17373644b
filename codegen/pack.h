// Weight packing for the fast kernels, done once at compile time so the
// generated code stores the weights in the order its micro-kernels read
// them. Each layout is defined beside its kernel (runtime/); the packers
// here write it for a given ISA (codegen/schedule.h).
#ifndef GHOSTCC_PACK_H
#define GHOSTCC_PACK_H

#include "schedule.h"

// pack_conv1x1.c: a 1x1 convolution's weight (oc, ic) for ghr_conv1x1 on
// a map of hw positions (the layout depends on it).
size_t conv1x1_packed_floats(Isa isa, int oc, int ic, int hw);
void conv1x1_pack(Isa isa, const float *weight, int oc, int ic, int hw,
                  float *dst);

// pack_conv_direct.c: a dense KxK convolution's weight (oc, ic, kh, kw) for
// ghr_conv_direct.
size_t conv_direct_packed_floats(Isa isa, int oc, int ic, int kh, int kw);
void conv_direct_pack(Isa isa, const float *weight, int oc, int ic, int kh,
                      int kw, float *dst);

// pack_winograd.c: a 3x3 convolution's weight (oc, ic, 3, 3) for
// ghr_conv_winograd, transformed to F(2x2, 3x3)'s 4x4 points.
size_t winograd_packed_floats(Isa isa, int oc, int ic);
void winograd_pack(Isa isa, const float *weight, int oc, int ic, float *dst);

// pack_linear.c: a fully connected layer's weight (n_out, n_in) for
// ghr_linear.
size_t linear_packed_floats(Isa isa, int n_out, int n_in);
void linear_pack(Isa isa, const float *weight, int n_out, int n_in,
                 float *dst);

#endif
