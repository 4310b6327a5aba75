#version 450
// MoE routing for one token per workgroup (gemma4-model.md §3.6 steps 3-5):
//   P = softmax(logits) over all E experts
//   S = the k experts with the largest P, in descending order, ties to the lower index
//   w_e = P_e / max(sum_{S} P, 6.103515625e-5) * scale_e   (scale: ffn_down_exps.scale, optional)
// Selection compares logits, which orders experts exactly as P does (softmax is strictly
// increasing) without fp32 rounding of P merging near-ties. NaN logits count as -inf. A token
// whose logits are all -inf gets weights 0.
// Step j picks the first expert in (logit desc, index asc) order strictly after step j-1's pick,
// so nothing needs to remember which experts were taken.
#include "preamble.glsl"

layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const bool HAS_SCALE = false;
layout(local_size_x_id = 0) in;

#include "elementwise_reduce.glsl"

layout(std430, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, binding = 1) readonly buffer Scale { float expert_scale[]; };  // bound to logits when absent
layout(std430, binding = 2) writeonly buffer Ids { uint ids[]; };
layout(std430, binding = 3) writeonly buffer Weights { float weights[]; };

layout(push_constant) uniform Push {
    uint n_experts;
    uint k;
    uint tokens;
    uint l_off;  // element offsets of the first token inside each binding
    uint i_off;
    uint w_off;
} pc;

const uint k_none = 0xffffffffu;
const float k_neg_inf = -1.0 / 0.0;

float logit(uint base, uint e) {
    const float v = logits[base + e];
    return isnan(v) ? k_neg_inf : v;
}

void main() {
    const uint t = wg_linear_id();
    if (t >= pc.tokens) return;
    const uint tid = gl_LocalInvocationID.x;
    const uint lb = pc.l_off + t * pc.n_experts;

    float m = k_neg_inf;
    for (uint e = tid; e < pc.n_experts; e += WG) m = max(m, logit(lb, e));
    m = wg_max(m);
    const bool empty = m == k_neg_inf;
    float z = 0.0;
    if (!empty) {
        for (uint e = tid; e < pc.n_experts; e += WG) z += exp(logit(lb, e) - m);
    }
    z = wg_sum(z);

    float prev_v = 1.0 / 0.0;  // the last pick, as (value, index); +inf: none yet
    uint prev_i = 0u;
    float sel_sum = 0.0;       // sum over S of exp(logit - m)
    uint my_id = 0u;
    float my_v = k_neg_inf;
    for (uint j = 0; j < pc.k; ++j) {
        float best = k_neg_inf;
        uint best_i = k_none;
        for (uint e = tid; e < pc.n_experts; e += WG) {
            const float v = logit(lb, e);
            const bool after = v < prev_v || (v == prev_v && e > prev_i);
            if (after && (best_i == k_none || v > best)) {
                best = v;
                best_i = e;
            }
        }
        const float bv = wg_max(best);
        const uint bi = wg_min_u(best == bv ? best_i : k_none);
        prev_v = bv;
        prev_i = bi;
        if (!empty) sel_sum += exp(bv - m);
        if (tid == j) {
            my_id = bi;
            my_v = bv;
        }
    }
    if (tid < pc.k) {
        const float p = empty ? 0.0 : exp(my_v - m) / z;
        float wgt = p / max(sel_sum / z, 6.103515625e-5);
        if (empty) wgt = 0.0;
        if (HAS_SCALE) wgt *= expert_scale[my_id];
        ids[pc.i_off + t * pc.k + tid] = my_id;
        weights[pc.w_off + t * pc.k + tid] = wgt;
    }
}
