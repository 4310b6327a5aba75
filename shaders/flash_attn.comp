#version 450
// Flash attention over a KV cache (docs/design/attention.md): fp32 math, online softmax, for a
// batch of sequences that each own a region of the same caches.
//
// A workgroup owns BR "rows" of one sequence and one KV head g; row R = i * GQA + j is the
// sequence's query i with query head a = g * GQA + j, so the GQA heads that share K/V read each KV
// tile once. gl_WorkGroupID.x (+ group_base) numbers the row groups of all sequences in table
// order; gl_WorkGroupID.z is the split: region slots [z * chunk, (z + 1) * chunk), clipped to the
// sequence's n_slots and to this dispatch's segment [seg_begin, seg_end) of the caches. It walks
// those slots in tiles of BC = workgroup-size columns:
//   1. S = scale * Q K^T (thread c owns column c; Q is in shared memory), masked per row:
//      slot_pos >= 0, slot_pos <= q_pos, and q_pos - slot_pos < window when window != 0.
//   2. One thread per row: running max m, P = exp(S - m), rescale factor alpha, running sum l.
//   3. O = alpha * O + P V (thread t owns head elements t, t + BC, ...; BR x D/BC registers).
// mode 0 writes O / l; mode 1 writes the unnormalised (O, m, l) of this split to scratch for
// flash_attn_split_reduce.comp, an empty range included (m = NEG, l = 0), so every (split, row)
// entry is written. A row without any visible slot yields 0.
//
// With a q8_0 K the query rows are first rounded to q8_0 (round_rows_to_q8_0).
// TurboQuant caches (turbo.glsl) hold rows rotated by F per 128-group and are read in that basis,
// never dequantised to a copy: with a turbo K the query rows are rotated once in shared memory
// (q~ = F q, so q~ . k~ = q . F^T k~), and with a turbo V the output is accumulated in the rotated
// basis and rotated back (F^T) once per row before it is written, partial splits included (the
// reduce is linear, so it combines original-basis partials unchanged).
#include "preamble.glsl"
#include "kv_types.glsl"
#include "turbo.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint BR = 8;   // rows per workgroup, <= 32
layout(constant_id = 2) const uint D = 128;  // compute dim, a multiple of the workgroup size
layout(constant_id = 3) const uint K_TYPE = KV_F16;
layout(constant_id = 4) const uint V_TYPE = KV_F16;
layout(constant_id = 5) const bool SOFTCAP = false;
layout(constant_id = 6) const uint BC = 64;  // must equal the workgroup size
// The head dim of q, out and f16 / q8_0 caches. D is HD, or HD padded to a multiple of 128 when
// a cache is TurboQuant (its heads are stored padded, kv_store.h): the padding is zero in the
// query, is rotated like the rest, and is dropped from the output after the un-rotation.
layout(constant_id = 7) const uint HD = 128;

const uint DPT = D / BC;  // head elements per thread
const float NEG = -3.0e38;  // "masked" score; finite so no inf arithmetic is needed

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { uint16_t k[]; };
layout(std430, binding = 2) readonly buffer V { uint16_t v[]; };
layout(std430, binding = 3) readonly buffer QPos { int q_pos[]; };
layout(std430, binding = 4) readonly buffer SlotPos { int slot_pos[]; };
// One entry per sequence (ops::AttentionSeq plus its first row group), 8 words.
struct SeqEntry {
    uint q_col;      // first query column
    uint n_q;
    uint group0;     // its first row group (the x index)
    uint slot_base;  // its region's first cache slot
    uint n_slots;
    uint pos_base;   // slot_pos[pos_base + j]: position of region slot j
    uint pad0;
    uint pad1;
};
layout(std430, binding = 5) readonly buffer Seqs { SeqEntry seqs[]; };
layout(std430, binding = 6) writeonly buffer Out { float o_out[]; };

layout(push_constant) uniform Push {
    uint n_cols;        // query columns of the batch
    uint n_heads;
    uint gqa;           // n_heads / n_kv_heads
    uint n_kv_heads;
    uint n_seqs;
    uint group_base;    // row group of gl_WorkGroupID.x == 0
    uint seg_begin;     // cache slots [seg_begin, seg_end) of this dispatch
    uint seg_end;
    uint k_first;       // cache slot of the bound K part's first row
    uint v_first;
    uint chunk;         // slots per split (multiple of BC)
    uint split_base;    // scratch split index of gl_WorkGroupID.z == 0
    uint mode;          // 0: final output, 1: partial to scratch
    uint window;        // 0: no sliding window
    float scale;
    float softcap;      // used when SOFTCAP
} pc;

shared float sh_q[BR * D];
shared float sh_s[BR * BC];
shared float sh_m[BR];
shared float sh_l[BR];
shared float sh_alpha[BR];
shared int sh_qpos[BR];
shared uint sh_rowvalid[BR];
shared uint sh_colvalid[BC];

// Rotates every row of `buf` (BR rows of D, in shared memory) by F (inverse: F^T) per 128-group:
// sign vector, 7 butterfly stages, sign vector times 1 / sqrt(128). Every thread must call it.
void rotate_rows(bool inverse) {
    for (uint i = gl_LocalInvocationID.x; i < BR * D; i += BC) {
        const uint e = i % TURBO_GROUP;
        sh_q[i] *= inverse ? turbo_sign2(e) : turbo_sign1(e);
    }
    barrier();
    for (uint h = 1u; h < TURBO_GROUP; h *= 2u) {
        for (uint p = gl_LocalInvocationID.x; p < BR * D / 2u; p += BC) {
            const uint j = (p / h) * 2u * h + p % h;
            const float a = sh_q[j], b = sh_q[j + h];
            sh_q[j] = a + b;
            sh_q[j + h] = a - b;
        }
        barrier();
    }
    for (uint i = gl_LocalInvocationID.x; i < BR * D; i += BC) {
        const uint e = i % TURBO_GROUP;
        sh_q[i] *= (inverse ? turbo_sign1(e) : turbo_sign2(e)) * TURBO_INV_SQRT128;
    }
    barrier();
}

// Rounds every row of sh_q to q8_0 values (blocks of 32: d = f16(amax / 127), q = round(x / d)),
// as llama.cpp's CPU and CUDA flash attention do with a q8_0 K cache (they dot int8 Q with int8
// K). The runtime follows them so a q8_0 cache scores what theirs does; it also keeps the door
// open to an integer-dot K loop. Every thread must call it.
void round_rows_to_q8_0() {
    for (uint blk = gl_LocalInvocationID.x; blk < BR * D / 32u; blk += BC) {
        float amax = 0.0;
        for (uint i = 0u; i < 32u; ++i) amax = max(amax, abs(sh_q[blk * 32u + i]));
        const vec2 d_id = kv_q8_0_scale(amax);
        const float d = kv_half(kv_f32_to_f16_bits(d_id.x));
        for (uint i = 0u; i < 32u; ++i) {
            sh_q[blk * 32u + i] = kv_round_away(sh_q[blk * 32u + i] * d_id.y) * d;
        }
    }
    barrier();
}

// acc[r] = Q_r . K[slot, g] for every row of the tile; K is read once.
void k_dot(uint slot, uint g, out float acc[BR]) {
    [[unroll]] for (uint r = 0u; r < BR; ++r) acc[r] = 0.0;
    const uint row = (slot - pc.k_first) * pc.n_kv_heads + g;
    if (kv_is_turbo(K_TYPE)) {
        // One norm per 128-group: sum q~ . centroid over the group, then scale once. Indices are
        // unpacked a 16-bit word at a time (8 elements of turbo2/3's low bits, 4 of turbo4).
        const uint words = turbo_words(K_TYPE);
        for (uint blk = 0u; blk < D / TURBO_GROUP; ++blk) {
            const uint b = (row * (D / TURBO_GROUP) + blk) * words;
            const uint d0 = blk * TURBO_GROUP;
            float part[BR];
            [[unroll]] for (uint r = 0u; r < BR; ++r) part[r] = 0.0;
            if (K_TYPE == KV_TURBO4) {
                for (uint j = 0u; j < 32u; ++j) {
                    const uint w = uint(k[b + 2u + j]);
                    [[unroll]] for (uint e = 0u; e < 4u; ++e) {
                        const float c = TURBO_C4[(w >> (4u * e)) & 15u];
                        const uint d = d0 + 4u * j + e;
                        [[unroll]] for (uint r = 0u; r < BR; ++r) part[r] += sh_q[r * D + d] * c;
                    }
                }
            } else {
                for (uint j = 0u; j < 16u; ++j) {
                    const uint w = uint(k[b + 1u + j]);
                    const uint hi =
                        K_TYPE == KV_TURBO3 ? uint(k[b + 17u + j / 2u]) >> (8u * (j % 2u)) : 0u;
                    [[unroll]] for (uint e = 0u; e < 8u; ++e) {
                        const uint lo = (w >> (2u * e)) & 3u;
                        const float c = K_TYPE == KV_TURBO3 ? TURBO_C3[lo | (((hi >> e) & 1u) << 2)]
                                                            : TURBO_C2[lo];
                        const uint d = d0 + 8u * j + e;
                        [[unroll]] for (uint r = 0u; r < BR; ++r) part[r] += sh_q[r * D + d] * c;
                    }
                }
            }
            const float norm = kv_half(uint(k[b]));
            [[unroll]] for (uint r = 0u; r < BR; ++r) acc[r] += part[r] * norm;
        }
    } else if (K_TYPE == KV_F16) {
        const uint base = row * HD;
        for (uint d = 0u; d < HD; ++d) {
            const float kv = kv_half(uint(k[base + d]));
            [[unroll]] for (uint r = 0u; r < BR; ++r) acc[r] += sh_q[r * D + d] * kv;
        }
    } else {
        const uint base = row * (HD / 32u) * KV_Q8_0_WORDS;
        for (uint blk = 0u; blk < HD / 32u; ++blk) {
            const uint b = base + blk * KV_Q8_0_WORDS;
            const float scale = kv_half(uint(k[b]));
            for (uint j = 0u; j < 16u; ++j) {
                const uint w = uint(k[b + 1u + j]);
                const float k0 = kv_i8(w, 0u) * scale, k1 = kv_i8(w, 1u) * scale;
                const uint d = blk * 32u + 2u * j;
                [[unroll]] for (uint r = 0u; r < BR; ++r) {
                    acc[r] += sh_q[r * D + d] * k0 + sh_q[r * D + d + 1u] * k1;
                }
            }
        }
    }
}

float v_elem(uint slot, uint g, uint d) {
    const uint row = (slot - pc.v_first) * pc.n_kv_heads + g;
    if (kv_is_turbo(V_TYPE)) {
        const uint b = (row * (D / TURBO_GROUP) + d / TURBO_GROUP) * turbo_words(V_TYPE);
        const uint e = d % TURBO_GROUP;
        return turbo_centroid(V_TYPE, TURBO_INDEX(v, V_TYPE, b, e)) * kv_half(uint(v[b]));
    }
    if (d >= HD) return 0.0;
    if (V_TYPE == KV_F16) return kv_half(uint(v[row * HD + d]));
    const uint b = (row * (HD / 32u) + d / 32u) * KV_Q8_0_WORDS;
    const uint e = d % 32u;
    return kv_i8(uint(v[b + 1u + e / 2u]), e % 2u) * kv_half(uint(v[b]));
}

void main() {
    const uint t = gl_LocalInvocationID.x;
    const uint g = gl_WorkGroupID.y;
    // The sequence owning this row group: the last entry whose first group is <= it (uniform).
    const uint group = pc.group_base + gl_WorkGroupID.x;
    uint e = 0u;
    for (uint i = 1u; i < pc.n_seqs; ++i) {
        if (seqs[i].group0 <= group) e = i;
    }
    const uint q_col = seqs[e].q_col;
    const uint rows = seqs[e].n_q * pc.gqa;
    const uint row0 = (group - seqs[e].group0) * BR;
    const uint region = seqs[e].slot_base;
    const uint pos_shift = seqs[e].pos_base - region;  // slot_pos index of cache slot s: s + shift
    const uint lo = region + gl_WorkGroupID.z * pc.chunk;
    const uint hi = min(region + seqs[e].n_slots, lo + pc.chunk);
    const uint begin = max(lo, pc.seg_begin);
    const uint end = max(begin, min(hi, pc.seg_end));

    for (uint idx = t; idx < BR * D; idx += BC) {
        const uint r = idx / D;
        const uint R = row0 + r;
        float x = 0.0;
        if (R < rows && idx % D < HD) {
            const uint i = q_col + R / pc.gqa, a = g * pc.gqa + R % pc.gqa;
            x = q[(i * pc.n_heads + a) * HD + idx % D];
        }
        sh_q[idx] = x;
    }
    for (uint r = t; r < BR; r += BC) {
        sh_m[r] = NEG;
        sh_l[r] = 0.0;
        sh_qpos[r] = row0 + r < rows ? q_pos[q_col + (row0 + r) / pc.gqa] : -1;
    }
    float o[BR * DPT];
    [[unroll]] for (uint x = 0u; x < BR * DPT; ++x) o[x] = 0.0;
    barrier();
    if (kv_is_turbo(K_TYPE)) rotate_rows(false);
    if (K_TYPE == KV_Q8_0) round_rows_to_q8_0();

    for (uint tile = begin; tile < end; tile += BC) {
        // 1. Scores for column t.
        const uint slot = tile + t;
        uint rowmask = 0u;
        if (slot < end) {
            const int p = slot_pos[slot + pos_shift];
            if (p >= 0) {
                [[unroll]] for (uint r = 0u; r < BR; ++r) {
                    const int qp = sh_qpos[r];
                    if (p <= qp && (pc.window == 0u || uint(qp - p) < pc.window)) {
                        rowmask |= 1u << r;
                    }
                }
            }
        }
        float dots[BR];
        if (rowmask != 0u) k_dot(slot, g, dots);
        [[unroll]] for (uint r = 0u; r < BR; ++r) {
            float s = NEG;
            if ((rowmask & (1u << r)) != 0u) {
                s = dots[r] * pc.scale;
                if (SOFTCAP) s = pc.softcap * tanh(s / pc.softcap);
            }
            sh_s[r * BC + t] = s;
        }
        sh_colvalid[t] = rowmask;
        barrier();

        // 2. Online softmax, one thread per row.
        for (uint r = t; r < BR; r += BC) {
            float mt = NEG;
            for (uint c = 0u; c < BC; ++c) mt = max(mt, sh_s[r * BC + c]);
            const float m_old = sh_m[r];
            const float m_new = max(m_old, mt);
            float alpha = 1.0, sum = 0.0;
            if (m_new > NEG) {
                alpha = exp(m_old - m_new);  // m_old == NEG underflows to 0
                for (uint c = 0u; c < BC; ++c) {
                    const float s = sh_s[r * BC + c];
                    const float pr = s > NEG ? exp(s - m_new) : 0.0;
                    sh_s[r * BC + c] = pr;
                    sum += pr;
                }
            } else {
                // Nothing visible to this row yet, but step 3 still runs over columns other rows
                // of the group see: its weights must be 0, not the NEG sentinel (NEG * v
                // overflows to -inf, and a later alpha of 0 turns that into NaN).
                for (uint c = 0u; c < BC; ++c) sh_s[r * BC + c] = 0.0;
            }
            sh_m[r] = m_new;
            sh_l[r] = sh_l[r] * alpha + sum;
            sh_alpha[r] = alpha;
            sh_rowvalid[r] = mt > NEG ? 1u : 0u;
        }
        barrier();

        // 3. O = alpha O + P V. Columns no row can see are skipped: their V may be garbage.
        [[unroll]] for (uint r = 0u; r < BR; ++r) {
            [[unroll]] for (uint x = 0u; x < DPT; ++x) o[r * DPT + x] *= sh_alpha[r];
        }
        uint any = 0u;
        for (uint r = 0u; r < BR; ++r) any |= sh_rowvalid[r];
        if (any != 0u) {
            const uint ncol = min(BC, end - tile);
            for (uint c = 0u; c < ncol; ++c) {
                if (sh_colvalid[c] == 0u) continue;
                [[unroll]] for (uint x = 0u; x < DPT; ++x) {
                    const float val = v_elem(tile + c, g, t + x * BC);
                    [[unroll]] for (uint r = 0u; r < BR; ++r) {
                        o[r * DPT + x] += sh_s[r * BC + c] * val;
                    }
                }
            }
        }
        barrier();
    }

    if (kv_is_turbo(V_TYPE)) {
        // Back from V's rotated basis: through shared memory (Q is no longer needed), as whole
        // rows; the loop above ended on a barrier.
        [[unroll]] for (uint r = 0u; r < BR; ++r) {
            [[unroll]] for (uint x = 0u; x < DPT; ++x) sh_q[r * D + t + x * BC] = o[r * DPT + x];
        }
        barrier();
        rotate_rows(true);
        [[unroll]] for (uint r = 0u; r < BR; ++r) {
            [[unroll]] for (uint x = 0u; x < DPT; ++x) o[r * DPT + x] = sh_q[r * D + t + x * BC];
        }
    }
    [[unroll]] for (uint r = 0u; r < BR; ++r) {
        const uint R = row0 + r;
        if (R >= rows) continue;
        const uint i = q_col + R / pc.gqa, a = g * pc.gqa + R % pc.gqa;
        const uint orow = i * pc.n_heads + a;
        if (pc.mode == 0u) {
            const float l = sh_l[r];
            const float inv = l > 0.0 ? 1.0 / l : 0.0;
            [[unroll]] for (uint x = 0u; x < DPT; ++x) {
                if (t + x * BC < HD) o_out[orow * HD + t + x * BC] = o[r * DPT + x] * inv;
            }
        } else {
            const uint split = pc.split_base + gl_WorkGroupID.z;
            const uint entry = (split * pc.n_cols * pc.n_heads + orow) * (HD + 2u);
            [[unroll]] for (uint x = 0u; x < DPT; ++x) {
                if (t + x * BC < HD) o_out[entry + t + x * BC] = o[r * DPT + x];
            }
            if (t == 0u) {
                o_out[entry + HD] = sh_m[r];
                o_out[entry + HD + 1u] = sh_l[r];
            }
        }
    }
}
