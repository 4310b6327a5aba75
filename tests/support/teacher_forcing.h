#pragma once
// Teacher forcing against a llama.cpp reference run (tests/fixtures/reference/generation/*.json),
// as the fixtures README "How to compare" describes: feed prompt + generated[:-1], take the
// log-softmax at each of the 32 generated positions and compare it with the run's top-10 list.
//
// Shared by the CPU reference test (tests/unit) and the Vulkan runtime test (tests/ops), so both
// hold the same criteria:
// * top-1 agreement at every step where the reference's top-1/top-2 gap is large enough;
// * |log-prob error| over the 10 listed ids, bounded on the 95th percentile and on the worst
//   entry. The bounds per run and why they are not always the README's: teacher_forcing.cpp.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vkllm::test {

// One reference run: prompts, greedy tokens and per-step top-10 log-probs.
class TeacherForcingRun {
  public:
    // Loads tests/fixtures/reference/<dir>/<name>.json; throws std::runtime_error.
    static TeacherForcingRun load(const std::string& name, const std::string& dir = "generation");

    const std::string& name() const { return name_; }
    size_t n_prompts() const { return json_.at("results").size(); }
    std::vector<int32_t> prompt_tokens(size_t p) const;  // BOS included
    std::vector<int32_t> generated(size_t p) const;      // the 32 greedy tokens
    // What teacher forcing feeds: prompt_tokens + generated without its last token.
    std::vector<int32_t> forced_tokens(size_t p) const;
    const nlohmann::json& steps(size_t p) const;
    // A top-level field of the file (generation-f32 files carry their bounds: tol, median_tol,
    // gap_min).
    const nlohmann::json& field(const std::string& key) const { return json_.at(key); }
    // The generated position (index into generated(p)) each step describes. Usually step i is
    // position i, but llama-server withholds the probabilities of a token that ends inside a UTF-8
    // character (e.g. a lone 0xF3 byte token) until the character completes, so a run may list
    // fewer steps; they are matched to positions by their chosen ids. Throws if they do not match.
    std::vector<size_t> step_positions(size_t p) const;

  private:
    std::string name_;
    nlohmann::json json_;
};

struct TeacherForcingBounds {
    double p95;       // on the 95th percentile of |log-prob error|
    double max;       // on the worst |log-prob error|
    double top1_gap;  // top-1 must agree where the reference's top-1/top-2 gap is at least this
};

// The bounds a reference run (by name) is held to, the same for the CPU reference and the
// runtime; the reasoning is at the definition. `q8_activations`: the runtime rounds mat-vec
// inputs to q8_1 (its integer path, runtime/ops/matvec.h). Throws std::out_of_range for an
// unknown run.
TeacherForcingBounds teacher_forcing_bounds(const std::string& run, bool q8_activations = false);

// Accumulates one run's comparison over prompts; records gtest failures as it goes.
class TeacherForcingScore {
  public:
    TeacherForcingScore(std::string label, TeacherForcingBounds bounds);

    // Compares log-probs (length n_vocab, fp64 log-softmax) with step i of prompt p.
    void add_step(const TeacherForcingRun& run, size_t p, size_t i,
                  const std::vector<double>& log_probs);
    // Prints p95 / max and checks them against the bounds.
    void finish();

    double max_error() const;

  private:
    std::string label_;
    TeacherForcingBounds bounds_;
    std::vector<double> errors_;
};

// How many leading generated tokens are each position's argmax. Under teacher forcing the inputs
// equal free greedy generation's until the first mismatch, so this is what free greedy matches.
size_t free_greedy_match(const std::vector<std::vector<double>>& log_probs,
                         const std::vector<int32_t>& generated);

// Runs every prompt of `run` through `log_probs_at` (prompt index → log-softmax at every
// generated position, i.e. after each token of forced_tokens from the last prompt token on, each
// of length n_vocab), scores it and prints the free greedy match per prompt.
void score_teacher_forcing(
    const TeacherForcingRun& run, TeacherForcingBounds bounds,
    const std::function<std::vector<std::vector<double>>(size_t prompt)>& log_probs_at);

}  // namespace vkllm::test
