#include "synth/gemma4_shape.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace vkllm::synth {
namespace {

Gemma4Shape tiny_base(std::string name) {
    Gemma4Shape s;
    s.name = std::move(name);
    s.n_layer = 6;
    s.n_embd = 256;
    s.n_ctx = 4096;
    s.n_vocab = 4096;
    s.n_head = 4;
    s.n_kv_head_swa = 2;
    s.n_kv_head_full = 1;
    s.head_dim_swa = 128;
    s.head_dim_full = 256;
    s.n_ff = 512;
    s.full_period = 4;
    s.n_swa = 16;
    return s;
}

Gemma4Shape released_base(std::string name, uint32_t n_layer, uint32_t n_embd, uint32_t n_head) {
    Gemma4Shape s;
    s.name = std::move(name);
    s.n_layer = n_layer;
    s.n_embd = n_embd;
    s.n_ctx = 262144;
    s.n_vocab = 262144;
    s.n_head = n_head;
    s.head_dim_swa = 256;
    s.head_dim_full = 512;
    s.full_period = 6;
    s.n_swa = 1024;
    return s;
}

// The fixtures' shapes (shared/fixtures/README.md), so synthetic tiny files can stand in for them.
Gemma4Shape tiny_dense() {
    return tiny_base("tiny-dense");
}

Gemma4Shape tiny_moe() {
    Gemma4Shape s = tiny_base("tiny-moe");
    s.n_ff = 256;
    s.full_period = 3;
    s.n_expert = 8;
    s.n_expert_used = 2;
    s.n_ff_expert = 192;  // not a multiple of 256: exercises the K-quant fallback
    return s;
}

// tiny-moe with 26B-A4B's routing width (8 of many experts per token): expert-cache tests and
// benches (issue #15) need more experts than the fixture's 8.
Gemma4Shape tiny_moe_64x8() {
    Gemma4Shape s = tiny_moe();
    s.name = "tiny-moe-64x8";
    s.n_expert = 64;
    s.n_expert_used = 8;
    return s;
}

Gemma4Shape tiny_ple() {
    Gemma4Shape s = tiny_base("tiny-ple");
    s.n_kv_head_swa = 1;
    s.n_ff = 256;
    s.n_ff_shared_kv = 512;
    s.full_has_v = true;
    s.n_shared_kv_layers = 2;
    s.n_embd_per_layer = 32;
    return s;
}

// gemma4-model.md §1.5 (c).
Gemma4Shape e2b() {
    Gemma4Shape s = released_base("e2b", 35, 1536, 8);
    s.n_ctx = 131072;
    s.n_kv_head_swa = s.n_kv_head_full = 1;
    s.n_ff = 6144;
    s.n_ff_shared_kv = 12288;
    s.full_period = 5;
    s.full_has_v = true;
    s.n_swa = 512;
    s.n_shared_kv_layers = 20;
    s.n_embd_per_layer = 256;
    return s;
}

Gemma4Shape e4b() {
    Gemma4Shape s = released_base("e4b", 42, 2560, 8);
    s.n_ctx = 131072;
    s.n_kv_head_swa = s.n_kv_head_full = 2;
    s.n_ff = 10240;
    s.full_has_v = true;
    s.n_swa = 512;
    s.n_shared_kv_layers = 18;
    s.n_embd_per_layer = 256;
    return s;
}

Gemma4Shape b12() {
    Gemma4Shape s = released_base("12b", 48, 3840, 16);
    s.n_kv_head_swa = 8;
    s.n_kv_head_full = 1;
    s.n_ff = 15360;
    return s;
}

Gemma4Shape b26_a4b() {
    Gemma4Shape s = released_base("26b-a4b", 30, 2816, 16);
    s.n_kv_head_swa = 8;
    s.n_kv_head_full = 2;
    s.n_ff = 2112;
    s.n_expert = 128;
    s.n_expert_used = 8;
    s.n_ff_expert = 704;
    return s;
}

Gemma4Shape b31() {
    Gemma4Shape s = released_base("31b", 60, 5376, 32);
    s.n_kv_head_swa = 16;
    s.n_kv_head_full = 4;
    s.n_ff = 21504;
    return s;
}

struct Preset {
    std::string_view name;
    Gemma4Shape (*make)();
};

constexpr std::array<Preset, 9> k_presets = {{
    {"tiny-dense", tiny_dense},
    {"tiny-moe", tiny_moe},
    {"tiny-moe-64x8", tiny_moe_64x8},
    {"tiny-ple", tiny_ple},
    {"26b-a4b", b26_a4b},
    {"31b", b31},
    {"12b", b12},
    {"e4b", e4b},
    {"e2b", e2b},
}};

constexpr uint32_t k_max_layers = 1024;

[[noreturn]] void bad(const Gemma4Shape& s, const std::string& what) {
    throw std::invalid_argument("[synth] shape '" + s.name + "': " + what);
}

// Every row length must suit every mix: Q8_0/Q4_0 need multiples of 32 and have no fallback type.
void check_row(const Gemma4Shape& s, const char* what, uint64_t n) {
    if (n == 0 || n % 32 != 0) {
        bad(s, std::string(what) + " = " + std::to_string(n) +
                   " must be a non-zero multiple of 32 (the block size of q8_0/q4_0/q5_0)");
    }
}

}  // namespace

std::vector<std::string_view> preset_names() {
    std::vector<std::string_view> names;
    for (const Preset& p : k_presets) names.push_back(p.name);
    return names;
}

Gemma4Shape preset_shape(std::string_view name) {
    for (const Preset& p : k_presets) {
        if (p.name == name) return p.make();
    }
    std::string list;
    for (const Preset& p : k_presets) list += (list.empty() ? "" : ", ") + std::string(p.name);
    throw std::invalid_argument("[synth] unknown preset '" + std::string(name) +
                                "' (known: " + list + ")");
}

void set_layer_count(Gemma4Shape& s, uint32_t n_layer) {
    if (n_layer == 0 || n_layer > k_max_layers) {
        bad(s, "the layer count must be 1.." + std::to_string(k_max_layers) + ", got " +
                   std::to_string(n_layer));
    }
    const double shared_frac =
        s.n_layer == 0 ? 0.0 : static_cast<double>(s.n_shared_kv_layers) / s.n_layer;
    s.n_layer = n_layer;
    s.n_shared_kv_layers = 0;
    if (shared_frac == 0.0) return;
    const auto target = static_cast<long>(n_layer) - std::lround(n_layer * shared_frac);
    // The first shared layer k nearest the target for which layer k-1 is full and k-2 sliding.
    long best = -1;
    for (long k = 2; k < static_cast<long>(n_layer); ++k) {
        const auto uk = static_cast<uint32_t>(k);
        if (s.is_sliding(uk - 1) || !s.is_sliding(uk - 2)) continue;
        if (best < 0 || std::labs(k - target) < std::labs(best - target)) best = k;
    }
    if (best >= 0) s.n_shared_kv_layers = n_layer - static_cast<uint32_t>(best);
}

void validate_shape(const Gemma4Shape& s) {
    if (s.n_layer == 0 || s.n_layer > k_max_layers) {
        bad(s, "block_count must be 1.." + std::to_string(k_max_layers));
    }
    if (s.full_period == 0) bad(s, "full_period must be non-zero");
    if (s.n_ctx == 0) bad(s, "context_length must be non-zero");
    if (s.n_swa == 0) bad(s, "sliding_window must be non-zero");
    if (s.n_vocab == 0 || s.n_vocab > (1u << 24)) {
        bad(s, "the vocabulary size " + std::to_string(s.n_vocab) + " must be 1..16777216");
    }
    if (s.n_head == 0 || s.n_kv_head_swa == 0 || s.n_kv_head_full == 0 ||
        s.n_head % s.n_kv_head_swa != 0 || s.n_head % s.n_kv_head_full != 0) {
        bad(s, "head_count " + std::to_string(s.n_head) +
                   " must be a non-zero multiple of both KV head counts");
    }
    if (s.head_dim_swa % 2 != 0 || s.head_dim_full % 2 != 0) bad(s, "head dims must be even");
    check_row(s, "embedding_length", s.n_embd);
    check_row(s, "key_length_swa", s.head_dim_swa);
    check_row(s, "key_length", s.head_dim_full);
    check_row(s, "feed_forward_length", s.n_ff);
    if (s.n_ff_shared_kv != 0)
        check_row(s, "feed_forward_length (shared-KV layers)", s.n_ff_shared_kv);
    if (s.n_embd_per_layer != 0)
        check_row(s, "embedding_length_per_layer_input", s.n_embd_per_layer);
    if (s.n_shared_kv_layers != 0) {
        const uint32_t k = s.n_kv_start();
        if (s.n_shared_kv_layers >= s.n_layer || k < 2 || s.is_sliding(k - 1) ||
            !s.is_sliding(k - 2)) {
            bad(s, "shared_kv_layers = " + std::to_string(s.n_shared_kv_layers) +
                       " needs a full layer at n_kv_start-1 and a sliding one at n_kv_start-2");
        }
    }
    if (s.is_moe()) {
        if (s.n_expert_used == 0 || s.n_expert_used > s.n_expert) {
            bad(s, "expert_used_count must be 1..expert_count");
        }
        check_row(s, "expert_feed_forward_length", s.n_ff_expert);
    }
    if (s.is_assistant()) {
        check_row(s, "embedding_length_out", s.n_embd_out);
        if (s.n_embd_out == s.n_embd) bad(s, "an assistant's width must differ from the target's");
        if (s.is_moe() || s.n_embd_per_layer != 0 || s.n_shared_kv_layers != 0) {
            bad(s, "an assistant has no experts, per-layer embeddings or shared-KV layers");
        }
    }
    if (!(s.rms_eps >= 0.0f) || !(s.final_softcap >= 0.0f) || !(s.rope_base_swa > 0.0f) ||
        !(s.rope_base_full > 0.0f) || !(s.partial_rotary_full >= 0.0f) ||
        !(s.partial_rotary_full <= 1.0f)) {
        bad(s, "eps, softcap, RoPE bases and the partial rotary factor must be in range");
    }
}

}  // namespace vkllm::synth
