#include "runtime/ops/kv_store.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace vkllm::ops {
namespace {

constexpr uint32_t k_workgroup = 64;
constexpr uint32_t k_max_groups_x = 65535;  // the guaranteed minimum of maxComputeWorkGroupCount

struct KvStorePush {  // mirrors `Push` in shaders/kv_store.comp (std430)
    uint32_t n_tokens;
    uint32_t row_elems;
    uint32_t part_first;
    uint32_t part_slots;
};
static_assert(sizeof(KvStorePush) == 16);

void check_layout(const char* op, uint32_t head_dim, uint32_t n_kv_heads) {
    if (head_dim == 0 || head_dim % 32 != 0 || n_kv_heads == 0) {
        throw std::invalid_argument(std::string("[") + op +
                                    "] expected head_dim a positive multiple of 32 and "
                                    "n_kv_heads > 0, got head_dim " +
                                    std::to_string(head_dim) + ", n_kv_heads " +
                                    std::to_string(n_kv_heads));
    }
}

}  // namespace

GgmlType ggml_type_of(KvType type) {
    return type == KvType::F16 ? GgmlType::F16 : GgmlType::Q8_0;
}

uint64_t kv_slot_bytes(KvType type, uint32_t head_dim, uint32_t n_kv_heads) {
    const uint64_t elems = uint64_t{head_dim} * n_kv_heads;
    return type == KvType::F16 ? elems * 2 : elems / 32 * 34;
}

KvCache allocate_kv_cache(vk::Arena& arena, KvType type, uint32_t head_dim, uint32_t n_kv_heads,
                          uint32_t capacity) {
    check_layout("allocate_kv_cache", head_dim, n_kv_heads);
    if (capacity == 0) throw std::invalid_argument("[allocate_kv_cache] expected capacity > 0");
    KvCache c{type, head_dim, n_kv_heads, capacity, {}};
    c.spans = arena.allocate_rows(kv_slot_bytes(type, head_dim, n_kv_heads), capacity);
    return c;
}

void record_kv_store(vk::Context& ctx, vk::CommandStream& cs, const vk::BufferSpan& src,
                     const vk::BufferSpan& slots, uint32_t n_tokens, const KvCache& dst) {
    check_layout("kv_store", dst.head_dim, dst.n_kv_heads);
    const uint32_t row_elems = dst.head_dim * dst.n_kv_heads;
    if (uint64_t{row_elems} * n_tokens * 4 > src.size || uint64_t{n_tokens} * 4 > slots.size) {
        throw std::invalid_argument(
            "[kv_store] expected src >= " + std::to_string(uint64_t{row_elems} * n_tokens * 4) +
            " bytes and slots >= " + std::to_string(n_tokens * 4) + " bytes, got " +
            std::to_string(src.size) + " and " + std::to_string(slots.size));
    }
    if (n_tokens == 0) return;
    const uint32_t unit = dst.type == KvType::F16 ? 1 : 32;
    const uint64_t threads = uint64_t{n_tokens} * (row_elems / unit);
    const vk::Pipeline& p = ctx.pipelines().get(
        {"kv_store", {k_workgroup, static_cast<uint32_t>(dst.type)}, sizeof(KvStorePush), 3});
    const uint32_t groups = vk::groups_for(threads, k_workgroup);
    const vk::Groups grid{std::min(groups, k_max_groups_x), vk::groups_for(groups, k_max_groups_x)};
    for (size_t i = 0; i < dst.spans.parts.size(); ++i) {
        const KvStorePush push{n_tokens, row_elems, static_cast<uint32_t>(dst.spans.first_row(i)),
                               static_cast<uint32_t>(dst.spans.rows_in(i))};
        // Read-write: a part is only partly overwritten.
        cs.dispatch(p, {vk::reads(src), vk::reads(slots), vk::reads_writes(dst.spans.parts[i])},
                    push, grid);
    }
}

}  // namespace vkllm::ops
