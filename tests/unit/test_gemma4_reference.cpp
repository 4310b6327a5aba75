// The Gemma 4 CPU reference forward against llama.cpp's CPU outputs on the tiny fixture models,
// by teacher forcing (tests/fixtures/README in shared/fixtures, "How to compare"): feed
// prompt_tokens + tokens[:-1] and compare the log-softmax at each of the 32 generated positions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/gguf_file.h"
#include "reference/gemma4_forward.h"
#include "tests/support/compare.h"

namespace vkllm {
namespace {

using test::log_softmax;

using reference::Gemma4Reference;

const std::string k_fixtures = VKLLM_TEST_FIXTURES_DIR;

// One llama.cpp reference run to compare against. Log-prob tolerances (README "How to compare"):
// `p95` is the README bound (0.25 for q8_0 weights, 0.5 for q4_k_m) applied to the 95th
// percentile; `max` bounds the worst entry. Why not the README bound on the max: llama.cpp's CPU
// backend quantises activations to 8 bits before every quantized matmul, so it is itself ~0.3
// from exact math on these random models (the same CPU run differs from llama.cpp's Vulkan run,
// which keeps f32 activations, by 0.36 on q4_k_m; this reference differs from that Vulkan run by
// only 0.07). In MoE models that noise also flips experts where two router logits are within
// ~0.01 of each other, which moves a few low-probability log-probs by up to ~2.6.
struct RefCheck {
    const char* json;  // tests/fixtures/reference/generation/<json>.json
    double p95;
    double max;
};

struct Case {
    const char* model;  // tests/fixtures/models/<model>.gguf
    std::vector<RefCheck> refs;
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.model;
}

nlohmann::json load_json(const std::string& name) {
    std::ifstream in(k_fixtures + "/reference/generation/" + name + ".json");
    if (!in) throw std::runtime_error("missing reference " + name);
    return nlohmann::json::parse(in);
}

class Gemma4ReferenceTeacherForcing : public ::testing::TestWithParam<Case> {};

TEST_P(Gemma4ReferenceTeacherForcing, MatchesLlamaCpp) {
    const Case& c = GetParam();
    const GgufFile file = GgufFile::open(k_fixtures + "/models/" + c.model + ".gguf");
    const Gemma4Reference model(file);
    const size_t V = model.config().n_vocab;
    std::vector<nlohmann::json> refs;
    for (const RefCheck& rc : c.refs) refs.push_back(load_json(rc.json));
    std::vector<std::vector<double>> errs(c.refs.size());

    constexpr size_t k_prompts = 2;  // the first two prompts keep the suite fast
    for (size_t p = 0; p < k_prompts; ++p) {
        // All runs of one model share prompts and greedy tokens, so one forward serves them all.
        const nlohmann::json& r0 = refs[0].at("results").at(p);
        SCOPED_TRACE("prompt " + std::to_string(p) + ": " + r0.at("prompt").get<std::string>());
        std::vector<int32_t> tokens = r0.at("prompt_tokens").get<std::vector<int32_t>>();
        const auto generated = r0.at("tokens").get<std::vector<int32_t>>();
        const size_t n_prompt = tokens.size();
        tokens.insert(tokens.end(), generated.begin(), generated.end() - 1);
        const std::vector<float> logits = model.forward(tokens);
        ASSERT_EQ(logits.size(), V * tokens.size());

        for (size_t j = 0; j < refs.size(); ++j) {
            SCOPED_TRACE(c.refs[j].json);
            const nlohmann::json& r = refs[j].at("results").at(p);
            ASSERT_EQ(r.at("tokens").get<std::vector<int32_t>>(), generated);
            const nlohmann::json& steps = r.at("steps");
            size_t greedy_match = steps.size();  // free greedy = teacher forcing to 1st mismatch
            for (size_t i = 0; i < steps.size(); ++i) {
                const std::vector<double> lp = log_softmax(&logits[(n_prompt - 1 + i) * V], V);
                const nlohmann::json& top = steps[i].at("top");
                const auto argmax =
                    static_cast<size_t>(std::max_element(lp.begin(), lp.end()) - lp.begin());
                const auto ref_top1 = top[0][0].get<size_t>();
                if (argmax != ref_top1 && greedy_match == steps.size()) greedy_match = i;
                const double gap = top[0][1].get<double>() - top[1][1].get<double>();
                if (gap >= 0.1) {
                    EXPECT_EQ(argmax, ref_top1)
                        << "step " << i << ": top-1 differs (reference gap " << gap << " nat)";
                }
                for (const nlohmann::json& entry : top) {
                    const double err =
                        std::fabs(lp[entry[0].get<size_t>()] - entry[1].get<double>());
                    errs[j].push_back(err);
                    EXPECT_LE(err, c.refs[j].max) << "step " << i << " token " << entry[0];
                }
            }
            std::cout << "[ info     ] " << c.refs[j].json << " prompt " << p
                      << ": free greedy matches " << greedy_match << "/" << steps.size()
                      << " tokens\n";
        }
    }
    for (size_t j = 0; j < refs.size(); ++j) {
        std::vector<double>& e = errs[j];
        std::sort(e.begin(), e.end());
        const double p95 = e[e.size() * 95 / 100], max = e.back();
        std::cout << "[ info     ] " << c.refs[j].json << ": |log-prob error| p95 " << p95
                  << ", max " << max << "\n";
        EXPECT_LE(p95, c.refs[j].p95) << c.refs[j].json;
        RecordProperty(std::string(c.refs[j].json) + "_max_logprob_error", std::to_string(max));
    }
}

INSTANTIATE_TEST_SUITE_P(
    TinyModels, Gemma4ReferenceTeacherForcing,
    ::testing::Values(Case{"tiny-dense-q8_0", {{"tiny-dense-q8_0", 0.25, 0.5}}},
                      // The Vulkan run keeps f32 activations: this is the tight check of the math.
                      Case{"tiny-dense-q4_k_m",
                           {{"tiny-dense-q4_k_m", 0.5, 1.0},
                            {"llamacpp-vulkan-tiny-dense-q4_k_m", 0.05, 0.15}}},
                      Case{"tiny-moe-q4_k_m", {{"tiny-moe-q4_k_m", 0.5, 4.0}}},
                      Case{"tiny-ple-q8_0", {{"tiny-ple-q8_0", 0.25, 0.5}}}),
    [](const ::testing::TestParamInfo<Case>& param_info) {
        std::string name = param_info.param.model;
        std::replace(name.begin(), name.end(), '-', '_');
        return name;
    });

TEST(Gemma4Reference, OutputShapesAndSoftcapBound) {
    const GgufFile file = GgufFile::open(k_fixtures + "/models/tiny-dense-q8_0.gguf");
    const Gemma4Reference model(file);
    const std::vector<int32_t> tokens = {2, 311, 3656};
    const std::vector<float> hidden = model.forward_hidden(tokens);
    EXPECT_EQ(hidden.size(), size_t{model.config().n_embd} * tokens.size());
    const std::vector<float> logits = model.forward(tokens);
    ASSERT_EQ(logits.size(), size_t{model.config().n_vocab} * tokens.size());
    for (float z : logits) ASSERT_LE(std::fabs(z), 30.0f);  // cap · tanh(z / cap)
}

TEST(Gemma4Reference, PrefixLogitsDoNotDependOnLaterTokens) {
    // Causality: the logits of a prefix are the same whatever follows it.
    const GgufFile file = GgufFile::open(k_fixtures + "/models/tiny-ple-q8_0.gguf");
    const Gemma4Reference model(file);
    const std::vector<int32_t> a = {2, 311, 3656, 1617, 283};
    const std::vector<int32_t> b = {2, 311, 3656, 99, 100};
    const std::vector<float> la = model.forward(a), lb = model.forward(b);
    const size_t V = model.config().n_vocab;
    for (size_t i = 0; i < 3 * V; ++i) ASSERT_EQ(la[i], lb[i]) << "index " << i;
}

TEST(Gemma4Reference, RejectsBadTokens) {
    const GgufFile file = GgufFile::open(k_fixtures + "/models/tiny-dense-q8_0.gguf");
    const Gemma4Reference model(file);
    EXPECT_THROW(model.forward(std::vector<int32_t>{}), std::invalid_argument);
    EXPECT_THROW(model.forward(std::vector<int32_t>{2, 4096}), std::invalid_argument);
    EXPECT_THROW(model.forward(std::vector<int32_t>{-1}), std::invalid_argument);
}

}  // namespace
}  // namespace vkllm
