#include "runtime/ops/kv_store.h"

#include <algorithm>
#include <array>
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

void check_layout(const char* op, KvType type, uint32_t head_dim, uint32_t n_kv_heads) {
    if (head_dim == 0 || head_dim % 32 != 0 || n_kv_heads == 0) {
        throw std::invalid_argument(std::string("[") + op +
                                    "] expected head_dim a positive multiple of 32 and "
                                    "n_kv_heads > 0 for a " +
                                    std::string(traits_of(ggml_type_of(type)).name) +
                                    " cache, got head_dim " + std::to_string(head_dim) +
                                    ", n_kv_heads " + std::to_string(n_kv_heads));
    }
}

struct TurboStorePush {  // mirrors `Push` in shaders/kv_store_turbo.comp (std430)
    uint32_t n_tokens;
    uint32_t head_dim;
    uint32_t n_heads;
    uint32_t part_first;
    uint32_t part_slots;
};
static_assert(sizeof(TurboStorePush) == 20);

}  // namespace

bool is_turbo(KvType type) {
    return type == KvType::TURBO2 || type == KvType::TURBO3 || type == KvType::TURBO4;
}

// KvType <-> ggml type, one row per cache type.
constexpr std::array<std::pair<KvType, GgmlType>, 5> k_kv_types = {{
    {KvType::F16, GgmlType::F16},
    {KvType::Q8_0, GgmlType::Q8_0},
    {KvType::TURBO2, GgmlType::TURBO2_0},
    {KvType::TURBO3, GgmlType::TURBO3_0},
    {KvType::TURBO4, GgmlType::TURBO4_0},
}};

GgmlType ggml_type_of(KvType type) {
    for (const auto& [kv, g] : k_kv_types) {
        if (kv == type) return g;
    }
    throw std::invalid_argument("[kv_store] unknown KV type");
}

KvType kv_type_of(GgmlType type) {
    for (const auto& [kv, g] : k_kv_types) {
        if (g == type) return kv;
    }
    throw std::invalid_argument("KV cache type must be f16, q8_0, turbo2, turbo3 or turbo4, got " +
                                std::string(traits_of(type).name));
}

uint32_t kv_block_elems(KvType type) {
    return traits_of(ggml_type_of(type)).block_elems;
}

uint32_t kv_stored_dim(KvType type, uint32_t head_dim) {
    return is_turbo(type) ? (head_dim + 127) / 128 * 128 : head_dim;
}

uint64_t kv_slot_bytes(KvType type, uint32_t head_dim, uint32_t n_kv_heads) {
    const GgmlTypeTraits t = traits_of(ggml_type_of(type));
    return uint64_t{kv_stored_dim(type, head_dim)} * n_kv_heads / t.block_elems * t.block_bytes;
}

KvCache allocate_kv_cache(vk::Arena& arena, KvType type, uint32_t head_dim, uint32_t n_kv_heads,
                          uint32_t capacity) {
    check_layout("allocate_kv_cache", type, head_dim, n_kv_heads);
    if (capacity == 0) throw std::invalid_argument("[allocate_kv_cache] expected capacity > 0");
    KvCache c{type, head_dim, n_kv_heads, capacity, {}};
    c.spans = arena.allocate_rows(kv_slot_bytes(type, head_dim, n_kv_heads), capacity);
    return c;
}

void record_kv_store(vk::Context& ctx, vk::CommandStream& cs, const vk::BufferSpan& src,
                     const vk::BufferSpan& slots, uint32_t n_tokens, const KvCache& dst) {
    check_layout("kv_store", dst.type, dst.head_dim, dst.n_kv_heads);
    const uint32_t row_elems = dst.head_dim * dst.n_kv_heads;
    if (uint64_t{row_elems} * n_tokens * 4 > src.size || uint64_t{n_tokens} * 4 > slots.size) {
        throw std::invalid_argument(
            "[kv_store] expected src >= " + std::to_string(uint64_t{row_elems} * n_tokens * 4) +
            " bytes and slots >= " + std::to_string(n_tokens * 4) + " bytes, got " +
            std::to_string(src.size) + " and " + std::to_string(slots.size));
    }
    if (n_tokens == 0) return;
    if (is_turbo(dst.type)) {
        // One 128-thread workgroup per block (shaders/kv_store_turbo.comp); heads are padded.
        const uint32_t blocks =
            n_tokens * dst.n_kv_heads * (kv_stored_dim(dst.type, dst.head_dim) / 128);
        const vk::Pipeline& p = ctx.pipelines().get(
            {"kv_store_turbo", {static_cast<uint32_t>(dst.type)}, sizeof(TurboStorePush), 3});
        for (size_t i = 0; i < dst.spans.parts.size(); ++i) {
            const TurboStorePush push{n_tokens, dst.head_dim, dst.n_kv_heads,
                                      static_cast<uint32_t>(dst.spans.first_row(i)),
                                      static_cast<uint32_t>(dst.spans.rows_in(i))};
            cs.dispatch(p, {vk::reads(src), vk::reads(slots), vk::reads_writes(dst.spans.parts[i])},
                        push,
                        {std::min(blocks, k_max_groups_x), vk::groups_for(blocks, k_max_groups_x)});
        }
        return;
    }
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
