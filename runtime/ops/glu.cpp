#include "runtime/ops/glu.h"

#include <stdexcept>
#include <string>

#include "runtime/ops/quantize_q8.h"
#include "runtime/ops/row_parts.h"

namespace vkllm::ops {
namespace {

constexpr uint32_t k_workgroup = 256;

struct GluPush {  // mirrors `Push` in shaders/glu.comp (std430)
    uint32_t n;
    uint32_t count;
    uint32_t g_off;
    uint32_t u_off;
    uint32_t o_off;
    uint32_t q_elem0;
    uint32_t xd_first;
};
static_assert(sizeof(GluPush) == 28);

void record(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& gate,
            const vk::TensorSpans* up, const vk::TensorSpans& out, uint32_t n,
            const std::optional<vk::BufferSpan>& q8_out, const char* op) {
    const bool fused = up == nullptr;
    const uint32_t out_row = row_elems(out, op, "out");
    const uint64_t total = uint64_t{out.rows} * out_row;
    if (q8_out) {
        if (out_row % 32 != 0 || total > UINT32_MAX) {
            throw std::invalid_argument(std::string("[") + op +
                                        "] q8_out needs out rows of a multiple of 32 and under "
                                        "2^32 elements, got " +
                                        std::to_string(out.rows) + " rows of " +
                                        std::to_string(out_row));
        }
        check_q8_1_span(*q8_out, out_row, out.rows, op, "q8_out");
    }
    const vk::Pipeline& p = ctx.pipelines().get(
        {"glu_gelu_f32", {k_workgroup, fused ? 1u : 0u, q8_out ? 1u : 0u}, sizeof(GluPush), 4});
    const vk::TensorSpans& u = fused ? gate : *up;
    // Outputs per workgroup: one per invocation, four with the q8_1 form.
    const uint32_t per_group = q8_out ? 4 * k_workgroup : k_workgroup;
    for (const RowSegment& s : row_segments({&gate, &u, &out}, UINT32_MAX / out_row)) {
        const uint64_t count = s.rows * out_row;
        const GluPush push{n,
                           static_cast<uint32_t>(count),
                           s.elem_off[0],
                           s.elem_off[1],
                           s.elem_off[2],
                           static_cast<uint32_t>(s.first_row * out_row),
                           static_cast<uint32_t>(total / 16)};
        // Without q8_out, binding 3 is out again and never touched.
        const vk::Binding q8 = q8_out ? vk::writes(*q8_out) : vk::writes(s.parts[2]);
        cs.dispatch(p, {vk::reads(s.parts[0]), vk::reads(s.parts[1]), vk::writes(s.parts[2]), q8},
                    push, fold_groups(ctx.device(), vk::groups_for(count, per_group)));
    }
}

}  // namespace

void record_gelu_glu(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& gate,
                     const vk::TensorSpans& up, const vk::TensorSpans& out,
                     const std::optional<vk::BufferSpan>& q8_out) {
    constexpr const char* op = "gelu_glu";
    const uint32_t row = row_elems(gate, op, "gate");
    for (const vk::TensorSpans* t : {&up, &out}) {
        expect_eq(t->row_bytes, gate.row_bytes, op, "up/out row bytes equal to gate's:");
        expect_eq(t->rows, gate.rows, op, "up/out rows equal to gate's:");
    }
    record(ctx, cs, gate, &up, out, row, q8_out, op);
}

void record_gelu_glu_fused(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& gate_up,
                           const vk::TensorSpans& out, uint32_t n,
                           const std::optional<vk::BufferSpan>& q8_out) {
    constexpr const char* op = "gelu_glu_fused";
    const uint32_t out_row = row_elems(out, op, "out");
    row_elems(gate_up, op, "gate_up");
    expect_eq(gate_up.row_bytes, 2 * out.row_bytes, op, "gate_up row bytes = 2 * out's:");
    expect_eq(out.rows, gate_up.rows, op, "out rows equal to gate_up's:");
    if (n == 0 || out_row % n != 0) {
        throw std::invalid_argument("[gelu_glu_fused] expected n dividing the out row length " +
                                    std::to_string(out_row) + ", got " + std::to_string(n));
    }
    record(ctx, cs, gate_up, nullptr, out, n, q8_out, op);
}

}  // namespace vkllm::ops
