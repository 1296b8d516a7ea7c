// Vectorized float math for the cpu driver's kernels: exp, SiLU(g) * u.
//
// Each function has one scalar specification (ExpF) that the AVX-512 path
// (masked tails, so every element takes the same path) reproduces bit for
// bit: a result depends only on its input, never on its position or the
// host's vector width (batch-invariant). exp is Cephes' expf (range
// reduction by ln 2 in two parts, degree-5 polynomial): within 2 ulp of the
// exact value over its range; inputs below ln(FLT_MIN) give exactly 0 (as
// a float exp underflows), above ln(FLT_MAX) the value at the bound, NaN
// stays NaN.
#ifndef QEFF_HW_CPU_VEC_MATH_H_
#define QEFF_HW_CPU_VEC_MATH_H_

#include <cstdint>

namespace qeff::hw::cpu {

// The scalar specification of exp.
float ExpF(float x);
// x[i] = ExpF(x[i] - shift) for i < n.
void ExpShifted(float* x, int64_t n, float shift);
// y[i] = (g[i] / (1 + ExpF(-g[i]))) * u[i] for i < n (y may alias g or u).
void SiluMul(const float* g, const float* u, float* y, int64_t n);

// Softmax's steps over a row of scores, for attention:
// x[i] *= scale for i < n; returns the largest non-NaN x[i] (-inf if none).
float ScaleAndMax(float* x, int64_t n, float scale);
// The sum of x[0..n) in double: 8 partial sums p[l] over i = l mod 8 in
// ascending i, then ((p0 + p4) + (p2 + p6)) + ((p1 + p5) + (p3 + p7)).
double SumAsDouble(const float* x, int64_t n);
// x[i] = float(double(x[i]) / d) for i < n.
void DivideBy(float* x, int64_t n, double d);

}  // namespace qeff::hw::cpu

#endif  // QEFF_HW_CPU_VEC_MATH_H_
