// kv_store: new K/V rows land in the right cache slots, and the bytes equal the CPU encoders
// (f32_to_f16, the reference Q8_0 quantiser, the TurboQuant reference) bit for bit, also when the
// cache spans several binding-sized parts.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "loader/fp16.h"
#include "quant/quantize.h"
#include "quant/turbo_quant.h"
#include "runtime/ops/kv_store.h"
#include "tests/support/random.h"
#include "tests/support/vk_test_env.h"

namespace vkllm::test {
namespace {

struct StoreCase {
    ops::KvType type;
    uint32_t head_dim, n_kv_heads, capacity, n_tokens;
};

std::vector<std::byte> encode_row(ops::KvType type, std::span<const float> row, uint32_t head_dim) {
    if (type == ops::KvType::Q8_0) return quant::quantize_row(GgmlType::Q8_0, row);
    if (ops::is_turbo(type)) {
        return quant::quantize_turbo_heads(ops::ggml_type_of(type), row, head_dim);
    }
    std::vector<std::byte> out(row.size() * 2);
    for (size_t i = 0; i < row.size(); ++i) {
        const uint16_t h = f32_to_f16(row[i]);
        std::memcpy(&out[2 * i], &h, 2);
    }
    return out;
}

// Rows that stress the encoders: exact .5 ties for q8_0 (amax 127 gives d = 1), an all-zero
// block, tiny and huge values, f16 rounding ties and overflow; an all-zero 128-group (a null
// TurboQuant block) in rows of 384 or more.
void add_edge_values(std::vector<float>& src, uint32_t row_elems) {
    for (uint32_t i = 0; i < 32 && i < row_elems; ++i) src[i] = static_cast<float>(i) - 15.5f;
    src[0] = 127.0f;
    for (uint32_t i = 32; i < 64 && i < row_elems; ++i) src[i] = 0.0f;
    if (row_elems >= 96) {
        for (uint32_t i = 64; i < 96; ++i) src[i] = 1e-20f * static_cast<float>(i - 80);
    }
    if (row_elems >= 100) {
        src[96] = 70000.0f;               // f16 overflow -> inf
        src[97] = 1.0f + 1.0f / 2048.0f;  // f16 tie, rounds to even
        src[98] = 3.0e-7f;                // f16 subnormal
        src[99] = -2.5f;
    }
    if (row_elems >= 384) std::fill(src.begin() + 256, src.begin() + 384, 0.0f);
}

std::string type_name(ops::KvType type) {
    return std::string(traits_of(ops::ggml_type_of(type)).name);
}

void run_store(vk::Context& c, const StoreCase& sc, std::mt19937_64& rng) {
    const uint32_t row_elems = sc.head_dim * sc.n_kv_heads;
    ops::KvCache cache =
        ops::allocate_kv_cache(c.device_arena(), sc.type, sc.head_dim, sc.n_kv_heads, sc.capacity);
    const uint64_t slot_bytes = ops::kv_slot_bytes(sc.type, sc.head_dim, sc.n_kv_heads);
    std::vector<std::byte> expect(slot_bytes * sc.capacity, std::byte{0x5A});  // sentinel
    c.transfer().upload(cache.spans, expect);

    // Distinct slots, in random order, reaching the last slot.
    std::vector<uint32_t> perm(sc.capacity);
    for (uint32_t i = 0; i < sc.capacity; ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    std::iter_swap(perm.begin(), std::find(perm.begin(), perm.end(), sc.capacity - 1));
    const std::vector<uint32_t> slots(perm.begin(), perm.begin() + sc.n_tokens);
    std::vector<float> src = random_normal(rng, size_t{row_elems} * sc.n_tokens, 2.0f);
    add_edge_values(src, row_elems);
    for (uint32_t t = 0; t < sc.n_tokens; ++t) {
        const auto bytes = encode_row(
            sc.type, std::span(src).subspan(size_t{t} * row_elems, row_elems), sc.head_dim);
        ASSERT_EQ(bytes.size(), slot_bytes);
        std::memcpy(&expect[slots[t] * slot_bytes], bytes.data(), slot_bytes);
    }

    vk::BufferSpan src_buf = c.device_arena().allocate(src.size() * 4);
    vk::BufferSpan slot_buf = c.device_arena().allocate(slots.size() * 4);
    c.transfer().upload(src_buf, std::as_bytes(std::span(src)));
    c.transfer().upload(slot_buf, std::as_bytes(std::span(slots)));
    vk::CommandStream cs(c.device());
    cs.begin();
    ops::record_kv_store(c, cs, src_buf, slot_buf, sc.n_tokens, cache);
    cs.submit_and_wait();
    std::vector<std::byte> got(expect.size());
    c.transfer().download(cache.spans, got);
    for (uint32_t s = 0; s < sc.capacity; ++s) {
        ASSERT_EQ(std::memcmp(&got[s * slot_bytes], &expect[s * slot_bytes], slot_bytes), 0)
            << "slot " << s << " differs (first byte " << static_cast<int>(got[s * slot_bytes])
            << " vs " << static_cast<int>(expect[s * slot_bytes]) << ")";
    }
}

class KvStore : public VkTest, public ::testing::WithParamInterface<StoreCase> {};

TEST_P(KvStore, BytesEqualCpuEncoderInGivenSlots) {
    VKLLM_SEEDED_RNG(rng);
    run_store(ctx(), GetParam(), rng);
}

INSTANTIATE_TEST_SUITE_P(Shapes, KvStore,
                         ::testing::Values(StoreCase{ops::KvType::F16, 128, 1, 7, 1},
                                           StoreCase{ops::KvType::F16, 256, 3, 37, 5},
                                           StoreCase{ops::KvType::Q8_0, 128, 2, 33, 31},
                                           StoreCase{ops::KvType::Q8_0, 512, 1, 9, 2},
                                           StoreCase{ops::KvType::Q8_0, 256, 4, 130, 129},
                                           StoreCase{ops::KvType::TURBO3, 128, 2, 33, 31},
                                           StoreCase{ops::KvType::TURBO3, 256, 3, 37, 5},
                                           StoreCase{ops::KvType::TURBO3, 512, 2, 70, 64},
                                           StoreCase{ops::KvType::TURBO2, 256, 4, 130, 129},
                                           StoreCase{ops::KvType::TURBO4, 512, 1, 9, 2},
                                           // Heads padded to 128 (formats.md §3.7).
                                           StoreCase{ops::KvType::TURBO3, 64, 4, 40, 17},
                                           StoreCase{ops::KvType::TURBO3, 192, 2, 9, 3}),
                         [](const auto& p) {
                             const StoreCase& c = p.param;
                             return type_name(c.type) + "_d" + std::to_string(c.head_dim) + "_h" +
                                    std::to_string(c.n_kv_heads) + "_t" +
                                    std::to_string(c.n_tokens);
                         });

TEST(KvStoreLimits, CacheSplitAcrossBindingsWritesEveryPart) {
    std::string reason;
    if (!shared_vk_env(&reason)) GTEST_SKIP() << reason;
    auto env = make_vk_env({64 << 10, 256 << 10});  // 64 KiB bindings: several parts
    ASSERT_TRUE(env);
    VKLLM_SEEDED_RNG(rng);
    for (ops::KvType type : {ops::KvType::F16, ops::KvType::Q8_0, ops::KvType::TURBO3}) {
        SCOPED_TRACE(type_name(type));
        // 1 KiB (f16) / 544 B (q8_0) / 200 B (turbo3) per slot
        const StoreCase sc{type, 256, 2, type == ops::KvType::TURBO3 ? 700u : 300u, 20};
        ops::KvCache probe =
            ops::allocate_kv_cache(env->context->device_arena(), type, 256, 2, sc.capacity);
        ASSERT_GT(probe.spans.parts.size(), 1u);
        run_store(*env->context, sc, rng);
    }
    for (const auto& m : env->log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
}

using KvStoreArgs = VkTest;

TEST_F(KvStoreArgs, RejectsHeadDimNotMultipleOf32) {
    EXPECT_THROW(ops::allocate_kv_cache(ctx().device_arena(), ops::KvType::Q8_0, 48, 1, 4),
                 std::invalid_argument);
    EXPECT_THROW(ops::allocate_kv_cache(ctx().device_arena(), ops::KvType::TURBO3, 80, 2, 4),
                 std::invalid_argument);
    // A padded turbo3 head of 64: one 128-block (50 bytes) per head.
    EXPECT_EQ(ops::kv_slot_bytes(ops::KvType::TURBO3, 64, 2), 100u);
}

}  // namespace
}  // namespace vkllm::test
