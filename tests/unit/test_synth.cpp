// vkllm synth: synthetic Gemma 4 files load and bind, follow llama.cpp's Q4_K_M type rules (the
// whole tensor table equals the committed llama.cpp-quantized fixtures), run through the CPU
// reference forward without degenerate logits, and are reproducible byte for byte. The layout
// variants (split expert gate/up, untied head) get llama.cpp's types and the fused model's values.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/gemma4_config.h"
#include "loader/gemma4_weights_view.h"
#include "loader/gguf_file.h"
#include "loader/model_file_error.h"
#include "loader/quant_blocks.h"
#include "loader/tokenizer.h"
#include "quant/quantize.h"
#include "reference/gemma4_forward.h"
#include "synth/synth_model.h"

namespace vkllm {
namespace {

using quant::QuantMix;
using synth::SynthSpec;

const std::filesystem::path k_models = VKLLM_TEST_MODELS_DIR;

std::filesystem::path temp_path(const std::string& name) {
    return std::filesystem::path(::testing::TempDir()) / ("vkllm_synth_" + name + ".gguf");
}

SynthSpec spec_of(const std::string& preset, QuantMix mix, uint64_t seed = 1) {
    SynthSpec s;
    s.preset = preset;
    s.quant = mix;
    s.seed = seed;
    return s;
}

std::vector<char> file_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const synth::PlannedTensor& find(const synth::SynthPlan& plan, const std::string& name) {
    for (const synth::PlannedTensor& t : plan.tensors) {
        if (t.name == name) return t;
    }
    throw std::runtime_error("no tensor " + name);
}

GgmlType type_of(const synth::SynthPlan& plan, const std::string& name) {
    return find(plan, name).type;
}

// ---- every tiny preset in every mix loads, binds and tokenizes ----------------------------------

struct MixCase {
    const char* preset;
    QuantMix mix;
};

class SynthTinyFile : public ::testing::TestWithParam<MixCase> {};

TEST_P(SynthTinyFile, LoadsBindsAndTokenizes) {
    const MixCase c = GetParam();
    const std::string tag = std::string(c.preset) + "-" + std::string(quant::quant_mix_name(c.mix));
    const auto path = temp_path(tag);
    const synth::SynthSummary sum = synth::write_synthetic_gemma4(spec_of(c.preset, c.mix), path);

    const GgufFile f = GgufFile::open(path);
    EXPECT_EQ(sum.file_bytes, f.file_size());
    EXPECT_EQ(sum.n_tensors, f.tensors().size());
    EXPECT_EQ(f.get_string("general.architecture"), "gemma4");
    EXPECT_EQ(f.get_u32("general.file_type"), quant::file_type_of(c.mix));
    EXPECT_EQ(f.get_u32("general.quantization_version"), 2u);
    const Gemma4Config cfg = Gemma4Config::from_gguf(f);
    const Gemma4WeightsView w = Gemma4WeightsView::bind(f, cfg);
    EXPECT_EQ(cfg.n_layer, 6u);
    EXPECT_EQ(cfg.n_vocab, 4096u);
    EXPECT_TRUE(cfg.tied_output);
    EXPECT_EQ(w.layers.size(), 6u);
    // Tensors are tightly packed in file order, each padded to the alignment.
    uint64_t next = 0;
    for (const TensorInfo& t : f.tensors()) {
        EXPECT_EQ(t.offset, next) << t.name;
        next = (t.offset + t.size_bytes + f.alignment() - 1) / f.alignment() * f.alignment();
    }
    EXPECT_EQ(f.data_offset() + next, f.file_size());

    const Tokenizer tok = Tokenizer::from_gguf(f);
    const std::vector<int32_t> ids = tok.encode("hello world\n<|turn>user", true, true);
    EXPECT_EQ(ids.front(), tok.bos());
    EXPECT_EQ(tok.decode(std::span(ids).subspan(1), false), "hello world\n<|turn>user");
    EXPECT_TRUE(tok.start_of_turn().has_value());
    std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(
    AllMixes, SynthTinyFile,
    ::testing::Values(MixCase{"tiny-dense", QuantMix::F32}, MixCase{"tiny-dense", QuantMix::F16},
                      MixCase{"tiny-dense", QuantMix::Q8_0}, MixCase{"tiny-dense", QuantMix::Q4_0},
                      MixCase{"tiny-dense", QuantMix::Q4_K_M}, MixCase{"tiny-moe", QuantMix::F16},
                      MixCase{"tiny-moe", QuantMix::Q8_0}, MixCase{"tiny-moe", QuantMix::Q4_0},
                      MixCase{"tiny-moe", QuantMix::Q4_K_M}, MixCase{"tiny-ple", QuantMix::F16},
                      MixCase{"tiny-ple", QuantMix::Q8_0}, MixCase{"tiny-ple", QuantMix::Q4_0},
                      MixCase{"tiny-ple", QuantMix::Q4_K_M},
                      MixCase{"tiny-dense", QuantMix::Q5_K_M},
                      MixCase{"tiny-moe", QuantMix::Q5_K_M}),
    [](const ::testing::TestParamInfo<MixCase>& p) {
        std::string n =
            std::string(p.param.preset) + "_" + std::string(quant::quant_mix_name(p.param.mix));
        std::replace(n.begin(), n.end(), '-', '_');
        return n;
    });

// ---- type selection
// ------------------------------------------------------------------------------

// The fixtures were quantized by llama.cpp from f16 files of the same shapes (the tiny-dense ones
// are rebuilt by `vkllm quantize` at build time, checked against llama.cpp's sha256): every
// tensor's name, shape and type must match (the fixtures lack layer_output_scale on some layers).
TEST(SynthTypes, TensorTableEqualsLlamaCppQuantizedFixtures) {
    const std::array<std::pair<const char*, QuantMix>, 6> cases = {{
        {"tiny-dense", QuantMix::Q4_K_M},
        {"tiny-dense", QuantMix::Q5_K_M},
        {"tiny-dense", QuantMix::Q4_0},
        {"tiny-dense", QuantMix::Q8_0},
        {"tiny-moe", QuantMix::Q4_K_M},
        {"tiny-ple", QuantMix::Q8_0},
    }};
    for (const auto& [preset, mix] : cases) {
        const std::string file =
            std::string(preset) + "-" + std::string(quant::quant_mix_name(mix)) + ".gguf";
        SCOPED_TRACE(file);
        const GgufFile f = GgufFile::open(k_models / file);
        const synth::SynthPlan plan = synth::plan_synthetic_gemma4(spec_of(preset, mix));
        size_t matched = 0;
        for (const synth::PlannedTensor& t : plan.tensors) {
            const TensorInfo* ft = f.find_tensor(t.name);
            if (ft == nullptr) {
                EXPECT_NE(t.name.find("layer_output_scale"), std::string::npos) << t.name;
                continue;
            }
            ++matched;
            EXPECT_EQ(t.type, ft->type)
                << t.name << ": " << traits_of(t.type).name << " vs " << traits_of(ft->type).name;
            for (size_t d = 0; d < 4; ++d) {
                EXPECT_EQ(d < t.ne.size() ? t.ne[d] : 1, ft->ne[d]) << t.name << " dim " << d;
            }
        }
        EXPECT_EQ(matched, f.tensors().size());
    }
}

TEST(SynthTypes, Q4KMRulesAndFallbacks) {
    const auto dense = synth::plan_synthetic_gemma4(spec_of("tiny-dense", QuantMix::Q4_K_M));
    // attn_v exists on the 4 sliding layers 0,1,2,4: use_more_bits picks indices 2 and 3.
    EXPECT_EQ(type_of(dense, "blk.0.attn_v.weight"), GgmlType::Q4_K);
    EXPECT_EQ(type_of(dense, "blk.2.attn_v.weight"), GgmlType::Q6_K);
    EXPECT_EQ(type_of(dense, "blk.4.attn_v.weight"), GgmlType::Q6_K);
    EXPECT_EQ(type_of(dense, "blk.2.ffn_down.weight"), GgmlType::Q6_K);
    EXPECT_EQ(type_of(dense, "blk.3.ffn_down.weight"), GgmlType::Q4_K);
    EXPECT_EQ(type_of(dense, "blk.5.ffn_down.weight"), GgmlType::Q6_K);
    EXPECT_EQ(type_of(dense, "token_embd.weight"), GgmlType::Q6_K);
    EXPECT_EQ(type_of(dense, "blk.0.attn_norm.weight"), GgmlType::F32);
    EXPECT_EQ(type_of(dense, "rope_freqs.weight"), GgmlType::F32);

    const auto moe = synth::plan_synthetic_gemma4(spec_of("tiny-moe", QuantMix::Q4_K_M));
    // Expert width 192 is not a multiple of 256: Q4_K falls back to Q5_0, Q6_K to Q8_0.
    EXPECT_EQ(type_of(moe, "blk.0.ffn_down_exps.weight"), GgmlType::Q5_0);
    EXPECT_EQ(type_of(moe, "blk.2.ffn_down_exps.weight"), GgmlType::Q8_0);
    EXPECT_EQ(type_of(moe, "blk.0.attn_output.weight"), GgmlType::Q5_K);  // 8 experts
    EXPECT_EQ(type_of(moe, "blk.0.attn_k.weight"), GgmlType::Q8_0);
    EXPECT_EQ(type_of(moe, "blk.0.ffn_gate_inp.weight"), GgmlType::F16);  // router: not quantized

    const auto b26 = synth::plan_synthetic_gemma4(spec_of("26b-a4b", QuantMix::Q4_K_M));
    // 128 experts: no 8-expert bump; shared-MLP down (2112) and expert down (704) fall back.
    EXPECT_EQ(type_of(b26, "blk.0.attn_k.weight"), GgmlType::Q4_K);
    EXPECT_EQ(type_of(b26, "blk.0.ffn_down.weight"), GgmlType::Q8_0);  // Q6_K -> Q8_0
    EXPECT_EQ(type_of(b26, "blk.3.ffn_down.weight"), GgmlType::Q5_0);  // Q4_K -> Q5_0
    EXPECT_EQ(type_of(b26, "blk.3.ffn_down_exps.weight"), GgmlType::Q5_0);
    EXPECT_EQ(type_of(b26, "blk.3.ffn_gate_up_exps.weight"), GgmlType::Q4_K);

    const auto q4_0 = synth::plan_synthetic_gemma4(spec_of("tiny-ple", QuantMix::Q4_0));
    EXPECT_EQ(type_of(q4_0, "token_embd.weight"), GgmlType::Q6_K);
    EXPECT_EQ(type_of(q4_0, "per_layer_token_embd.weight"), GgmlType::Q8_0);  // 192: Q6_K -> Q8_0
    EXPECT_EQ(type_of(q4_0, "per_layer_model_proj.weight"), GgmlType::F16);
    EXPECT_EQ(type_of(q4_0, "blk.0.proj.weight"), GgmlType::Q4_0);
}

// The K-quant fallback type: bit-exact with llama.cpp's quantize_row_q5_0_ref rules (signed
// absmax scale d = max / -16, codes trunc(x / d + 16.5) clamped to 31, bit 4 of code j in qh bit
// j).
TEST(SynthTypes, Q5_0QuantizerMatchesHandBuiltBlocks) {
    std::vector<float> x(32);
    for (int i = 0; i < 32; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i - 16);
    const std::vector<std::byte> q = quant::quantize_row(GgmlType::Q5_0, x);
    ASSERT_EQ(q.size(), 22u);
    std::array<uint8_t, 22> want{0x00, 0x3C, 0x00, 0x00, 0xFF, 0xFF};  // d = 1.0, codes = i
    for (size_t j = 0; j < 16; ++j) want[6 + j] = static_cast<uint8_t>(j * 0x11);
    for (size_t i = 0; i < 22; ++i) EXPECT_EQ(std::to_integer<uint8_t>(q[i]), want[i]) << i;

    // Largest magnitude positive: d = -1, codes 31 - i, still exact after decoding.
    for (int i = 0; i < 32; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i - 15);
    std::vector<float> y(32);
    dequantize_row(GgmlType::Q5_0, quant::quantize_row(GgmlType::Q5_0, x), y);
    EXPECT_EQ(x, y);
}

// ---- shapes -------------------------------------------------------------------------------------

TEST(SynthShapes, ReleasedPresetsHaveTheirNominalSize) {
    // Total parameters including embeddings (and PLE tables for the E models), in billions.
    const std::array<std::pair<const char*, std::pair<double, double>>, 5> sizes = {{
        {"31b", {30.0, 32.0}},
        {"26b-a4b", {24.5, 27.0}},
        {"12b", {11.0, 13.0}},
        {"e4b", {7.0, 8.5}},
        {"e2b", {4.5, 5.5}},
    }};
    for (const auto& [preset, range] : sizes) {
        const auto plan = synth::plan_synthetic_gemma4(spec_of(preset, QuantMix::Q4_K_M));
        double n = 0;
        for (const auto& t : plan.tensors) n += static_cast<double>(t.n_elements());
        EXPECT_GE(n / 1e9, range.first) << preset;
        EXPECT_LE(n / 1e9, range.second) << preset;
    }
}

TEST(SynthShapes, LayerOverrideKeepsAValidKvSplit) {
    for (uint32_t layers : {1u, 2u, 3u, 5u, 8u, 10u, 12u}) {
        SynthSpec s = spec_of("e2b", QuantMix::Q8_0);
        s.n_layer = layers;
        const auto plan = synth::plan_synthetic_gemma4(s);
        const synth::Gemma4Shape& sh = plan.shape;
        SCOPED_TRACE("layers " + std::to_string(layers) + ", shared " +
                     std::to_string(sh.n_shared_kv_layers));
        EXPECT_EQ(sh.n_layer, layers);
        EXPECT_FALSE(sh.is_sliding(layers - 1));  // the last layer is always full
        if (sh.n_shared_kv_layers > 0) {
            EXPECT_FALSE(sh.is_sliding(sh.n_kv_start() - 1));
            EXPECT_TRUE(sh.is_sliding(sh.n_kv_start() - 2));
        }
    }
    SynthSpec s = spec_of("e2b", QuantMix::Q8_0);
    s.n_layer = 10;  // full at 4 and 9: 20/35 of 10 is ~6 shared, so KV layers 0..4
    EXPECT_EQ(synth::plan_synthetic_gemma4(s).shape.n_shared_kv_layers, 5u);
}

// For the lead's split-binding test: one tensor above 40 MB with a tiny model.
TEST(SynthShapes, LargeEmbeddingPresetForSplitBinding) {
    SynthSpec s = spec_of("tiny-dense", QuantMix::F32);
    s.n_vocab = 40000;
    const auto plan = synth::plan_synthetic_gemma4(s);
    const auto& e = find(plan, "token_embd.weight");
    EXPECT_EQ(e.type, GgmlType::F32);
    EXPECT_EQ(row_bytes(e.type, e.ne[0]) * e.n_rows(), 40000u * 256u * 4u);
}

// ---- reproducibility ----------------------------------------------------------------------------

TEST(SynthFiles, SameSeedSameBytesWhateverTheThreadCount) {
    SynthSpec a = spec_of("tiny-moe", QuantMix::Q4_K_M, 7);
    a.n_layer = 2;  // keeps the three writes fast; token_embd still takes the threaded path
    a.n_threads = 1;
    SynthSpec b = a;
    b.n_threads = 3;
    SynthSpec c = a;
    c.seed = 8;
    synth::write_synthetic_gemma4(a, temp_path("seed_a"));
    synth::write_synthetic_gemma4(b, temp_path("seed_b"));
    synth::write_synthetic_gemma4(c, temp_path("seed_c"));
    const auto ba = file_bytes(temp_path("seed_a"));
    EXPECT_EQ(ba, file_bytes(temp_path("seed_b")));
    const auto bc = file_bytes(temp_path("seed_c"));
    ASSERT_EQ(ba.size(), bc.size());  // the seed only changes values (and the description)
    EXPECT_NE(ba, bc);
    for (const char* n : {"seed_a", "seed_b", "seed_c"}) std::filesystem::remove(temp_path(n));
}

TEST(SynthFiles, WeightsHaveTheDocumentedStatistics) {
    const auto path = temp_path("stats");
    synth::write_synthetic_gemma4(spec_of("tiny-dense", QuantMix::F32), path);
    const GgufFile f = GgufFile::open(path);
    const auto stats = [&](const char* name) {
        const TensorInfo& t = *f.find_tensor(name);
        std::vector<float> v(t.n_elements());
        std::memcpy(v.data(), f.data(t).data(), v.size() * sizeof(float));
        double s = 0, s2 = 0;
        for (float x : v) {
            s += double{x};
            s2 += double{x} * double{x};
        }
        const double mean = s / static_cast<double>(v.size());
        return std::pair{mean, std::sqrt(s2 / static_cast<double>(v.size()) - mean * mean)};
    };
    const auto [qm, qs] = stats("blk.0.attn_q.weight");  // N(0, 1/256)
    EXPECT_NEAR(qm, 0.0, 0.002);
    EXPECT_NEAR(qs, 1.0 / 16, 0.002);
    const auto [nm, ns] = stats("blk.0.attn_norm.weight");  // N(1, 0.2^2)
    EXPECT_NEAR(nm, 1.0, 0.05);
    EXPECT_NEAR(ns, 0.2, 0.04);
    const auto [km, ks] = stats("blk.3.attn_k_norm.weight");  // ~ 256^-1/4
    EXPECT_NEAR(km, 0.25, 0.02);
    const TensorInfo& rf = *f.find_tensor("rope_freqs.weight");  // 32 of 128 pairs rotate
    std::vector<float> r(rf.n_elements());
    std::memcpy(r.data(), f.data(rf).data(), r.size() * sizeof(float));
    EXPECT_EQ(r[31], 1.0f);
    EXPECT_EQ(r[32], 1e30f);
    std::filesystem::remove(path);
}

// ---- the model computes something sensible
// -------------------------------------------------------

double entropy(const float* z, size_t n) {
    double m = -1e300;
    for (size_t i = 0; i < n; ++i) m = std::max(m, double{z[i]});
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += std::exp(double{z[i]} - m);
    double h = 0;
    for (size_t i = 0; i < n; ++i) {
        const double p = std::exp(double{z[i]} - m) / s;
        if (p > 0) h -= p * std::log(p);
    }
    return h;
}

class SynthForward : public ::testing::TestWithParam<const char*> {};

TEST_P(SynthForward, LogitsAreFiniteAndNotDegenerate) {
    const auto path = temp_path(std::string("fwd_") + GetParam());
    synth::write_synthetic_gemma4(spec_of(GetParam(), QuantMix::Q8_0, 3), path);
    const GgufFile f = GgufFile::open(path);
    const reference::Gemma4Reference model(f);
    const std::vector<int32_t> tokens = {2, 400, 401, 402, 403, 404, 405, 406};
    const std::vector<float> logits = model.forward(tokens);
    const size_t V = model.config().n_vocab;
    ASSERT_EQ(logits.size(), V * tokens.size());
    for (float z : logits) ASSERT_TRUE(std::isfinite(z));
    // Random tied-embedding models tend to echo the input token, so single positions can be
    // sharp; a degenerate model (all logits equal, or one-hot everywhere) fails these bounds.
    const double log_v = std::log(static_cast<double>(V));
    double mean_h = 0;
    for (size_t t = 0; t < tokens.size(); ++t) {
        const double h = entropy(logits.data() + t * V, V);
        SCOPED_TRACE("position " + std::to_string(t) + " entropy " + std::to_string(h));
        EXPECT_GT(h, 0.01);
        EXPECT_LT(h, 0.95 * log_v);
        mean_h += h / static_cast<double>(tokens.size());
    }
    EXPECT_GT(mean_h, 0.5);
    EXPECT_LT(mean_h, 0.75 * log_v);
    std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(TinyPresets, SynthForward,
                         ::testing::Values("tiny-dense", "tiny-moe", "tiny-ple"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                             std::string n = p.param;
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

// ---- layout variants: split expert gate/up, untied head -----------------------------------------

SynthSpec layout_spec(const std::string& preset, QuantMix mix, bool split, bool untied) {
    SynthSpec s = spec_of(preset, mix, 5);
    s.split_expert_gate_up = split;
    s.untied_head = untied;
    return s;
}

bool has(const synth::SynthPlan& plan, const std::string& name) {
    return std::any_of(plan.tensors.begin(), plan.tensors.end(),
                       [&](const synth::PlannedTensor& t) { return t.name == name; });
}

TEST(SynthLayout, SplitExpertsAndUntiedHeadTensorTables) {
    const auto base =
        synth::plan_synthetic_gemma4(layout_spec("tiny-moe", QuantMix::Q4_K_M, false, false));
    const auto var =
        synth::plan_synthetic_gemma4(layout_spec("tiny-moe", QuantMix::Q4_K_M, true, true));
    // Six MoE layers each trade one fused tensor for two; plus the head.
    EXPECT_EQ(var.tensors.size(), base.tensors.size() + 6 + 1);
    for (int l = 0; l < 6; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        SCOPED_TRACE(b);
        EXPECT_TRUE(has(base, b + "ffn_gate_up_exps.weight"));
        EXPECT_FALSE(has(var, b + "ffn_gate_up_exps.weight"));
        for (const char* part : {"ffn_gate_exps", "ffn_up_exps"}) {
            const synth::PlannedTensor& t = find(var, b + part + ".weight");
            EXPECT_EQ(t.ne, (std::vector<uint64_t>{256, 192, 8}));
            EXPECT_EQ(t.type, GgmlType::Q4_K);            // gate/up categories: the default type
            EXPECT_FALSE(has(var, b + part + ".scale"));  // the fused tensor has none either
        }
        EXPECT_TRUE(has(var, b + "ffn_down_exps.scale"));
    }
    const synth::PlannedTensor& head = find(var, "output.weight");
    EXPECT_EQ(head.ne, (std::vector<uint64_t>{256, 4096}));
    EXPECT_EQ(head.type, GgmlType::Q6_K);
    EXPECT_EQ(type_of(base, "token_embd.weight"), GgmlType::Q6_K);  // tied: the head's type
    EXPECT_EQ(type_of(var, "token_embd.weight"), GgmlType::Q4_K);   // untied: the default
    // llama.cpp's order: non-layer tensors by name, so output.weight precedes output_norm.
    EXPECT_EQ(var.tensors[0].name, "output.weight");
    // Every other tensor keeps its name, shape and type.
    for (const synth::PlannedTensor& t : base.tensors) {
        if (t.name == "token_embd.weight" || t.name.find("gate_up_exps") != std::string::npos) {
            continue;
        }
        EXPECT_EQ(find(var, t.name).type, t.type) << t.name;
        EXPECT_EQ(find(var, t.name).ne, t.ne) << t.name;
    }

    // The head rule in the other mixes; per_layer_token_embd leaves the head category too.
    const auto q8 =
        synth::plan_synthetic_gemma4(layout_spec("tiny-moe", QuantMix::Q8_0, true, true));
    EXPECT_EQ(type_of(q8, "output.weight"), GgmlType::Q8_0);
    EXPECT_EQ(type_of(q8, "token_embd.weight"), GgmlType::Q8_0);
    EXPECT_EQ(type_of(q8, "blk.0.ffn_up_exps.weight"), GgmlType::Q8_0);
    const auto f16 =
        synth::plan_synthetic_gemma4(layout_spec("tiny-moe", QuantMix::F16, true, true));
    EXPECT_EQ(type_of(f16, "output.weight"), GgmlType::F16);
    const auto ple =
        synth::plan_synthetic_gemma4(layout_spec("tiny-ple", QuantMix::Q4_0, false, true));
    EXPECT_EQ(type_of(ple, "output.weight"), GgmlType::Q6_K);
    EXPECT_EQ(type_of(ple, "token_embd.weight"), GgmlType::Q4_0);
    EXPECT_EQ(type_of(ple, "per_layer_token_embd.weight"), GgmlType::Q4_0);  // 192 fits Q4_0
    const auto ple_k =
        synth::plan_synthetic_gemma4(layout_spec("tiny-ple", QuantMix::Q4_K_M, false, true));
    EXPECT_EQ(type_of(ple_k, "per_layer_token_embd.weight"), GgmlType::Q5_0);  // Q4_K -> Q5_0
    const auto b26 =
        synth::plan_synthetic_gemma4(layout_spec("26b-a4b", QuantMix::Q4_K_M, true, true));
    EXPECT_EQ(find(b26, "blk.3.ffn_up_exps.weight").ne, (std::vector<uint64_t>{2816, 704, 128}));
    EXPECT_EQ(type_of(b26, "blk.3.ffn_up_exps.weight"), GgmlType::Q4_K);
    EXPECT_EQ(type_of(b26, "output.weight"), GgmlType::Q6_K);
    EXPECT_EQ(type_of(b26, "token_embd.weight"), GgmlType::Q4_K);
}

// A split file holds exactly the fused file's expert rows (gate = rows 0..F-1 of each expert, up =
// F..2F-1), binds the separate tensors and the head, and the CPU reference gives it the fused
// file's logits: its split path agrees with the fused path that matches llama.cpp.
TEST(SynthLayout, SplitFileIsTheFusedModel) {
    const auto fused_path = temp_path("layout_fused");
    const auto split_path = temp_path("layout_split");
    SynthSpec fs = layout_spec("tiny-moe", QuantMix::Q8_0, false, true);
    fs.n_layer = 2;
    SynthSpec ss = fs;
    ss.split_expert_gate_up = true;
    synth::write_synthetic_gemma4(fs, fused_path);
    synth::write_synthetic_gemma4(ss, split_path);
    const GgufFile fused = GgufFile::open(fused_path);
    const GgufFile split = GgufFile::open(split_path);
    const Gemma4Config cfg = Gemma4Config::from_gguf(split);
    EXPECT_FALSE(cfg.tied_output);
    const Gemma4WeightsView w = Gemma4WeightsView::bind(split, cfg);
    ASSERT_NE(w.output, nullptr);
    EXPECT_EQ(&w.lm_head(), w.output);

    const uint64_t F = cfg.n_ff_expert, E = cfg.n_expert;
    for (uint32_t l = 0; l < cfg.n_layer; ++l) {
        SCOPED_TRACE("layer " + std::to_string(l));
        ASSERT_EQ(w.layers[l].ffn_gate_up_exps, nullptr);
        ASSERT_NE(w.layers[l].ffn_gate_exps, nullptr);
        ASSERT_NE(w.layers[l].ffn_up_exps, nullptr);
        const std::string b = "blk." + std::to_string(l) + ".";
        const TensorInfo& gu = *fused.find_tensor(b + "ffn_gate_up_exps.weight");
        const std::span<const std::byte> gu_bytes = fused.data(gu);
        const size_t rb = row_bytes(gu.type, gu.ne[0]);
        for (const auto& [part, offset] :
             {std::pair{"ffn_gate_exps", uint64_t{0}}, std::pair{"ffn_up_exps", F}}) {
            const TensorInfo& t = *split.find_tensor(b + part + ".weight");
            ASSERT_EQ(t.type, gu.type);
            const std::span<const std::byte> bytes = split.data(t);
            for (uint64_t e = 0; e < E; ++e) {
                const auto want = gu_bytes.subspan((e * 2 * F + offset) * rb, F * rb);
                const auto got = bytes.subspan(e * F * rb, F * rb);
                EXPECT_TRUE(std::equal(want.begin(), want.end(), got.begin()))
                    << part << " expert " << e;
            }
        }
    }

    const std::vector<int32_t> tokens = {2, 400, 517, 402, 1200, 404, 88, 3000};
    const std::vector<float> a = reference::Gemma4Reference(fused).forward(tokens);
    const std::vector<float> b = reference::Gemma4Reference(split).forward(tokens);
    ASSERT_EQ(a.size(), b.size());
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double{a[i]} - double{b[i]}));
    std::cout << "[ info     ] reference, split vs fused experts: max |logit diff| " << d << "\n";
    EXPECT_LE(d, 1e-4);  // the same values; only the GLU's evaluation order may differ
    std::filesystem::remove(fused_path);
    std::filesystem::remove(split_path);
}

// ---- vocabulary and errors ----------------------------------------------------------------------

TEST(SynthVocab, CopiesAFixtureVocabulary) {
    SynthSpec s = spec_of("tiny-dense", QuantMix::F16);
    s.vocab_file = k_models / "tiny-dense-q8_0.gguf";
    s.n_layer = 2;
    const auto path = temp_path("vocab_copy");
    synth::write_synthetic_gemma4(s, path);
    const GgufFile ours = GgufFile::open(path);
    const GgufFile theirs = GgufFile::open(s.vocab_file);
    EXPECT_EQ(ours.get_string("tokenizer.chat_template"),
              theirs.get_string("tokenizer.chat_template"));
    const Tokenizer a = Tokenizer::from_gguf(ours);
    const Tokenizer b = Tokenizer::from_gguf(theirs);
    const std::string text = "The quick brown fox <|turn>model\n jumps";
    EXPECT_EQ(a.encode(text, true, true), b.encode(text, true, true));
    EXPECT_EQ(a.merge_count(), b.merge_count());
    EXPECT_EQ(Gemma4Config::from_gguf(ours).n_layer, 2u);
    std::filesystem::remove(path);
}

TEST(SynthErrors, BadSpecsFailClearlyAndLeaveNoFile) {
    const auto path = temp_path("bad");
    const auto expect_error = [&](SynthSpec s, const std::string& part) {
        try {
            synth::write_synthetic_gemma4(s, path);
            ADD_FAILURE() << "no error for " << part;
        } catch (const std::exception& e) {
            EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
        }
        EXPECT_FALSE(std::filesystem::exists(path));
    };
    expect_error(spec_of("70b", QuantMix::F16), "unknown preset '70b' (known: tiny-dense");
    SynthSpec s = spec_of("tiny-dense", QuantMix::F16);
    s.n_layer = 0;
    expect_error(s, "must be 1..1024, got 0");
    s.n_layer = 4'000'000'000u;  // must fail at once, not loop over the layers
    expect_error(s, "must be 1..1024, got 4000000000");
    s = spec_of("tiny-dense", QuantMix::F16);
    s.n_vocab = 100;
    expect_error(s, "below the 272 tokens");
    s.n_vocab = 20'000'000;
    expect_error(s, "must be 1..16777216");
    s = spec_of("tiny-dense", QuantMix::F16);
    s.n_threads = 1000;
    expect_error(s, "above the limit of 256");
    s = spec_of("tiny-dense", QuantMix::F16);
    s.vocab_file = k_models / "no-such-file.gguf";
    expect_error(s, "does not exist");
    s.vocab_file = k_models / "tiny-dense-q8_0.gguf";
    s.n_vocab = 5000;
    expect_error(s, "conflicts with the 4096 tokens");
    s = spec_of("tiny-dense", QuantMix::F16);
    s.split_expert_gate_up = true;
    expect_error(s, "need an MoE preset (tiny-moe, 26b-a4b); 'tiny-dense' has no experts");
    // An output path that cannot be created.
    EXPECT_THROW(synth::write_synthetic_gemma4(spec_of("tiny-dense", QuantMix::F16),
                                               temp_path("no_dir") / "x.gguf"),
                 std::runtime_error);
}

}  // namespace
}  // namespace vkllm
