// Gemma4Config::from_gguf: key defaults, scalar-or-array per-layer keys, the derived per-layer
// view, and clear errors for unsupported architectures, missing/mis-shaped tensors and
// inconsistent metadata. Broken models are written in-test with GgufWriter.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "loader/gemma4_config.h"
#include "loader/gguf_file.h"
#include "loader/gguf_writer.h"
#include "loader/model_file_error.h"

namespace vkllm {
namespace {

const std::string k_models = std::string(VKLLM_TEST_MODELS_DIR) + "/";

// A 3-layer Gemma 4 target (S S F), n_embd 16, 2 query heads, 1 KV head, D_swa 4, D_full 8,
// vocab 8, F32 zeros. Tests edit `keys` / `tensors` before build().
struct SynthModel {
    std::map<std::string, std::function<void(GgufWriter&, const std::string&)>> keys;
    std::map<std::string, std::vector<uint64_t>> tensors;
    std::vector<std::byte> bytes;

    static auto u32(uint32_t v) {
        return [v](GgufWriter& w, const std::string& k) { w.add_u32(k, v); };
    }
    static auto f32(float v) {
        return [v](GgufWriter& w, const std::string& k) { w.add_f32(k, v); };
    }
    static auto u32s(std::vector<uint32_t> v) {
        return [v](GgufWriter& w, const std::string& k) {
            w.add_array(k, std::span<const uint32_t>(v));
        };
    }
    void set(const std::string& suffix, std::function<void(GgufWriter&, const std::string&)> f) {
        keys["gemma4." + suffix] = std::move(f);
    }
    void erase(const std::string& suffix) { keys.erase("gemma4." + suffix); }

    SynthModel() {
        keys["general.architecture"] = [](GgufWriter& w, const std::string& k) {
            w.add_string(k, "gemma4");
        };
        set("context_length", u32(64));
        set("embedding_length", u32(16));
        set("block_count", u32(3));
        set("feed_forward_length", u32(32));
        set("attention.head_count", u32(2));
        set("attention.head_count_kv", u32(1));
        set("attention.key_length", u32(8));
        set("attention.value_length", u32(8));
        set("attention.key_length_swa", u32(4));
        set("attention.value_length_swa", u32(4));
        set("attention.sliding_window", u32(4));
        set("attention.sliding_window_pattern", [](GgufWriter& w, const std::string& k) {
            w.add_array(k, GgufWriteArray::of_bools({true, true, false}));
        });
        set("attention.layer_norm_rms_epsilon", f32(1e-6f));
        set("embedding_length_per_layer_input", u32(0));
        set("rope.dimension_count", u32(8));
        set("rope.dimension_count_swa", u32(4));
        tensors["token_embd.weight"] = {16, 8};
        tensors["output_norm.weight"] = {16};
        tensors["rope_freqs.weight"] = {4};
        for (int l = 0; l < 3; ++l) add_layer(l, l == 2 ? 8 : 4, 32);
    }
    void add_layer(int l, uint64_t D, uint64_t ff) {
        const std::string p = "blk." + std::to_string(l) + ".";
        for (const char* n : {"attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"}) {
            tensors[p + n + ".weight"] = {16};
        }
        tensors[p + "attn_q.weight"] = {16, 2 * D};
        tensors[p + "attn_k.weight"] = {16, D};
        tensors[p + "attn_v.weight"] = {16, D};
        tensors[p + "attn_output.weight"] = {2 * D, 16};
        tensors[p + "attn_q_norm.weight"] = {D};
        tensors[p + "attn_k_norm.weight"] = {D};
        tensors[p + "ffn_gate.weight"] = {16, ff};
        tensors[p + "ffn_up.weight"] = {16, ff};
        tensors[p + "ffn_down.weight"] = {ff, 16};
    }
    GgufFile build() {
        GgufWriter w;
        for (const auto& [k, f] : keys) f(w, k);
        for (const auto& [name, ne] : tensors) {
            uint64_t n = 1;
            for (uint64_t d : ne) n *= d;
            w.add_tensor(name, GgmlType::F32, ne, std::vector<std::byte>(n * 4));
        }
        bytes = w.to_bytes();
        return GgufFile::parse(bytes, "synth.gguf");
    }
};

// from_gguf must throw ModelFileError whose message contains every needle.
void expect_config_error(SynthModel& m, const std::vector<std::string>& needles) {
    const GgufFile f = m.build();
    try {
        (void)Gemma4Config::from_gguf(f);
        ADD_FAILURE() << "loaded without error";
    } catch (const ModelFileError& e) {
        for (const std::string& n : needles) {
            EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
                << "message lacks \"" << n << "\": " << e.what();
        }
    }
}

TEST(Gemma4Config, ReadsDenseFixture) {
    const GgufFile f = GgufFile::open(k_models + "tiny-dense-q8_0.gguf");
    const Gemma4Config c = Gemma4Config::from_gguf(f);
    EXPECT_EQ(c.n_embd, 256u);
    EXPECT_EQ(c.n_layer, 6u);
    EXPECT_EQ(c.n_vocab, 4096u);
    EXPECT_EQ(c.final_softcap, 30.0f);
    EXPECT_TRUE(c.tied_output);
    EXPECT_FALSE(c.has_ple());
    EXPECT_FALSE(c.has_moe());
    const Gemma4LayerConfig& swa = c.layers[0];
    EXPECT_TRUE(swa.is_sliding);
    EXPECT_EQ(swa.head_dim, 128u);
    EXPECT_EQ(swa.n_kv_heads, 2u);
    EXPECT_EQ(swa.window, 16u);
    EXPECT_EQ(swa.rope_base, 10000.0f);
    EXPECT_FALSE(swa.rope_uses_freqs);
    EXPECT_TRUE(swa.has_v);
    const Gemma4LayerConfig& full = c.layers[3];
    EXPECT_FALSE(full.is_sliding);
    EXPECT_EQ(full.head_dim, 256u);
    EXPECT_EQ(full.n_kv_heads, 1u);
    EXPECT_EQ(full.n_rot, 256u);
    EXPECT_EQ(full.window, 0u);
    EXPECT_EQ(full.rope_base, 1e6f);
    EXPECT_TRUE(full.rope_uses_freqs);
    EXPECT_FALSE(full.has_v);  // V = raw K
    EXPECT_EQ(full.kv_source, 3u);
    EXPECT_FALSE(c.layers[0].has_output_scale);
    EXPECT_TRUE(c.layers[1].has_output_scale);
}

TEST(Gemma4Config, DerivesSharedKvSourcesAndPerLayerFfn) {
    const GgufFile f = GgufFile::open(k_models + "tiny-ple-q8_0.gguf");
    const Gemma4Config c = Gemma4Config::from_gguf(f);
    EXPECT_EQ(c.n_embd_per_layer, 32u);
    EXPECT_EQ(c.n_kv_start, 4u);
    EXPECT_EQ(c.layers[4].kv_source, 2u);  // SWA: n_kv_start - 2
    EXPECT_EQ(c.layers[5].kv_source, 3u);  // full: n_kv_start - 1
    EXPECT_EQ(c.layers[0].kv_source, 0u);
    EXPECT_EQ(c.layers[3].n_ff, 256u);
    EXPECT_EQ(c.layers[4].n_ff, 512u);  // double-wide MLP on shared-KV layers
}

TEST(Gemma4Config, ReadsMoeFixture) {
    const GgufFile f = GgufFile::open(k_models + "tiny-moe-q4_k_m.gguf");
    const Gemma4Config c = Gemma4Config::from_gguf(f);
    EXPECT_TRUE(c.has_moe());
    EXPECT_EQ(c.n_expert, 8u);
    EXPECT_EQ(c.n_expert_used, 2u);
    EXPECT_EQ(c.n_ff_expert, 192u);
    for (const Gemma4LayerConfig& L : c.layers) EXPECT_TRUE(L.is_moe);
}

TEST(Gemma4Config, AppliesDefaultsForAbsentKeys) {
    SynthModel m;
    for (const char* k : {"attention.head_count_kv", "attention.key_length",
                          "attention.value_length", "rope.dimension_count"}) {
        m.erase(k);
    }
    for (int l = 0; l < 3; ++l) {  // head_count_kv now defaults to head_count = 2
        const uint64_t kv = (l == 2 ? 8 : 4) * 2;
        m.tensors["blk." + std::to_string(l) + ".attn_k.weight"] = {16, kv};
        m.tensors["blk." + std::to_string(l) + ".attn_v.weight"] = {16, kv};
    }
    const GgufFile f = m.build();
    const Gemma4Config c = Gemma4Config::from_gguf(f);
    EXPECT_EQ(c.final_softcap, 30.0f);  // absent softcap means 30, not disabled
    EXPECT_EQ(c.rope_base_full, 10000.0f);
    EXPECT_EQ(c.rope_base_swa, 10000.0f);
    EXPECT_EQ(c.head_dim_full, 8u);         // n_embd / head_count
    EXPECT_EQ(c.n_rot_full, 8u);            // key_length
    EXPECT_EQ(c.layers[0].n_kv_heads, 2u);  // head_count
    EXPECT_EQ(c.n_shared_kv_layers, 0u);
    EXPECT_EQ(c.n_expert, 0u);
    EXPECT_TRUE(c.suppress_tokens.empty());
}

TEST(Gemma4Config, ExplicitZeroSoftcapDisables) {
    SynthModel m;
    m.set("final_logit_softcapping", SynthModel::f32(0.0f));
    const GgufFile f = m.build();
    EXPECT_EQ(Gemma4Config::from_gguf(f).final_softcap, 0.0f);
}

TEST(Gemma4Config, RopeDimensionCountSwaDefaultsToFullAndIsChecked) {
    SynthModel m;
    m.erase("rope.dimension_count_swa");  // default R_full = 8 > D_swa = 4: must not load
    expect_config_error(m, {"RoPE dimension count 8", "dimension_count_swa"});
    m.set("attention.key_length_swa", SynthModel::u32(8));
    m.set("attention.value_length_swa", SynthModel::u32(8));
    for (int l = 0; l < 2; ++l) m.add_layer(l, 8, 32);
    const GgufFile f = m.build();
    EXPECT_EQ(Gemma4Config::from_gguf(f).n_rot_swa, 8u);
}

TEST(Gemma4Config, AcceptsScalarOrArrayPerLayerKeys) {
    SynthModel m;
    m.set("attention.head_count_kv", SynthModel::u32s({1, 1, 2}));
    m.set("feed_forward_length", SynthModel::u32s({32, 32, 64}));
    m.add_layer(2, 8, 64);
    m.tensors["blk.2.attn_k.weight"] = {16, 16};
    m.tensors["blk.2.attn_v.weight"] = {16, 16};
    const GgufFile f = m.build();
    const Gemma4Config c = Gemma4Config::from_gguf(f);
    EXPECT_EQ(c.layers[0].n_kv_heads, 1u);
    EXPECT_EQ(c.layers[2].n_kv_heads, 2u);
    EXPECT_EQ(c.layers[1].n_ff, 32u);
    EXPECT_EQ(c.layers[2].n_ff, 64u);
}

TEST(Gemma4Config, ScalarSlidingPatternIsBroadcastNotAPeriod) {
    SynthModel m;
    m.set("attention.sliding_window_pattern", SynthModel::u32(1));
    m.add_layer(2, 4, 32);
    const GgufFile f = m.build();
    const Gemma4Config c = Gemma4Config::from_gguf(f);
    for (const Gemma4LayerConfig& L : c.layers) EXPECT_TRUE(L.is_sliding);
}

TEST(Gemma4Config, RejectsPerLayerArrayOfWrongLength) {
    SynthModel m;
    m.set("attention.head_count_kv", SynthModel::u32s({1, 1}));
    expect_config_error(m, {"gemma4.attention.head_count_kv", "2 entries", "3 layers"});
}

TEST(Gemma4Config, RejectsUnsupportedArchitecture) {
    SynthModel m;
    m.keys["general.architecture"] = [](GgufWriter& w, const std::string& k) {
        w.add_string(k, "llama");
    };
    expect_config_error(m, {"\"llama\"", "unsupported architecture"});
    m.keys["general.architecture"] = [](GgufWriter& w, const std::string& k) {
        w.add_string(k, "gemma4-assistant");
    };
    expect_config_error(m, {"unsupported architecture", "assistant"});
}

TEST(Gemma4Config, RejectsMissingTensorByName) {
    SynthModel m;
    m.tensors.erase("blk.1.attn_q_norm.weight");
    expect_config_error(m, {"'blk.1.attn_q_norm.weight'", "missing"});
}

TEST(Gemma4Config, RejectsMisShapedTensorWithBothShapes) {
    SynthModel m;
    m.tensors["blk.2.attn_q.weight"] = {16, 8};  // full layer needs {16, 2 * 8}
    expect_config_error(m, {"'blk.2.attn_q.weight'", "{16, 8}", "{16, 16}"});
}

TEST(Gemma4Config, RejectsMissingRequiredKey) {
    SynthModel m;
    m.erase("attention.key_length_swa");
    expect_config_error(m, {"gemma4.attention.key_length_swa"});
}

TEST(Gemma4Config, RejectsInconsistentMetadata) {
    SynthModel m;
    m.set("attention.value_length", SynthModel::u32(4));
    expect_config_error(m, {"value_length", "must equal"});

    SynthModel heads;
    heads.set("attention.head_count_kv", SynthModel::u32(3));
    expect_config_error(heads, {"head_count 2", "head_count_kv 3"});

    SynthModel moe;  // router tensor without expert metadata
    moe.tensors["blk.0.ffn_gate_inp.weight"] = {16, 4};
    expect_config_error(moe, {"layer 0", "expert_count 0"});
}

}  // namespace
}  // namespace vkllm
