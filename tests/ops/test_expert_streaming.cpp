// Issue #15: MoE experts streamed through the device expert cache (runtime/model/expert_cache.h)
// give bit-identical logits to the all-resident run: the cached experts are computed by the same
// kernels on the same bytes, at every cache size down to one slot per layer (where decode runs a
// layer's experts in waves), in prefill (waves of many experts) and in batched decode.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "loader/gguf_file.h"
#include "runtime/model/expert_cost_cache.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/model/memory_plan.h"
#include "synth/synth_model.h"
#include "tests/support/temp_file.h"
#include "tests/support/vk_test_env.h"

namespace vkllm::test {
namespace {

GgufFile open_model(const std::string& name) {
    return GgufFile::open(std::string(VKLLM_TEST_MODELS_DIR) + "/" + name + ".gguf");
}

std::vector<int32_t> tokens_for(size_t n, uint32_t seed, uint32_t vocab) {
    std::vector<int32_t> t(n);
    uint32_t x = seed * 2654435761u + 12345u;
    for (int32_t& v : t) {
        x = x * 1664525u + 1013904223u;
        v = static_cast<int32_t>(x % vocab);
    }
    return t;
}

int32_t argmax(std::span<const float> z) {
    return static_cast<int32_t>(std::max_element(z.begin(), z.end()) - z.begin());
}

// Two sequences: a prompt each (prefill in chunks, all logits), then `n_decode` batched greedy
// decode steps of both. Every logit of the run, in order.
std::vector<float> run_two_sequences(Gemma4Model& m, uint32_t n_decode) {
    const uint32_t V = m.n_vocab();
    std::vector<float> all;
    std::vector<int32_t> next(2);
    for (uint32_t s = 0; s < 2; ++s) {
        const std::vector<float> z = m.prefill(s, tokens_for(40 + 7 * s, 3 + s, V), true);
        all.insert(all.end(), z.begin(), z.end());
        next[s] = argmax(std::span(z).last(V));
    }
    for (uint32_t i = 0; i < n_decode; ++i) {
        const SeqToken batch[2] = {{0, next[0]}, {1, next[1]}};
        const std::vector<float> z = m.decode(batch);
        all.insert(all.end(), z.begin(), z.end());
        for (uint32_t s = 0; s < 2; ++s) next[s] = argmax(std::span(z).subspan(s * V, V));
    }
    return all;
}

ModelOptions options(uint32_t slots) {
    ModelOptions o;
    o.n_ctx = 96;
    o.n_seq = 2;
    o.prefill_chunk = 16;  // prefill steps of 16 tokens: more experts than slots (waves)
    o.expert_slots = slots;
    o.expert_compute = ExpertCompute::Gpu;  // bit-identical: every miss uploaded
    return o;
}

void expect_streaming_matches_resident(vk::Context& ctx, const GgufFile& file,
                                       const std::string& name) {
    Gemma4Model resident(ctx, file, options(0));
    ASSERT_FALSE(resident.memory_plan().experts.streamed);
    EXPECT_FALSE(resident.expert_cache_stats().has_value());
    const uint32_t E = resident.config().n_expert;
    const std::vector<float> want = run_two_sequences(resident, 12);
    std::set<uint32_t> sizes;
    for (const double fraction : {0.10, 0.25, 0.50}) {
        sizes.insert(std::max<uint32_t>(1, static_cast<uint32_t>(fraction * E)));
    }
    // Every size with prefetch, the smallest also without.
    std::vector<std::pair<uint32_t, bool>> runs;
    for (const uint32_t slots : sizes) runs.emplace_back(slots, true);
    runs.emplace_back(*sizes.begin(), false);
    for (const auto& [slots, prefetch] : runs) {
        SCOPED_TRACE(name + ", " + std::to_string(slots) + " slots per layer" +
                     (prefetch ? "" : ", no prefetch"));
        ModelOptions o = options(slots);
        o.expert_prefetch = prefetch;
        Gemma4Model m(ctx, file, o);
        ASSERT_TRUE(m.memory_plan().experts.streamed);
        ASSERT_EQ(m.memory_plan().experts.slots_per_layer, slots);
        const std::vector<float> got = run_two_sequences(m, 12);
        ASSERT_EQ(got.size(), want.size());
        EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
            << "streamed logits differ from the resident run";
        const ExpertCacheStats st = m.expert_cache_stats().value();
        EXPECT_GT(st.lookups, 0u);
        EXPECT_LE(st.hits, st.lookups);
        // Every miss is uploaded once; prefetched experts are uploads that hit later or not.
        EXPECT_EQ(st.uploads, st.lookups - st.hits + st.prefetched);
        EXPECT_GE(st.waves, st.layer_steps);
        if (prefetch) {
            EXPECT_GT(st.prefetched, 0u);
        } else {
            EXPECT_EQ(st.prefetched, 0u);
        }
        EXPECT_LE(st.prefetch_used, st.prefetched);
        std::cout << "[ info     ] " << name << " " << slots << "/" << E
                  << (prefetch ? "" : " (no prefetch)") << " slots: hit rate " << st.hit_rate()
                  << ", " << st.uploads << " uploads (" << st.upload_bytes / 1024 << " KiB), "
                  << st.waves << " waves over " << st.layer_steps << " layer-steps, prefetched "
                  << st.prefetched << " (" << st.prefetch_used << " used)\n";
    }
}

TEST_F(VkTest, StreamedExpertsMatchResidentOnTheMoeFixtures) {
    for (const char* name : {"tiny-moe-q4_k_m", "tiny-moe-q8_0"}) {
        const GgufFile file = open_model(name);
        expect_streaming_matches_resident(ctx(), file, name);
    }
}

TEST_F(VkTest, StreamedExpertsMatchResidentOn64ExpertsTop8) {
    synth::SynthSpec spec;
    spec.preset = "tiny-moe-64x8";
    spec.quant = quant::QuantMix::Q4_K_M;
    spec.seed = 5;
    spec.n_threads = 1;
    const std::filesystem::path path = unique_temp_gguf("moe64", this);
    RemoveOnExit cleanup{{path}};
    synth::write_synthetic_gemma4(spec, path);
    const GgufFile file = GgufFile::open(path);
    expect_streaming_matches_resident(ctx(), file, "synth tiny-moe-64x8 q4_k_m");
}

// The budget path: a VRAM budget between the non-expert part and the whole model loads with an
// expert cache sized by the planner, and runs.
TEST_F(VkTest, VramBudgetStreamsTheExpertsThatDoNotFit) {
    const GgufFile file = open_model("tiny-moe-q4_k_m");
    ModelOptions o = options(0);
    const MemoryPlan all = Gemma4Model::plan(file, o);
    const ExpertCachePlan& ex = all.experts;
    ASSERT_FALSE(ex.streamed);
    // Room for about three experts in every layer.
    o.vram_budget = all.total() - ex.expert_bytes + 3 * ex.slot_row_bytes + (64 << 10);
    Gemma4Model m(ctx(), file, o);
    const ExpertCachePlan& got = m.memory_plan().experts;
    ASSERT_TRUE(got.streamed);
    EXPECT_GE(got.slots_per_layer, 2u);
    EXPECT_LE(got.slots_per_layer, 3u);
    EXPECT_LE(m.memory_plan().total(), o.vram_budget);
    Gemma4Model resident(ctx(), file, options(0));
    const std::vector<float> a = run_two_sequences(m, 4), b = run_two_sequences(resident, 4);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
    // A budget below the non-expert part is refused before anything is allocated.
    o.vram_budget = all.total() - ex.expert_bytes - (1 << 20);
    try {
        Gemma4Model small(ctx(), file, o);
        ADD_FAILURE() << "no refusal";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("even without its experts"), std::string::npos)
            << e.what();
    }
}

// The measured miss costs are kept per key across runs; a damaged line is measured again, and
// VKLLM_CACHE_DIR=none keeps nothing.
TEST(ExpertCostCache, KeepsOneLinePerKeyAndIgnoresDamage) {
    const char* old = std::getenv("VKLLM_CACHE_DIR");
    const std::string saved = old ? old : "";
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() /
        ("vkllm-costs-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
    std::filesystem::remove_all(dir);
    setenv("VKLLM_CACHE_DIR", dir.c_str(), 1);
    EXPECT_FALSE(load_expert_costs("gpu / q4_K").has_value());
    save_expert_costs("gpu / q4_K", {1e-10, 2e-11, 3e-12});
    save_expert_costs("gpu / q8_0", {4e-10, 5e-11, 6e-12});
    save_expert_costs("gpu / q4_K", {7e-10, 8e-11, 9e-12});  // replaces
    const std::optional<ExpertCache::CpuCost> a = load_expert_costs("gpu / q4_K");
    ASSERT_TRUE(a.has_value());
    EXPECT_DOUBLE_EQ(a->upload_per_byte, 7e-10);
    EXPECT_DOUBLE_EQ(a->cpu_per_byte_token, 9e-12);
    EXPECT_DOUBLE_EQ(load_expert_costs("gpu / q8_0")->cpu_fixed_per_byte, 5e-11);
    {
        std::ofstream out(dir / "expert-costs.txt", std::ios::app);
        out << "broken\tnot numbers\nzero\t0 1 1\n";
    }
    EXPECT_FALSE(load_expert_costs("broken").has_value());
    EXPECT_FALSE(load_expert_costs("zero").has_value());
    EXPECT_TRUE(load_expert_costs("gpu / q8_0").has_value());
    setenv("VKLLM_CACHE_DIR", "none", 1);
    save_expert_costs("other", {1e-9, 0, 0});
    EXPECT_FALSE(load_expert_costs("gpu / q8_0").has_value());
    if (old) {
        setenv("VKLLM_CACHE_DIR", saved.c_str(), 1);
    } else {
        unsetenv("VKLLM_CACHE_DIR");
    }
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vkllm::test
