#pragma once
// MoE expert mat-mat, the prefill form of record_matvec_id: same arguments and same result, but
// each expert's weight tile is read once for up to BN of the (token, slot) pairs routed to it
// instead of once per pair. Two passes: moe_group lists the pairs of every expert on the device
// (ids are never read back), then the tiled mat-mat kernel (shaders/matmul.comp with MATMUL_ID)
// runs over (row tile, column tile of an expert's list). Every weight type in
// VKLLM_WEIGHT_TYPES; fp32 accumulation. Only records. docs/design/forward.md has the design.

#include <cstdint>

#include "runtime/ops/matmul.h"
#include "runtime/ops/matvec.h"
#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

// The same arguments and result as MatVecIdArgs / record_matvec_id, plus the grouping scratch.
struct MatMulIdArgs : MatVecIdArgs {
    // Device scratch of at least moe_groups_bytes(n_experts, n_used, n_tokens): per-expert counts,
    // offsets and pair lists. With `grouped` set, it already holds the grouping of these same ids
    // (recorded earlier in this stream by a call with the same ids, n_experts, n_used and
    // n_tokens) and the grouping pass is skipped: the gate, up and down projections of a layer
    // share one grouping.
    vk::BufferSpan groups;
    bool grouped = false;
    // Test and bench hook: force a tile (as MatMulArgs::tile).
    MatMulTile tile;
};

uint64_t moe_groups_bytes(uint32_t n_experts, uint32_t n_used, uint32_t n_tokens);

void record_matmul_id(vk::Context& ctx, vk::CommandStream& cs, const MatMulIdArgs& args);

// The tile record_matmul_id uses on a device when none is forced, for experts that get
// `mean_columns` (token, slot) pairs on average.
MatMulTile matmul_id_tile(const vk::DeviceInfo& info, uint32_t mean_columns);

}  // namespace vkllm::ops
