// vkllm pack (synth/trained_weights.h) and vkllm vocab-subset (synth/vocab_subset.h): trained f32
// tensors land in the GGUF unchanged (F32 mix) with the metadata of their config.json; a
// directory that does not match its shape fails with the file named; a corpus-fitted vocabulary
// subset is a tokenizer that round-trips its corpus with fewer tokens than a generic subset.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "loader/gemma4_config.h"
#include "loader/gguf_file.h"
#include "loader/tokenizer.h"
#include "synth/synth_model.h"
#include "synth/trained_weights.h"
#include "synth/vocab_subset.h"

namespace vkllm {
namespace {

const std::filesystem::path k_models = VKLLM_TEST_MODELS_DIR;

std::filesystem::path temp(const std::string& name) {
    return std::filesystem::path(::testing::TempDir()) / ("vkllm_pack_" + name);
}

const char* k_config = R"({"name": "test-trained", "n_layer": 3, "n_embd": 64, "n_ctx": 256,
    "n_vocab": 4096, "n_head": 2, "n_kv_head_swa": 1, "n_kv_head_full": 1, "head_dim_swa": 64,
    "head_dim_full": 128, "n_ff": 96, "full_period": 2, "full_has_v": false, "n_swa": 32,
    "n_expert": 0, "n_expert_used": 0, "n_ff_expert": 0, "rope_base_swa": 10000.0,
    "rope_base_full": 1000000.0, "partial_rotary_full": 0.25, "rms_eps": 1e-6,
    "final_softcap": 30.0})";

// Value i of tensor number t: distinct per tensor and element, exact in f32.
float value_of(size_t t, uint64_t i) {
    return static_cast<float>(t) + static_cast<float>(i % 1000) / 1024.0f;
}

// A trained-weights directory for `config`: every planned tensor with value_of() values.
std::filesystem::path write_trained_dir(const std::string& name, const char* config = k_config) {
    const auto dir = temp(name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.json") << config;
    const synth::Gemma4Shape shape = synth::read_trained_shape(dir);
    const auto plan = synth::plan_tensors(shape, {}, true);
    for (size_t t = 0; t < plan.size(); ++t) {
        std::vector<float> v(plan[t].n_elements());
        for (uint64_t i = 0; i < v.size(); ++i) v[i] = value_of(t, i);
        std::ofstream(dir / (plan[t].name + ".f32"), std::ios::binary)
            .write(reinterpret_cast<const char*>(v.data()),
                   static_cast<std::streamsize>(v.size() * sizeof(float)));
    }
    return dir;
}

synth::SynthSpec pack_spec(const std::filesystem::path& dir) {
    synth::SynthSpec spec;
    spec.weights_dir = dir;
    spec.vocab_file = k_models / "tiny-dense-q8_0.gguf";
    spec.quant = quant::QuantMix::F32;
    spec.description = "unit test";
    return spec;
}

TEST(TrainedPack, TensorsAndShapeLandUnchanged) {
    const auto dir = write_trained_dir("ok");
    const auto out = temp("ok.gguf");
    synth::write_synthetic_gemma4(pack_spec(dir), out);
    const GgufFile f = GgufFile::open(out);
    const Gemma4Config c = Gemma4Config::from_gguf(f);
    EXPECT_EQ(c.n_layer, 3u);
    EXPECT_EQ(c.n_embd, 64u);
    EXPECT_EQ(f.get_string("general.description"), "unit test");
    EXPECT_EQ(f.get_string("general.name"), "test-trained");
    const auto plan = synth::plan_tensors(synth::read_trained_shape(dir), {}, true);
    ASSERT_EQ(f.tensors().size(), plan.size());
    for (size_t t = 0; t < plan.size(); ++t) {
        const TensorInfo* info = f.find_tensor(plan[t].name);
        ASSERT_NE(info, nullptr) << plan[t].name;
        const auto bytes = f.data(*info);
        ASSERT_EQ(bytes.size(), plan[t].n_elements() * sizeof(float));
        for (uint64_t i = 0; i < plan[t].n_elements(); i += 97) {
            float v = 0.0f;
            std::memcpy(&v, bytes.data() + i * sizeof(float), sizeof v);
            ASSERT_EQ(v, value_of(t, i)) << plan[t].name << " element " << i;
        }
    }
    std::filesystem::remove(out);
}

TEST(TrainedPack, MismatchedDirectoriesFailNamingTheFile) {
    const auto out = temp("bad.gguf");
    const auto expect_error = [&](const synth::SynthSpec& spec, const std::string& part) {
        try {
            synth::write_synthetic_gemma4(spec, out);
            ADD_FAILURE() << "no error for " << part;
        } catch (const std::exception& e) {
            EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
        }
        EXPECT_FALSE(std::filesystem::exists(out));
    };
    auto dir = write_trained_dir("missing");
    std::filesystem::remove(dir / "blk.1.ffn_up.weight.f32");
    expect_error(pack_spec(dir), "blk.1.ffn_up.weight.f32: missing");

    dir = write_trained_dir("short");
    std::filesystem::resize_file(dir / "token_embd.weight.f32", 100);
    expect_error(pack_spec(dir), "token_embd.weight.f32: 100 bytes, the shape needs 262144");

    dir = write_trained_dir("extra");
    std::ofstream(dir / "blk.2.attn_v.weight.f32") << "x";  // a full layer has no attn_v here
    expect_error(pack_spec(dir), "blk.2.attn_v.weight.f32: not a tensor of this shape");

    dir = write_trained_dir("vocab");
    synth::SynthSpec spec = pack_spec(dir);
    spec.vocab_file = k_models / "vocab-gemma4.gguf";
    expect_error(spec, "has 262144 tokens, the weights were trained on 4096");
    spec.vocab_file.clear();
    expect_error(spec, "need the vocabulary they were trained with");
    spec = pack_spec(dir);
    spec.n_layer = 2;
    expect_error(spec, "only the context length can be set");

    std::ofstream(dir / "config.json") << "{\"name\": \"x\", \"n_layer\": -1}";
    expect_error(pack_spec(dir), "\"n_layer\" = -1 is out of range");
    std::ofstream(dir / "config.json") << "{\"name\": \"x\"}";
    expect_error(pack_spec(dir), "missing \"n_layer\"");
    std::ofstream(dir / "config.json") << "[1, 2";
    expect_error(pack_spec(dir), "config.json: not JSON");
    std::filesystem::remove(dir / "config.json");
    expect_error(pack_spec(dir), "cannot open (not a trained-weights directory?)");
}

// The fixture drafter's shape (shared/fixtures README: width 128, 2 layers S F, for tiny-dense).
const char* k_assistant_config = R"({"name": "tiny-assistant", "n_layer": 2, "n_embd": 128,
    "n_embd_out": 256, "n_ctx": 4096, "n_vocab": 4096, "n_head": 4, "n_kv_head_swa": 2,
    "n_kv_head_full": 1, "head_dim_swa": 128, "head_dim_full": 256, "n_ff": 256,
    "full_period": 2, "full_has_v": false, "n_swa": 16, "n_expert": 0, "n_expert_used": 0,
    "n_ff_expert": 0, "rope_base_swa": 10000.0, "rope_base_full": 1000000.0,
    "partial_rotary_full": 0.25, "rms_eps": 1e-6, "final_softcap": 0.0})";

TEST(TrainedPack, AssistantHasTheFixtureDrafterKeysAndTensors) {
    const auto dir = write_trained_dir("assistant", k_assistant_config);
    const auto out = temp("assistant.gguf");
    synth::SynthSpec spec = pack_spec(dir);
    spec.quant = quant::QuantMix::F16;
    synth::write_synthetic_gemma4(spec, out);
    const GgufFile ours = GgufFile::open(out);
    const GgufFile fixture = GgufFile::open(k_models / "tiny-dense-assistant-f16.gguf");
    EXPECT_EQ(ours.get_string("general.architecture"), "gemma4-assistant");
    size_t keys = 0;
    for (const GgufKv& kv : fixture.metadata()) {
        if (kv.key.rfind("gemma4-assistant.", 0) != 0) continue;
        ++keys;
        const GgufValue* v = ours.find(kv.key);
        ASSERT_NE(v, nullptr) << kv.key;
        EXPECT_EQ(v->type_description(), kv.value.type_description()) << kv.key;
        if (!kv.value.is_array()) {
            EXPECT_TRUE(
                std::equal(v->raw.begin(), v->raw.end(), kv.value.raw.begin(), kv.value.raw.end()))
                << kv.key;
        }
    }
    EXPECT_EQ(keys, 20u);
    EXPECT_EQ(ours.get_per_layer<bool>("gemma4-assistant.attention.sliding_window_pattern", 2),
              (std::vector<bool>{true, false}));
    ASSERT_EQ(ours.tensors().size(), fixture.tensors().size());
    for (const TensorInfo& t : fixture.tensors()) {
        const TensorInfo* o = ours.find_tensor(t.name);
        ASSERT_NE(o, nullptr) << t.name;
        EXPECT_EQ(o->ne, t.ne) << t.name;
        EXPECT_EQ(o->type, t.type) << t.name;
    }
    std::filesystem::remove(out);
}

TEST(VocabSubset, FitsItsCorpusAndRoundTrips) {
    const GgufFile full = GgufFile::open(k_models / "vocab-gemma4.gguf");
    const std::vector<std::string> corpus = {
        "In the beginning God created the heaven and the earth.\n"
        "And the earth was without form, and void; and darkness was upon the face of the deep.\n"
        "And God said, Let there be light: and there was light.\n",
        "<bos><|turn>user\nContinue:<turn|>\n<|turn>model\nAnd God saw the light.<turn|>\n"};
    const synth::VocabSubset subset = synth::choose_vocab_subset(full, corpus, 700);
    EXPECT_EQ(subset.kept.size(), 700u);
    const auto out = temp("vocab.gguf");
    synth::write_vocab_subset(full, subset, out);
    const Tokenizer small = Tokenizer::from_gguf(GgufFile::open(out));
    const Tokenizer big = Tokenizer::from_gguf(full);
    EXPECT_EQ(small.vocab_size(), 700u);
    EXPECT_EQ(small.token_text(small.bos()), "<bos>");
    EXPECT_EQ(small.token_text(small.eos()), "<eos>");
    ASSERT_TRUE(small.start_of_turn());
    EXPECT_EQ(small.token_text(*small.start_of_turn()), "<|turn>");
    for (const std::string& text : corpus) {
        const auto ids = small.encode(text, false, true);
        EXPECT_EQ(small.decode(ids, false), text);
        // Every word of the corpus is in the subset: the same pieces as the full vocabulary.
        const auto full_ids = big.encode(text, false, true);
        EXPECT_EQ(ids.size(), full_ids.size());
    }
    // Text outside the corpus still encodes (shorter merges, byte fallback) and round-trips.
    const std::string other = "Zebras \xE2\x82\xAC quantum";
    EXPECT_EQ(small.decode(small.encode(other, false, true), false), other);
    std::filesystem::remove(out);
    EXPECT_THROW((void)synth::choose_vocab_subset(full, corpus, 300), std::invalid_argument);
    EXPECT_THROW((void)synth::choose_vocab_subset(full, corpus, 300000), std::invalid_argument);
}

}  // namespace
}  // namespace vkllm
