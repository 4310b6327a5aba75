#pragma once
// `vkllm bench model`: end-to-end prefill and decode speed of a GGUF model, with decode reported
// against the memory roofline: the weight bytes one decode step must read (every matrix once,
// one embedding row, only the routed share of MoE experts) times tokens/s, as a fraction of the
// device's measured copy bandwidth. Also aggregate decode tok/s with 1..N sequences in one batch
// (what the server's continuous batching gets), after a context of the prompt or of `depth`
// tokens (long-context decode: attention reads depth positions per step). Table on stdout, JSON
// lines in bench-results/.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "loader/gemma4_config.h"
#include "loader/ggml_type.h"
#include "loader/gguf_file.h"
#include "runtime/model/gemma4_model.h"

namespace vkllm::bench {

struct ModelBenchOptions {
    std::string model;
    std::string device;
    uint32_t prompt_tokens = 128;
    uint32_t gen_tokens = 32;
    std::vector<uint32_t> batches = {1, 2, 4, 8};  // sequences decoded together
    // Decode runs after a context of this many tokens in each sequence (a prefill of random ids
    // fills it); 0: after the prompt_tokens prompt.
    uint32_t depth = 0;
    uint32_t n_ctx = 0;  // 0: enough for the context (prompt or depth) + gen
    uint32_t prefill_chunk = 512;
    GgmlType kv_k = GgmlType::F16;
    GgmlType kv_v = GgmlType::F16;
    bool int_dot_matvec = true;  // ModelOptions::int_dot_matvec
    uint64_t vram_budget = 0;    // ModelOptions::vram_budget
    uint32_t expert_slots = 0;   // ModelOptions::expert_slots
    ExpertCompute expert_compute = ExpertCompute::Auto;
    bool expert_prefetch = true;
    bool profile = false;  // per-kernel GPU time of a decode step per batch size
    int repeat = 5;        // copy-bandwidth repeats
    std::string out_dir = "bench-results";
    std::string command_line;
    // Load reporting, passed to ModelOptions (the CLI draws it).
    std::function<void(const MemoryPlan&)> on_plan;
    std::function<void(uint64_t, uint64_t)> on_upload;
};

// Bytes of weights one decode step reads for one sequence (see the header comment).
uint64_t decode_weight_bytes(const GgufFile& file, const Gemma4Config& config);

int run_model_bench(const ModelBenchOptions& options);

}  // namespace vkllm::bench
