#include "runtime/ops/get_rows.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace vkllm::ops {
namespace {

constexpr uint32_t k_workgroup = 64;
constexpr uint32_t k_bindings = 3;  // table, ids, out

struct GetRowsPush {  // mirrors `Push` in shaders/get_rows.comp (std430)
    uint32_t K;
    uint32_t part_first_row;
    uint32_t part_rows;
    uint32_t out_stride;
    uint32_t token_base;
    float scale;
};
static_assert(sizeof(GetRowsPush) == 24);

// Work items per row: what one thread decodes (see shaders/common/quant_dispatch.glsl).
uint32_t items_per_block(GgmlType type) {
    switch (type) {
        case GgmlType::Q4_0:
        case GgmlType::Q4_1:
        case GgmlType::Q5_0:
        case GgmlType::Q5_1:
            return 2;
        case GgmlType::Q8_0:
            return 4;
        case GgmlType::Q2_K:
        case GgmlType::Q3_K:
        case GgmlType::Q4_K:
        case GgmlType::Q5_K:
        case GgmlType::Q6_K:
            return 16;
        default:
            return 1;
    }
}

}  // namespace

void record_get_rows(vk::Context& ctx, vk::CommandStream& cs, const GetRowsArgs& a) {
    constexpr const char* op = "get_rows";
    detail::check_weight(a.table, op);
    const uint32_t K = a.table.K;
    if (a.n_tokens == 0) return;
    const uint32_t out_stride = a.n_tokens == 1 ? std::max(a.out_stride, K) : a.out_stride;
    if (out_stride < K) {
        throw std::invalid_argument("[get_rows] expected out_stride >= K = " + std::to_string(K) +
                                    ", got " + std::to_string(a.out_stride));
    }
    detail::check_floats(a.ids, a.n_tokens, op, "ids");
    detail::check_floats(a.out, uint64_t{a.n_tokens - 1} * out_stride + K, op, "out");

    const uint64_t items =
        uint64_t{K} / traits_of(a.table.type).block_elems * items_per_block(a.table.type);
    const auto& lim = ctx.device().info().max_workgroup_count;
    const uint64_t gx = vk::groups_for(items, k_workgroup);
    if (gx > lim[0]) {
        throw std::invalid_argument("[get_rows] expected rows of at most " +
                                    std::to_string(uint64_t{lim[0]} * k_workgroup) +
                                    " work items, got " + std::to_string(items));
    }
    const vk::Pipeline& p =
        ctx.pipelines().get({std::string("get_rows_") + weight_type_suffix(a.table.type),
                             {k_workgroup},
                             sizeof(GetRowsPush),
                             k_bindings});
    const vk::TensorSpans& t = *a.table.data;
    for (size_t part = 0; part < t.parts.size(); ++part) {
        const auto rows = static_cast<uint32_t>(t.rows_in(part));
        if (rows == 0) continue;
        for (uint32_t base = 0; base < a.n_tokens; base += lim[1]) {
            const GetRowsPush push{
                K, static_cast<uint32_t>(t.first_row(part)), rows, out_stride, base, a.scale};
            const uint32_t gy = std::min(lim[1], a.n_tokens - base);
            cs.dispatch(p, {vk::reads(t.parts[part]), vk::reads(a.ids), vk::writes(a.out)}, push,
                        {static_cast<uint32_t>(gx), gy, 1});
        }
    }
}

}  // namespace vkllm::ops
