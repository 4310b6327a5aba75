// The Gemma 4 CPU reference forward against llama.cpp's CPU outputs on the tiny fixture models,
// by teacher forcing (tests/fixtures/README in shared/fixtures, "How to compare"): feed
// prompt_tokens + tokens[:-1] and compare the log-softmax at each of the 32 generated positions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/gguf_file.h"
#include "reference/gemma4_forward.h"
#include "tests/support/compare.h"
#include "tests/support/teacher_forcing.h"

namespace vkllm {
namespace {

using reference::Gemma4Reference;
using test::log_softmax;

const std::string k_models = VKLLM_TEST_MODELS_DIR;

struct Case {
    const char* model;              // <build>/fixtures/models/<model>.gguf
    std::vector<const char*> runs;  // reference runs of that model (same bounds as the runtime's)
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.model;
}

class Gemma4ReferenceTeacherForcing : public ::testing::TestWithParam<Case> {};

// The exact reference is the runtime's oracle; this shows that its distance from llama.cpp is the
// same as the runtime's, i.e. that it comes from llama.cpp's rounding (tests/support/
// teacher_forcing.cpp), and checks every prompt of the model's runs.
TEST_P(Gemma4ReferenceTeacherForcing, MatchesLlamaCpp) {
    const Case& c = GetParam();
    const GgufFile file = GgufFile::open(k_models + "/" + c.model + ".gguf");
    const Gemma4Reference model(file);
    const size_t V = model.config().n_vocab;
    // Runs of one model usually share prompts and greedy tokens: one forward serves them all.
    std::map<std::vector<int32_t>, std::vector<std::vector<double>>> cache;
    for (const char* name : c.runs) {
        const test::TeacherForcingRun run = test::TeacherForcingRun::load(name);
        test::score_teacher_forcing(run, test::teacher_forcing_bounds(name), [&](size_t p) {
            const std::vector<int32_t> tokens = run.forced_tokens(p);
            auto it = cache.find(tokens);
            if (it == cache.end()) {
                const std::vector<float> logits = model.forward(tokens);
                const size_t n_steps = run.generated(p).size(), first = tokens.size() - n_steps;
                std::vector<std::vector<double>> lp;
                for (size_t i = 0; i < n_steps; ++i) {
                    lp.push_back(log_softmax(&logits[(first + i) * V], V));
                }
                it = cache.emplace(tokens, std::move(lp)).first;
            }
            return it->second;
        });
    }
}

INSTANTIATE_TEST_SUITE_P(
    TinyModels, Gemma4ReferenceTeacherForcing,
    ::testing::Values(Case{"tiny-dense-f16", {"tiny-dense-f16", "llamacpp-vulkan-tiny-dense-f16"}},
                      Case{"tiny-dense-q8_0", {"tiny-dense-q8_0"}},
                      Case{"tiny-dense-q4_k_m",
                           {"tiny-dense-q4_k_m", "llamacpp-vulkan-tiny-dense-q4_k_m"}},
                      Case{"tiny-moe-q4_k_m", {"tiny-moe-q4_k_m"}},
                      Case{"tiny-ple-q8_0", {"tiny-ple-q8_0"}}),
    [](const ::testing::TestParamInfo<Case>& param_info) {
        std::string name = param_info.param.model;
        std::replace(name.begin(), name.end(), '-', '_');
        return name;
    });

TEST(Gemma4Reference, OutputShapesAndSoftcapBound) {
    const GgufFile file = GgufFile::open(k_models + "/tiny-dense-q8_0.gguf");
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
    const GgufFile file = GgufFile::open(k_models + "/tiny-ple-q8_0.gguf");
    const Gemma4Reference model(file);
    const std::vector<int32_t> a = {2, 311, 3656, 1617, 283};
    const std::vector<int32_t> b = {2, 311, 3656, 99, 100};
    const std::vector<float> la = model.forward(a), lb = model.forward(b);
    const size_t V = model.config().n_vocab;
    for (size_t i = 0; i < 3 * V; ++i) ASSERT_EQ(la[i], lb[i]) << "index " << i;
}

TEST(Gemma4Reference, RejectsBadTokens) {
    const GgufFile file = GgufFile::open(k_models + "/tiny-dense-q8_0.gguf");
    const Gemma4Reference model(file);
    EXPECT_THROW(model.forward(std::vector<int32_t>{}), std::invalid_argument);
    EXPECT_THROW(model.forward(std::vector<int32_t>{2, 4096}), std::invalid_argument);
    EXPECT_THROW(model.forward(std::vector<int32_t>{-1}), std::invalid_argument);
}

}  // namespace
}  // namespace vkllm
