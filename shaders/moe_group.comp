#version 450
// MoE grouping for the expert mat-mat (runtime/ops/matmul_id.h): lists the (token, slot) pairs
// routed to each expert, so matmul_id can gather an expert's columns.
// One workgroup per expert e; pair p = token * n_used + slot has id(p) = ids[token * ids_stride
// + slot]. Output, uint32:
//   groups[e]                      count: pairs with id(p) == e
//   groups[E + e]                  offset: pairs with id(p) < e (ids >= E are in no list)
//   groups[2E + offset + i]        the i-th such pair
// Each workgroup scans every id twice: a count, then a compaction through subgroup prefix sums
// and per-subgroup totals, without atomics, so a device writes the same lists on every run
// (ascending where invocations are numbered subgroup-major, as on every known device). The
// order cannot change matmul_id's results: each output column is computed on its own.
#include "preamble.glsl"

layout(constant_id = 0) const uint WG = 128;
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Ids { uint ids[]; };
layout(std430, binding = 1) writeonly buffer Groups { uint groups[]; };

layout(push_constant) uniform Push {
    uint n_experts;
    uint n_used;
    uint n_tokens;
    uint ids_stride;
} pc;

shared uint sg_total[WG];  // per-subgroup partials, indexed by gl_SubgroupID

uint id_of(uint p) {
    const uint t = p / pc.n_used;
    return ids[t * pc.ids_stride + (p - t * pc.n_used)];
}

// Workgroup sum; every invocation gets the same value. Must be reached by the whole workgroup.
uint wg_sum(uint v) {
    v = subgroupAdd(v);
    if (subgroupElect()) sg_total[gl_SubgroupID] = v;
    barrier();
    uint r = 0u;
    for (uint i = 0; i < gl_NumSubgroups; ++i) r += sg_total[i];
    barrier();
    return r;
}

void main() {
    const uint e = gl_WorkGroupID.x;
    const uint tid = gl_LocalInvocationID.x;
    const uint pairs = pc.n_tokens * pc.n_used;

    uint below = 0u;
    uint mine = 0u;
    for (uint p = tid; p < pairs; p += WG) {
        const uint id = id_of(p);
        below += id < e ? 1u : 0u;
        mine += id == e ? 1u : 0u;
    }
    below = wg_sum(below);
    mine = wg_sum(mine);
    if (tid == 0u) {
        groups[e] = mine;
        groups[pc.n_experts + e] = below;
    }
    if (mine == 0u) {
        return;  // uniform: every invocation holds the same sum
    }

    // Chunks of WG pairs in order; within a chunk, a pair's slot is the matches before it in
    // earlier subgroups plus the matches before it in its own subgroup.
    uint dst = 2u * pc.n_experts + below;
    for (uint base = 0u; base < pairs; base += WG) {
        const uint p = base + tid;
        const uint hit = p < pairs && id_of(p) == e ? 1u : 0u;
        const uint before_in_sg = subgroupExclusiveAdd(hit);
        const uint sg_hits = subgroupAdd(hit);
        if (subgroupElect()) sg_total[gl_SubgroupID] = sg_hits;
        barrier();
        uint before = 0u;
        uint chunk = 0u;
        for (uint i = 0; i < gl_NumSubgroups; ++i) {
            const uint n = sg_total[i];
            before += i < gl_SubgroupID ? n : 0u;
            chunk += n;
        }
        barrier();
        if (hit != 0u) groups[dst + before + before_in_sg] = p;
        dst += chunk;
    }
}
