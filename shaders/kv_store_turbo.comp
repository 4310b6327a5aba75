#version 450
// Writes new K or V rows into one part of a TurboQuant KV cache (formats.md §3.5; CPU reference
// quant::quantize_turbo_row). src: fp32 [head_dim, n_heads, n_tokens]; slots: uint32
// [n_tokens]. Each head is stored zero-padded to a multiple of 128 (formats.md §3.7). One
// workgroup of 128 threads codes one 128-element group (block) of one head of one token: thread
// t owns element t. The bytes equal the CPU reference's: the two sums of squares run sequentially in
// thread 0 in element order (as the reference's loop), the butterflies pair the same values in
// the same stages, and the square roots and divisions are correctly rounded (turbo.glsl,
// kv_types.glsl) rather than the device's few-ulp builtins.
#include "preamble.glsl"
#include "kv_types.glsl"
#include "turbo.glsl"

layout(local_size_x = 128) in;
layout(constant_id = 0) const uint KV_TYPE = KV_TURBO3;

layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) readonly buffer Slots { uint slots[]; };
layout(std430, binding = 2) writeonly buffer Dst { uint16_t dst[]; };

layout(push_constant) uniform Push {
    uint n_tokens;
    uint head_dim;  // a multiple of 32; stored as ceil(head_dim / 128) blocks
    uint n_heads;
    uint part_first;
    uint part_slots;
} pc;

shared float sh_v[TURBO_GROUP];
shared uint sh_idx[TURBO_GROUP];
shared float sh_scale[2];  // 1 / n (0 for a null group), n

void main() {
    const uint t = gl_LocalInvocationID.x;
    const uint per_head = (pc.head_dim + TURBO_GROUP - 1u) / TURBO_GROUP;
    const uint groups = pc.n_heads * per_head;  // blocks per slot
    const uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;  // 2D for big stores
    if (wg >= pc.n_tokens * groups) return;  // uniform over the workgroup
    const uint tok = wg / groups, g = wg % groups;
    const uint local_slot = slots[tok] - pc.part_first;  // wraps for slots before the part
    if (local_slot >= pc.part_slots) return;

    const uint e = (g % per_head) * TURBO_GROUP + t;  // element within the head
    const uint h = g / per_head;
    const float x =
        e < pc.head_dim ? src[(tok * pc.n_heads + h) * pc.head_dim + e] : 0.0;  // padding
    precise float sq = x * x;
    sh_v[t] = sq;
    barrier();
    if (t == 0u) {
        precise float n2 = 0.0;
        for (uint c = 0u; c < TURBO_GROUP; ++c) n2 += sh_v[c];
        float n = 0.0, inv = 0.0;
        if (isinf(n2)) {
            n = n2;  // the reference's 1 / inf = 0: every u is 0 and the norm is inf
        } else if (n2 >= 1.1754944e-38) {
            n = turbo_sqrt_rn(n2);
            if (n > 1e-10) inv = kv_div_rn(1.0, n);
        }
        sh_scale[0] = inv;
        sh_scale[1] = n;
    }
    barrier();
    // u = x / n, then y = F u: signs s1, 7 butterfly stages, then s2 / sqrt(128).
    precise float u = x * sh_scale[0];
    sh_v[t] = u * turbo_sign1(t);
    barrier();
    [[unroll]] for (uint h = 1u; h < TURBO_GROUP; h *= 2u) {
        float a = 0.0, b = 0.0;
        const bool lead = (t % (2u * h)) < h;
        if (lead) {
            a = sh_v[t];
            b = sh_v[t + h];
        }
        barrier();
        if (lead) {
            precise float sum = a + b, diff = a - b;
            sh_v[t] = sum;
            sh_v[t + h] = diff;
        }
        barrier();
    }
    precise float y = sh_v[t] * (turbo_sign2(t) * TURBO_INV_SQRT128);
    const uint idx = turbo_index(KV_TYPE, y);
    sh_idx[t] = idx;
    barrier();  // every sh_v read above is done before the squares below overwrite it
    const float c = turbo_centroid(KV_TYPE, idx);
    precise float c2 = c * c;
    sh_v[t] = c2;
    barrier();

    const uint words = turbo_words(KV_TYPE);
    const uint b = (local_slot * groups + g) * words;
    if (t == 0u) {
        precise float r2 = 0.0;
        for (uint k = 0u; k < TURBO_GROUP; ++k) r2 += sh_v[k];
        const float n = sh_scale[1];
        const float r = turbo_sqrt_rn(r2);  // r2 >= 128 * min centroid^2: normal
        float norm = n;
        // n <= 1e-10 codes a null group: n / r rounds to f16 zero (r >= 0.07).
        if (isinf(n)) {
            norm = n;
        } else if (n <= 1e-10) {
            norm = 0.0;
        } else {
            norm = kv_div_rn(n, r);
        }
        dst[b] = uint16_t(kv_f32_to_f16_bits(norm));
        if (KV_TYPE == KV_TURBO4) dst[b + 1u] = uint16_t(0u);
    }
    if (KV_TYPE == KV_TURBO4) {
        if (t < 32u) {
            uint w = 0u;
            [[unroll]] for (uint e = 0u; e < 4u; ++e) w |= sh_idx[4u * t + e] << (4u * e);
            dst[b + 2u + t] = uint16_t(w);
        }
    } else {
        if (t < 16u) {
            uint w = 0u;
            [[unroll]] for (uint e = 0u; e < 8u; ++e) w |= (sh_idx[8u * t + e] & 3u) << (2u * e);
            dst[b + 1u + t] = uint16_t(w);
        } else if (KV_TYPE == KV_TURBO3 && t < 24u) {
            const uint j = t - 16u;
            uint w = 0u;
            [[unroll]] for (uint e = 0u; e < 16u; ++e) w |= (sh_idx[16u * j + e] >> 2) << e;
            dst[b + 17u + j] = uint16_t(w);
        }
    }
}
