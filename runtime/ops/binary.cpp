#include "runtime/ops/binary.h"

#include <stdexcept>
#include <string>

#include "runtime/ops/row_parts.h"

namespace vkllm::ops {
namespace {

constexpr uint32_t k_workgroup = 256;
constexpr uint32_t k_op_scale = 2;  // OP spec constant of shaders/binary.comp

struct BinaryPush {  // mirrors `Push` in shaders/binary.comp (std430)
    uint32_t n;
    uint32_t count;
    uint32_t first_row;
    uint32_t a_off;
    uint32_t b_off;
    uint32_t o_off;
    uint32_t b_n;
    uint32_t b_rows;
    float scalar;
};
static_assert(sizeof(BinaryPush) == 36);

// One dispatch per row segment of (a, out); b is either segmented alongside (full shape) or
// bound whole (broadcast).
void record(vk::Context& ctx, vk::CommandStream& cs, uint32_t op_code, const vk::TensorSpans& a,
            const vk::TensorSpans* b, const vk::TensorSpans& out, float scalar) {
    const uint32_t n = row_elems(a, "binary", "a");
    const uint32_t b_n = b ? static_cast<uint32_t>(b->row_bytes / 4) : 1;
    const uint32_t b_rows = b ? static_cast<uint32_t>(b->rows) : 1;
    const bool b_full = b && b->rows == a.rows;
    const vk::Pipeline& p =
        ctx.pipelines().get({"binary_f32", {k_workgroup, op_code}, sizeof(BinaryPush), 3});
    const vk::TensorSpans& seg_b = b_full ? *b : a;
    for (const RowSegment& s : row_segments({&a, &seg_b, &out}, UINT32_MAX / n)) {
        const uint64_t count = s.rows * n;
        if (s.first_row > UINT32_MAX) throw std::length_error("[binary] more than 2^32 rows");
        BinaryPush push{n,
                        static_cast<uint32_t>(count),
                        static_cast<uint32_t>(s.first_row),
                        s.elem_off[0],
                        0,
                        s.elem_off[2],
                        b_n,
                        b_rows,
                        scalar};
        vk::BufferSpan b_span = s.parts[0];  // scale: unused
        if (b_full) {
            b_span = s.parts[1];
            push.b_off = s.elem_off[1];
            push.first_row = 0;  // b's rows are segmented with a's: no row broadcast
        } else if (b) {
            b_span = b->parts[0];
        }
        cs.dispatch(p, {vk::reads(s.parts[0]), vk::reads(b_span), vk::writes(s.parts[2])}, push,
                    fold_groups(ctx.device(), vk::groups_for(count, k_workgroup)));
    }
}

void check_same_shape(const vk::TensorSpans& a, const vk::TensorSpans& out, const char* op) {
    row_elems(a, op, "a");
    expect_eq(out.row_bytes, a.row_bytes, op, "out row bytes equal to a's:");
    expect_eq(out.rows, a.rows, op, "out rows equal to a's:");
}

}  // namespace

void record_binary(vk::Context& ctx, vk::CommandStream& cs, BinaryOp op, const vk::TensorSpans& a,
                   const vk::TensorSpans& b, const vk::TensorSpans& out) {
    const char* name = op == BinaryOp::Add ? "add" : "mul";
    check_same_shape(a, out, name);
    const uint32_t n = row_elems(a, name, "a");
    const uint32_t b_n = row_elems(b, name, "b");
    if (n % b_n != 0 || b.rows == 0 || a.rows % b.rows != 0) {
        throw std::invalid_argument(std::string("[") + name +
                                    "] expected b's shape to divide a's {" + std::to_string(n) +
                                    ", " + std::to_string(a.rows) + "}, got {" +
                                    std::to_string(b_n) + ", " + std::to_string(b.rows) + "}");
    }
    if (b.rows != a.rows && b.parts.size() != 1) {
        throw std::invalid_argument(std::string("[") + name +
                                    "] expected a broadcast b in one binding, got " +
                                    std::to_string(b.parts.size()) + " parts");
    }
    record(ctx, cs, static_cast<uint32_t>(op), a, &b, out, 0.0f);
}

void record_scale(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& a,
                  const vk::TensorSpans& out, float s) {
    check_same_shape(a, out, "scale");
    record(ctx, cs, k_op_scale, a, nullptr, out, s);
}

}  // namespace vkllm::ops
