#version 450
// RoPE, NEOX pairing (gemma4-model.md §3.3), on a [head_dim, n_heads, n_tokens] tensor. For pair
// i < n_rot/2 of every head at position p:
//   theta_i = p * base^(-2i/n_rot) / ff_i
//   u'[i]           = u[i] cos theta_i - u[i + n_rot/2] sin theta_i
//   u'[i + n_rot/2] = u[i] sin theta_i + u[i + n_rot/2] cos theta_i
// Dims >= n_rot pass through. ff (rope_freqs) is optional; Gemma 4 full layers use n_rot = 512
// with ff = 1e30 past pair 64 ("proportional" RoPE), not n_rot = 128.
//
// Precision: theta reaches ~1e6 rad, where an fp32 theta is only good to ~0.06 rad. So theta is
// formed in turns (theta / 2pi) with double-float arithmetic (hi + lo pairs of fp32):
//   g_i = s^i / (2pi * ff_i),  s = base^(-2/n_rot) given by the host as a double-float,
// then turns = p * g_i with an exact product, and only its fraction is kept. sin/cos are short
// polynomials on the reduced angle (|a| <= pi/4), not the GPU's sin/cos, whose error bound is
// loose. Result: |theta error| ~ 1e-6 rad for |p| < 2^24.
#include "preamble.glsl"

layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const bool HAS_FREQ_FACTORS = false;
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Pos { int pos[]; };
layout(std430, binding = 2) readonly buffer Ff { float ff[]; };  // bound to x when absent
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Push {
    uint head_dim;
    uint n_heads;
    uint n_rot;
    uint tokens;     // tokens in this dispatch
    uint pos_off;    // index into pos of this dispatch's first token
    uint x_off;      // element offsets of the first token inside x / y
    uint y_off;
    float s_hi;      // base^(-2/n_rot) as hi + lo
    float s_lo;
    float inv_2pi_hi;  // 1/(2pi) as hi + lo
    float inv_2pi_lo;
} pc;

// Error-free transformations (Dekker/Veltkamp). `precise` forbids fusing into fma, which would
// change the roundings they rely on.
vec2 quick_two_sum(float a, float b) {
    precise float s = a + b;
    precise float e = b - (s - a);
    return vec2(s, e);
}

vec2 split(float a) {
    precise float t = 4097.0 * a;
    precise float hi = t - (t - a);
    precise float lo = a - hi;
    return vec2(hi, lo);
}

vec2 two_prod(float a, float b) {
    precise float p = a * b;
    const vec2 as = split(a);
    const vec2 bs = split(b);
    precise float e = ((as.x * bs.x - p) + as.x * bs.y + as.y * bs.x) + as.y * bs.y;
    return vec2(p, e);
}

vec2 df_mul(vec2 a, vec2 b) {
    const vec2 p = two_prod(a.x, b.x);
    precise float e = p.y + (a.x * b.y + a.y * b.x);
    return quick_two_sum(p.x, e);
}

vec2 df_div(vec2 a, float b) {
    precise float q1 = a.x / b;
    const vec2 p = two_prod(q1, b);
    precise float r = ((a.x - p.x) - p.y) + a.y;
    precise float q2 = r / b;
    return quick_two_sum(q1, q2);
}

vec2 df_pow(vec2 s, uint e) {
    vec2 r = vec2(1.0, 0.0);
    while (e != 0u) {
        if ((e & 1u) != 0u) r = df_mul(r, s);
        s = df_mul(s, s);
        e >>= 1u;
    }
    return r;
}

// Fraction of p * g in turns, in [-0.5, 0.5].
float turns_frac(float p, vec2 g) {
    const vec2 t = two_prod(p, g.x);
    precise float f = t.x - round(t.x);  // exact
    precise float lo = t.y + p * g.y;
    precise float u = f + lo;
    return u - round(u);
}

// sin and cos of 2pi * u for u in [-0.5, 0.5].
vec2 sincos_turns(float u) {
    const float q = round(4.0 * u);
    const float a = (u - 0.25 * q) * 6.2831853071795865;  // |a| <= pi/4
    const float a2 = a * a;
    const float sn = a * (1.0 + a2 * (-1.0 / 6.0 + a2 * (1.0 / 120.0 + a2 * (-1.0 / 5040.0 +
                                                                              a2 * (1.0 / 362880.0)))));
    const float cs = 1.0 + a2 * (-0.5 + a2 * (1.0 / 24.0 + a2 * (-1.0 / 720.0 + a2 * (1.0 / 40320.0 +
                                                                                  a2 * (-1.0 / 3628800.0)))));
    const int quadrant = int(q) & 3;  // two's complement: -1 & 3 == 3
    if (quadrant == 0) return vec2(sn, cs);
    if (quadrant == 1) return vec2(cs, -sn);
    if (quadrant == 2) return vec2(-sn, -cs);
    return vec2(-cs, sn);
}

void main() {
    const uint j = gl_GlobalInvocationID.x;
    const uint t = gl_WorkGroupID.y + gl_NumWorkGroups.y * gl_WorkGroupID.z;
    if (t >= pc.tokens) return;
    const uint half_rot = pc.n_rot / 2u;
    const uint base_x = pc.x_off + t * pc.head_dim * pc.n_heads;
    const uint base_y = pc.y_off + t * pc.head_dim * pc.n_heads;
    if (j < half_rot) {
        vec2 g = df_mul(df_pow(vec2(pc.s_hi, pc.s_lo), j), vec2(pc.inv_2pi_hi, pc.inv_2pi_lo));
        if (HAS_FREQ_FACTORS) g = df_div(g, ff[j]);
        const vec2 sc = sincos_turns(turns_frac(float(pos[pc.pos_off + t]), g));
        for (uint h = 0; h < pc.n_heads; ++h) {
            const uint a = h * pc.head_dim + j;
            const uint b = a + half_rot;
            const float u0 = x[base_x + a];
            const float u1 = x[base_x + b];
            y[base_y + a] = u0 * sc.y - u1 * sc.x;
            y[base_y + b] = u0 * sc.x + u1 * sc.y;
        }
    }
    if (j < pc.head_dim - pc.n_rot) {  // pass-through dims
        for (uint h = 0; h < pc.n_heads; ++h) {
            const uint a = h * pc.head_dim + pc.n_rot + j;
            y[base_y + a] = x[base_x + a];
        }
    }
}
