#version 450
// Writes new K or V rows into one part of a KV cache (docs/design/attention.md).
// src: fp32 [D, H, n_tokens]; slots: uint32 [n_tokens], the cache slot of each token. The cache
// part holds slots [part_first, part_first + part_slots), each slot a row of H head rows of D
// elements; tokens whose slot lies outside the part are skipped (the host dispatches per part).
// f16: one thread per element. q8_0: one thread per 32-element block.
#include "preamble.glsl"
#include "kv_types.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint KV_TYPE = KV_F16;

layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) readonly buffer Slots { uint slots[]; };
layout(std430, binding = 2) writeonly buffer Dst { uint16_t dst[]; };

layout(push_constant) uniform Push {
    uint n_tokens;
    uint row_elems;  // D * H
    uint part_first;
    uint part_slots;
} pc;

void main() {
    const uint unit = KV_TYPE == KV_F16 ? 1u : 32u;
    const uint units_per_token = pc.row_elems / unit;
    // Large stores use a 2D grid (x at most 65535 groups).
    const uint u =
        gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (u >= pc.n_tokens * units_per_token) return;
    const uint t = u / units_per_token;
    const uint w = u % units_per_token;
    const uint local_slot = slots[t] - pc.part_first;  // wraps for slots before the part
    if (local_slot >= pc.part_slots) return;
    const uint s = t * pc.row_elems + w * unit;
    if (KV_TYPE == KV_F16) {
        dst[local_slot * pc.row_elems + w] = uint16_t(kv_f32_to_f16_bits(src[s]));
        return;
    }
    float amax = 0.0;
    [[unroll]] for (uint i = 0u; i < 32u; ++i) amax = max(amax, abs(src[s + i]));
    const vec2 d_id = kv_q8_0_scale(amax);
    const uint b = (local_slot * units_per_token + w) * KV_Q8_0_WORDS;
    dst[b] = uint16_t(kv_f32_to_f16_bits(d_id.x));
    [[unroll]] for (uint j = 0u; j < 16u; ++j) {
        const int lo = int(kv_round_away(src[s + 2u * j] * d_id.y));
        const int hi = int(kv_round_away(src[s + 2u * j + 1u] * d_id.y));
        dst[b + 1u + j] = uint16_t((uint(lo) & 0xFFu) | ((uint(hi) & 0xFFu) << 8));
    }
}
