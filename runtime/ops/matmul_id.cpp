#include "runtime/ops/matmul_id.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace vkllm::ops {
namespace {

struct MoeGroupPush {  // mirrors `Push` in shaders/moe_group.comp (std430)
    uint32_t n_experts;
    uint32_t n_used;
    uint32_t n_tokens;
    uint32_t ids_stride;
};
static_assert(sizeof(MoeGroupPush) == 16);

struct MatMulIdPush {  // mirrors `Push` in shaders/matmul.comp with MATMUL_ID (std430)
    uint32_t K;
    uint32_t M;
    uint32_t part_rows;
    uint32_t y_first;
    uint32_t x_stride;
    uint32_t y_stride;
    uint32_t part_first_row;
    uint32_t n_rows;
    uint32_t n_experts;
    uint32_t n_used;
    uint32_t x_per_slot;
};
static_assert(sizeof(MatMulIdPush) == 44);

constexpr uint32_t k_group_workgroup = 128;  // every device allows 128 invocations
constexpr uint32_t k_window = 32;            // WIN in shaders/matmul.comp
constexpr MatMulTile k_small_tile{32, 32, 4, 4};
// CPUs (lavapipe): 16 invocations of 8 x 8 outputs. Timed on lavapipe at the tiny-moe expert
// shapes (MatMulIdTiles.PrintsExpertMatVecVsMatMul), 1.8-1.9x the throughput of 32 x 32 / 4 x 4
// (matmul now uses this tile on CPUs too); of 32 x 16, 64 x 16, 16 x 32, 64 x 32 / 8 x 8 and 64 x
// 64 / 16 x 16 only 64 x 16 / 8 x 8 was faster (3 % on gate_up, 16 % on down, within this machine's
// noise).
constexpr MatMulTile k_cpu_tile{32, 32, 8, 8};

// matmul's a_tile + b_tile plus the per-column x and y offsets of MATMUL_ID.
uint32_t shared_bytes(const MatMulTile& t) {
    return k_window * (t.bm + 1 + t.bn + 1) * 4 + 2 * t.bn * 4;
}

MatMulTile pick_tile(const vk::DeviceInfo& info, const MatMulIdArgs& a, uint64_t pairs) {
    // A tile holds one expert's columns: size it for the mean count of an expert that gets any.
    const uint64_t busy = std::min<uint64_t>(a.n_experts, pairs);
    const auto mean = static_cast<uint32_t>((pairs + busy - 1) / busy);
    const bool forced = a.tile.bm != 0 || a.tile.bn != 0 || a.tile.tm != 0 || a.tile.tn != 0;
    if (!forced) return matmul_id_tile(info, mean);
    const MatMulTile t = detail::resolve_tile(info, mean, a.tile, "matmul_id");
    if (shared_bytes(t) > info.max_shared_memory_bytes) {
        throw std::invalid_argument("[matmul_id] expected a tile that fits the device's " +
                                    std::to_string(info.max_shared_memory_bytes) +
                                    " bytes of shared memory, got " + std::to_string(t.bm) + "x" +
                                    std::to_string(t.bn));
    }
    return t;
}

void record_group(vk::Context& ctx, vk::CommandStream& cs, const MatMulIdArgs& a,
                  uint32_t ids_stride) {
    const vk::Pipeline& p =
        ctx.pipelines().get({"moe_group_u32", {k_group_workgroup}, sizeof(MoeGroupPush), 2});
    const MoeGroupPush push{a.n_experts, a.n_used, a.n_tokens, ids_stride};
    cs.dispatch(p, {vk::reads(a.ids), vk::writes(a.groups)}, push, {a.n_experts, 1, 1});
}

}  // namespace

MatMulTile matmul_id_tile(const vk::DeviceInfo& info, uint32_t mean_columns) {
    MatMulTile t = matmul_tile(info, mean_columns);
    if (info.type == VK_PHYSICAL_DEVICE_TYPE_CPU) t = k_cpu_tile;
    if (shared_bytes(t) > info.max_shared_memory_bytes) {
        t = k_small_tile;  // 8.7 KiB: within every Vulkan device's 16 KiB minimum
    }
    return t;
}

uint64_t moe_groups_bytes(uint32_t n_experts, uint32_t n_used, uint32_t n_tokens) {
    return (2ull * n_experts + uint64_t{n_used} * n_tokens) * 4;
}

void record_matmul_id(vk::Context& ctx, vk::CommandStream& cs, const MatMulIdArgs& a) {
    constexpr const char* op = "matmul_id";
    const vk::DeviceInfo& info = ctx.device().info();
    if (a.n_experts > info.max_workgroup_count[0]) {
        throw std::invalid_argument("[matmul_id] expected at most " +
                                    std::to_string(info.max_workgroup_count[0]) + " experts, got " +
                                    std::to_string(a.n_experts));
    }
    // Pair lists are u32 indices scaled by 4 in the shader.
    const detail::ExpertCall c = detail::check_expert_args(a, UINT32_MAX / 4, op);
    const uint32_t K = a.weight.K;
    const uint64_t pairs = c.pairs, n_x = c.n_x;
    const uint32_t x_stride = c.x_stride, y_stride = c.y_stride, ids_stride = c.ids_stride;
    const uint64_t group_bytes = moe_groups_bytes(a.n_experts, a.n_used, a.n_tokens);
    if (a.groups.size < group_bytes) {
        throw std::invalid_argument("[matmul_id] expected groups of at least " +
                                    std::to_string(group_bytes) + " bytes, got " +
                                    std::to_string(a.groups.size));
    }

    const MatMulTile t = pick_tile(info, a, pairs);
    // Column tiles: sum over experts of ceil(count_e / bn) <= (pairs + busy * (bn - 1)) / bn,
    // since the counts add up to at most `pairs` and at most `busy` of them are non-zero.
    const uint64_t busy = std::min<uint64_t>(a.n_experts, pairs);
    const uint64_t col_tiles = (pairs + busy * (t.bn - 1)) / t.bn;
    if (col_tiles > info.max_workgroup_count[1]) {
        throw std::invalid_argument("[matmul_id] expected at most " +
                                    std::to_string(info.max_workgroup_count[1]) +
                                    " column tiles, got " + std::to_string(col_tiles) + " for " +
                                    std::to_string(pairs) + " pairs");
    }
    const uint32_t row_tiles = vk::groups_for(a.n_rows, t.bm);
    const uint32_t gx = std::min(row_tiles, info.max_workgroup_count[0]);
    const uint32_t gz = vk::groups_for(row_tiles, gx);
    if (gz > info.max_workgroup_count[2]) {
        throw std::invalid_argument(
            "[matmul_id] expected n_rows at most " +
            std::to_string(uint64_t{gx} * info.max_workgroup_count[2] * t.bm) + ", got " +
            std::to_string(a.n_rows));
    }

    if (!a.grouped) record_group(ctx, cs, a, ids_stride);
    const bool vec4 = K % 4 == 0 && (n_x == 1 || x_stride % 4 == 0);
    const vk::Pipeline& p =
        ctx.pipelines().get({std::string("matmul_id_") + weight_type_suffix(a.weight.type),
                             {detail::tile_threads(t), t.bm, t.bn, t.tm, t.tn, vec4 ? 1u : 0u},
                             sizeof(MatMulIdPush),
                             4});
    const vk::TensorSpans& w = *a.weight.data;
    for (size_t part = 0; part < w.parts.size(); ++part) {
        const auto rows = static_cast<uint32_t>(w.rows_in(part));
        if (rows == 0) continue;
        const MatMulIdPush push{K,
                                0,
                                rows,
                                0,
                                x_stride,
                                y_stride,
                                static_cast<uint32_t>(w.first_row(part)),
                                a.n_rows,
                                a.n_experts,
                                a.n_used,
                                a.x_per_slot ? 1u : 0u};
        cs.dispatch(
            p, {vk::reads(w.parts[part]), vk::reads(a.x), vk::writes(a.y), vk::reads(a.groups)},
            push, {gx, static_cast<uint32_t>(col_tiles), gz});
    }
}

}  // namespace vkllm::ops
