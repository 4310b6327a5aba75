// vkllm quantize (quant/model_quantizer.h): the tiny-dense f16 fixture quantized in-process
// equals llama.cpp's llama-quantize output byte for byte in every mix (the build-time fixtures,
// which CMake checked against llama.cpp's sha256); on synthetic f16 models the types equal synth's
// own tables and the values round-trip within each type's error; the output layout (key order,
// tensor order, n_dims, alignment) follows llama-quantize; bad input fails clearly and leaves no
// file behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/gguf_file.h"
#include "loader/gguf_writer.h"
#include "loader/model_file_error.h"
#include "loader/quant_blocks.h"
#include "quant/model_quantizer.h"
#include "synth/synth_model.h"

namespace vkllm {
namespace {

using quant::QuantMix;

const std::filesystem::path k_models = VKLLM_TEST_MODELS_DIR;

std::filesystem::path temp_path(const std::string& name) {
    return std::filesystem::path(::testing::TempDir()) / ("vkllm_quantize_" + name + ".gguf");
}

std::vector<char> file_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Where two files first differ, in words: the header, or which tensor.
std::string first_difference(const std::filesystem::path& got, const std::filesystem::path& want) {
    const std::vector<char> a = file_bytes(got), b = file_bytes(want);
    const auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    if (ia == a.end() && ib == b.end()) return "";
    const uint64_t at = static_cast<uint64_t>(ia - a.begin());
    std::string where = "sizes " + std::to_string(a.size()) + " vs " + std::to_string(b.size()) +
                        ", first difference at byte " + std::to_string(at);
    const GgufFile f = GgufFile::open(want);
    if (at < f.data_offset()) return where + " (metadata or tensor infos)";
    for (const TensorInfo& t : f.tensors()) {
        const uint64_t begin = f.data_offset() + t.offset;
        if (at >= begin && at < begin + t.size_bytes) {
            return where + " (tensor '" + t.name + "', " + std::string(traits_of(t.type).name) +
                   ")";
        }
    }
    return where + " (padding)";
}

// ---- the llama.cpp fixtures ------------------------------------------------------------------

class QuantizeFixture : public ::testing::TestWithParam<QuantMix> {};

TEST_P(QuantizeFixture, EqualsLlamaQuantizeOutputByteForByte) {
    const std::string mix(quant::quant_mix_name(GetParam()));
    const auto dst = temp_path("fixture-" + mix);
    const quant::QuantizeSummary s =
        quant::quantize_gemma4_file(k_models / "tiny-dense-f16.gguf", dst, {GetParam(), 2});
    EXPECT_EQ(s.n_tensors, 83u);
    EXPECT_EQ(s.n_converted, 41u);  // every matrix; vectors stay f32
    EXPECT_EQ(first_difference(dst, k_models / ("tiny-dense-" + mix + ".gguf")), "");
    EXPECT_FALSE(std::filesystem::exists(dst.string() + ".tmp"));
    std::filesystem::remove(dst);
}

INSTANTIATE_TEST_SUITE_P(AllMixes, QuantizeFixture,
                         ::testing::Values(QuantMix::Q8_0, QuantMix::Q4_0, QuantMix::Q4_K_M,
                                           QuantMix::Q5_K_M),
                         [](const ::testing::TestParamInfo<QuantMix>& p) {
                             return std::string(quant::quant_mix_name(p.param));
                         });

// ---- synthetic f16 models --------------------------------------------------------------------

// Per-type bound on RMS(error) / RMS(value) for Gaussian rows (test_quant_vectors measures
// 0.0167 Q8_0, 0.072 Q4_K, 0.037 Q5_K, 0.018 Q6_K, 0.044 Q5_0; Q4_0 is a bit above Q4_K), with
// headroom; f16 input rounding adds ~3e-4.
double error_bound(GgmlType t) {
    switch (t) {
        case GgmlType::Q8_0:
            return 0.02;
        case GgmlType::Q6_K:
            return 0.025;
        case GgmlType::Q5_K:
        case GgmlType::Q5_1:
            return 0.05;
        case GgmlType::Q5_0:
            return 0.055;
        case GgmlType::Q4_K:
            return 0.09;
        case GgmlType::Q4_0:
            return 0.12;
        default:
            return 1e-6;  // kept unchanged
    }
}

std::vector<float> values_of(const GgufFile& f, const TensorInfo& t) {
    std::vector<float> out(t.n_elements());
    const size_t rb = row_bytes(t.type, t.ne[0]);
    for (uint64_t r = 0; r < out.size() / t.ne[0]; ++r) {
        dequantize_row(t.type, f.data(t).subspan(r * rb, rb),
                       std::span(out).subspan(r * t.ne[0], t.ne[0]));
    }
    return out;
}

void expect_round_trip(const GgufFile& src, const GgufFile& out) {
    for (const TensorInfo& q : out.tensors()) {
        const TensorInfo* s = src.find_tensor(q.name);
        ASSERT_NE(s, nullptr) << q.name;
        const std::vector<float> a = values_of(src, *s);
        const std::vector<float> b = values_of(out, q);
        double err = 0, ref = 0;
        for (size_t i = 0; i < a.size(); ++i) {
            const double x = a[i], d = x - static_cast<double>(b[i]);
            err += d * d;
            ref += x * x;
        }
        const double rel = std::sqrt(err / std::max(ref, 1e-30));
        EXPECT_LE(rel, error_bound(q.type)) << q.name << " (" << traits_of(q.type).name << ")";
    }
}

struct SynthCase {
    const char* preset;
    QuantMix mix;
};

class QuantizeSynth : public ::testing::TestWithParam<SynthCase> {};

// Types as synth assigns them to its own quantized files (the rules are shared, so this checks
// the quantizer's side: order, dimensions, source types); values within the type's error.
TEST_P(QuantizeSynth, TypesEqualSynthsTableAndValuesRoundTrip) {
    const SynthCase c = GetParam();
    const std::string tag = std::string(c.preset) + "-" + std::string(quant::quant_mix_name(c.mix));
    synth::SynthSpec spec;
    spec.preset = c.preset;
    spec.quant = QuantMix::F16;
    const auto src_path = temp_path(tag + "-f16");
    const auto dst = temp_path(tag);
    synth::write_synthetic_gemma4(spec, src_path);
    quant::quantize_gemma4_file(src_path, dst, {c.mix, 3});

    const GgufFile src = GgufFile::open(src_path);
    const GgufFile out = GgufFile::open(dst);
    spec.quant = c.mix;
    const synth::SynthPlan plan = synth::plan_synthetic_gemma4(spec);
    ASSERT_EQ(out.tensors().size(), plan.tensors.size());
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
        const synth::PlannedTensor& p = plan.tensors[i];
        const TensorInfo& t = out.tensors()[i];
        EXPECT_EQ(t.name, p.name);
        EXPECT_EQ(t.type, p.type) << p.name << ": " << traits_of(t.type).name << " vs "
                                  << traits_of(p.type).name;
        EXPECT_EQ(t.n_dims, p.ne.size()) << p.name;
    }
    EXPECT_EQ(out.get_u32("general.file_type"), quant::file_type_of(c.mix));
    expect_round_trip(src, out);
    std::filesystem::remove(src_path);
    std::filesystem::remove(dst);
}

INSTANTIATE_TEST_SUITE_P(Mixes, QuantizeSynth,
                         ::testing::Values(SynthCase{"tiny-moe", QuantMix::Q4_K_M},
                                           SynthCase{"tiny-moe", QuantMix::Q5_K_M},
                                           SynthCase{"tiny-ple", QuantMix::Q4_K_M},
                                           SynthCase{"tiny-ple", QuantMix::Q8_0},
                                           SynthCase{"tiny-dense", QuantMix::Q4_0}),
                         [](const ::testing::TestParamInfo<SynthCase>& p) {
                             std::string n = std::string(p.param.preset) + "_" +
                                             std::string(quant::quant_mix_name(p.param.mix));
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

TEST(Quantize, SameBytesForAnyThreadCount) {
    const auto a = temp_path("threads-1"), b = temp_path("threads-4");
    quant::quantize_gemma4_file(k_models / "tiny-dense-f16.gguf", a, {QuantMix::Q4_K_M, 1});
    quant::quantize_gemma4_file(k_models / "tiny-dense-f16.gguf", b, {QuantMix::Q4_K_M, 4});
    EXPECT_EQ(first_difference(a, b), "");
    std::filesystem::remove(a);
    std::filesystem::remove(b);
}

// ---- output layout on a hand-built source -----------------------------------------------------

// A minimal Gemma 4-tagged file: alignment 64 recorded mid-list, an old general.file_type, a bf16
// matrix, a matrix stored with a trailing 1 dimension, tensors out of llama.cpp's order.
std::filesystem::path write_small_source(const std::string& arch) {
    GgufWriter w(64);
    w.add_string("general.architecture", arch);
    w.add_u32("general.file_type", 1);
    w.add_u32("general.alignment", 64);
    w.add_u32("gemma4.block_count", 1);
    std::vector<std::byte> bf16(64 * 2 * 2), f32(64 * 2 * 4), norm(64 * 4);
    for (size_t i = 0; i < bf16.size(); i += 2) bf16[i + 1] = std::byte{0x3f};  // 0.5 .. 0.99
    for (size_t i = 0; i < f32.size(); i += 4) f32[i + 3] = std::byte{0x3f};
    w.add_tensor("blk.0.ffn_down.weight", GgmlType::BF16, {64, 2}, bf16);
    w.add_tensor("blk.0.attn_q.weight", GgmlType::F32, {64, 2, 1}, f32);
    w.add_tensor("output_norm.weight", GgmlType::F32, {64}, norm);
    const auto path = temp_path("small-" + arch);
    w.write_file(path);
    return path;
}

TEST(Quantize, OutputLayoutFollowsLlamaQuantize) {
    const auto src = write_small_source("gemma4");
    const auto dst = temp_path("small-out");
    quant::quantize_gemma4_file(src, dst, {QuantMix::Q8_0, 1});
    const GgufFile f = GgufFile::open(dst);
    std::vector<std::string> keys;
    for (const GgufKv& kv : f.metadata()) keys.emplace_back(kv.key);
    EXPECT_EQ(keys, (std::vector<std::string>{"general.architecture", "general.alignment",
                                              "gemma4.block_count", "general.quantization_version",
                                              "general.file_type"}));
    EXPECT_EQ(f.get_u32("general.file_type"), 7u);
    EXPECT_EQ(f.alignment(), 64u);
    ASSERT_EQ(f.tensors().size(), 3u);
    EXPECT_EQ(f.tensors()[0].name, "output_norm.weight");  // non-layer tensors first
    EXPECT_EQ(f.tensors()[0].type, GgmlType::F32);
    EXPECT_EQ(f.tensors()[1].name, "blk.0.attn_q.weight");
    EXPECT_EQ(f.tensors()[1].type, GgmlType::Q8_0);
    EXPECT_EQ(f.tensors()[1].n_dims, 2u);  // as ggml counts them
    EXPECT_EQ(f.tensors()[2].name, "blk.0.ffn_down.weight");
    EXPECT_EQ(f.tensors()[2].type, GgmlType::Q8_0);  // from bf16
    const GgufFile s = GgufFile::open(src);
    expect_round_trip(s, f);
    std::filesystem::remove(src);
    std::filesystem::remove(dst);
}

// ---- bad input ------------------------------------------------------------------------------

template <typename E>
void expect_error(const std::filesystem::path& src, const std::filesystem::path& dst, QuantMix mix,
                  const std::string& needle) {
    try {
        quant::quantize_gemma4_file(src, dst, {mix, 1});
        ADD_FAILURE() << "no error; expected '" << needle << "'";
    } catch (const E& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    if (dst != src) {
        EXPECT_FALSE(std::filesystem::exists(dst)) << dst;
    }
    EXPECT_FALSE(std::filesystem::exists(dst.string() + ".tmp")) << dst;
}

TEST(Quantize, BadInputFailsClearlyAndLeavesNoFile) {
    const auto f16 = k_models / "tiny-dense-f16.gguf";
    const auto dst = temp_path("bad");
    expect_error<std::invalid_argument>(f16, dst, QuantMix::F16,
                                        "use q8_0, q4_0, q4_k_m or q5_k_m");
    expect_error<std::invalid_argument>(k_models / "tiny-dense-q8_0.gguf", dst, QuantMix::Q4_0,
                                        "tensor 'token_embd.weight' is already q8_0");
    expect_error<ModelFileError>(k_models / "no-such-model.gguf", dst, QuantMix::Q4_0,
                                 "does not exist");
    expect_error<std::invalid_argument>(f16, f16, QuantMix::Q8_0, "is the source file");
    expect_error<std::runtime_error>(f16, temp_path("no-such-dir") / "x.gguf", QuantMix::Q8_0,
                                     "cannot write");
    const auto llama = write_small_source("llama");
    expect_error<std::invalid_argument>(llama, dst, QuantMix::Q8_0, "is 'llama', not 'gemma4'");
    std::filesystem::remove(llama);
    EXPECT_TRUE(std::filesystem::exists(f16));
}

}  // namespace
}  // namespace vkllm
