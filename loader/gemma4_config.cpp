#include "loader/gemma4_config.h"

#include <cmath>
#include <string_view>

#include "loader/gemma4_weights_view.h"
#include "loader/model_file_error.h"

namespace vkllm {
namespace {

constexpr std::string_view k_arch = "gemma4";

// Reads `gemma4.<suffix>` keys and reports problems against the file, naming the key.
class KeyReader {
  public:
    explicit KeyReader(const GgufFile& f) : f_(f) {}

    std::string key(std::string_view suffix) const {
        return std::string(k_arch) + "." + std::string(suffix);
    }
    uint32_t u32(std::string_view s) const { return f_.get_u32(key(s)); }
    uint32_t u32_or(std::string_view s, uint32_t def) const {
        return f_.find_u32(key(s)).value_or(def);
    }
    float f32(std::string_view s) const { return f_.get_f32(key(s)); }
    float f32_or(std::string_view s, float def) const { return f_.find_f32(key(s)).value_or(def); }
    std::vector<uint32_t> per_layer(std::string_view s, size_t n) const {
        return f_.get_u32_per_layer(key(s), n);
    }
    [[noreturn]] void fail(const std::string& what) const { throw ModelFileError(f_.name(), what); }

  private:
    const GgufFile& f_;
};

void check_architecture(const GgufFile& f) {
    const std::string_view arch = f.get_string("general.architecture");
    if (arch == k_arch) return;
    std::string hint = "only Gemma 4 target models (\"gemma4\") are supported";
    if (arch == "gemma4-assistant") {
        hint = "this is a Gemma 4 MTP assistant (drafter) file; load it as a drafter, not a target";
    } else if (arch == "gemma4_assistant") {
        hint =
            "this is an old-layout Gemma 4 assistant (underscore name, mtp.* tensors) that "
            "current llama.cpp also rejects; re-convert it";
    }
    throw ModelFileError(f.name(), "general.architecture is \"" + std::string(arch) +
                                       "\": unsupported architecture; " + hint);
}

// Metadata keys of §1.1, with their defaults; no per-layer derivation yet.
void read_globals(const KeyReader& k, Gemma4Config& c) {
    c.n_ctx_train = k.u32("context_length");
    c.n_embd = k.u32("embedding_length");
    c.n_layer = k.u32("block_count");
    if (c.n_embd == 0 || c.n_layer == 0) {
        k.fail("embedding_length and block_count must be non-zero (found " +
               std::to_string(c.n_embd) + " and " + std::to_string(c.n_layer) + ")");
    }
    c.head_dim_swa = k.u32("attention.key_length_swa");
    if (k.u32("attention.value_length_swa") != c.head_dim_swa) {
        k.fail(k.key("attention.value_length_swa") + " must equal " +
               k.key("attention.key_length_swa") + " (" + std::to_string(c.head_dim_swa) + ")");
    }
    c.n_swa = k.u32("attention.sliding_window");
    c.rms_eps = k.f32("attention.layer_norm_rms_epsilon");
    if (!(c.rms_eps >= 0.0f) || !std::isfinite(c.rms_eps)) {
        k.fail(k.key("attention.layer_norm_rms_epsilon") + " must be finite and >= 0");
    }
    c.n_shared_kv_layers = k.u32_or("attention.shared_kv_layers", 0);
    c.n_embd_per_layer = k.u32("embedding_length_per_layer_input");
    c.rope_base_full = k.f32_or("rope.freq_base", 10000.0f);
    c.rope_base_swa = k.f32_or("rope.freq_base_swa", 10000.0f);
    c.n_expert = k.u32_or("expert_count", 0);
    c.n_expert_used = k.u32_or("expert_used_count", 0);
    c.n_ff_expert = k.u32_or("expert_feed_forward_length", 0);
    c.final_softcap = k.f32_or("final_logit_softcapping", 30.0f);
    if (!(c.final_softcap >= 0.0f) || !std::isfinite(c.final_softcap)) {
        k.fail(k.key("final_logit_softcapping") + " must be finite and >= 0 (0 disables it)");
    }
}

// Head dims of full layers and the RoPE dimension counts; needs H_q(0) for the default.
void read_head_dims(const KeyReader& k, uint32_t n_head0, Gemma4Config& c) {
    const uint32_t def = n_head0 == 0 ? 0 : c.n_embd / n_head0;
    c.head_dim_full = k.u32_or("attention.key_length", def);
    const uint32_t v_full = k.u32_or("attention.value_length", def);
    if (v_full != c.head_dim_full) {
        k.fail(k.key("attention.value_length") + " (" + std::to_string(v_full) + ") must equal " +
               k.key("attention.key_length") + " (" + std::to_string(c.head_dim_full) + ")");
    }
    c.n_rot_full = k.u32_or("rope.dimension_count", c.head_dim_full);
    c.n_rot_swa = k.u32_or("rope.dimension_count_swa", c.n_rot_full);  // §1.1: defaults to R_full
}

void derive_layers(const KeyReader& k, const GgufFile& f, Gemma4Config& c) {
    const size_t n = c.n_layer;
    const std::vector<uint32_t> n_ff = k.per_layer("feed_forward_length", n);
    const std::vector<uint32_t> n_head = k.per_layer("attention.head_count", n);
    const std::vector<uint32_t> n_head_kv =
        f.find_per_layer<uint32_t>(k.key("attention.head_count_kv"), n).value_or(n_head);
    const std::vector<bool> swa =
        f.get_bool_per_layer(k.key("attention.sliding_window_pattern"), n);
    read_head_dims(k, n_head[0], c);

    c.n_kv_start = c.n_layer - c.n_shared_kv_layers;
    c.layers.resize(n);
    for (uint32_t l = 0; l < n; ++l) {
        Gemma4LayerConfig& L = c.layers[l];
        const std::string blk = "blk." + std::to_string(l) + ".";
        L.is_sliding = swa[l];
        L.head_dim = L.is_sliding ? c.head_dim_swa : c.head_dim_full;
        L.n_heads = n_head[l];
        L.n_kv_heads = n_head_kv[l];
        L.n_ff = n_ff[l];
        L.n_rot = L.is_sliding ? c.n_rot_swa : c.n_rot_full;
        L.rope_base = L.is_sliding ? c.rope_base_swa : c.rope_base_full;
        L.rope_uses_freqs = !L.is_sliding;
        L.window = L.is_sliding ? c.n_swa : 0;
        // §3.4 step 4, the fork's rule: SWA layers read n_kv_start-2, full layers n_kv_start-1.
        L.kv_source = l < c.n_kv_start ? l : c.n_kv_start - (L.is_sliding ? 2 : 1);
        L.has_v = l < c.n_kv_start && f.find_tensor(blk + "attn_v.weight") != nullptr;
        L.is_moe = f.find_tensor(blk + "ffn_gate_inp.weight") != nullptr;
        L.has_output_scale = f.find_tensor(blk + "layer_output_scale.weight") != nullptr;
    }
}

void validate_layer(const KeyReader& k, const Gemma4Config& c, uint32_t l) {
    const Gemma4LayerConfig& L = c.layers[l];
    const std::string at = "layer " + std::to_string(l) + " (" +
                           (L.is_sliding ? "sliding-window" : "full-attention") + "): ";
    if (L.n_heads == 0 || L.n_kv_heads == 0 || L.n_heads % L.n_kv_heads != 0) {
        k.fail(at + "head_count " + std::to_string(L.n_heads) + " must be a non-zero multiple of " +
               "head_count_kv " + std::to_string(L.n_kv_heads));
    }
    if (L.head_dim == 0 || L.n_ff == 0) {
        k.fail(at + "head dim and feed_forward_length must be non-zero");
    }
    if (L.n_rot % 2 != 0 || L.n_rot > L.head_dim) {
        k.fail(at + "RoPE dimension count " + std::to_string(L.n_rot) +
               " must be even and at most the head dim " + std::to_string(L.head_dim) +
               (L.is_sliding ? " (rope.dimension_count_swa defaults to rope.dimension_count when "
                               "absent; the file probably lacks that key)"
                             : ""));
    }
    if (L.is_sliding && c.n_swa == 0) k.fail(at + "attention.sliding_window must be non-zero");
    if (l >= c.n_kv_start) {
        if (c.n_kv_start < 2) {
            k.fail("attention.shared_kv_layers = " + std::to_string(c.n_shared_kv_layers) +
                   " leaves fewer than 2 KV-owning layers");
        }
        const Gemma4LayerConfig& S = c.layers[L.kv_source];
        if (S.is_sliding != L.is_sliding || S.head_dim != L.head_dim ||
            S.n_kv_heads != L.n_kv_heads) {
            k.fail(at + "shares the KV of layer " + std::to_string(L.kv_source) +
                   ", which has a different layer type, head dim or KV-head count (shared-KV "
                   "layers read layer n_kv_start-2 if sliding, n_kv_start-1 if full)");
        }
    }
    if (L.is_moe && (c.n_expert == 0 || c.n_expert_used == 0 || c.n_expert_used > c.n_expert ||
                     c.n_ff_expert == 0)) {
        k.fail(at + "has MoE tensors but expert_count " + std::to_string(c.n_expert) +
               ", expert_used_count " + std::to_string(c.n_expert_used) +
               ", expert_feed_forward_length " + std::to_string(c.n_ff_expert) +
               " are not a valid expert configuration");
    }
}

void read_vocab(const GgufFile& f, Gemma4Config& c) {
    const TensorInfo* embd = f.find_tensor("token_embd.weight");
    if (embd == nullptr) {
        throw ModelFileError(f.name(), "required tensor 'token_embd.weight' is missing");
    }
    c.n_vocab = static_cast<uint32_t>(embd->ne[1]);
    c.tied_output = f.find_tensor("output.weight") == nullptr;
    if (const GgufValue* toks = f.find("tokenizer.ggml.tokens");
        toks != nullptr && toks->is_array() && toks->count != c.n_vocab) {
        throw ModelFileError(f.name(), "tokenizer.ggml.tokens has " + std::to_string(toks->count) +
                                           " entries but token_embd.weight has " +
                                           std::to_string(c.n_vocab) +
                                           " rows: the vocabulary and the embedding disagree");
    }
    c.suppress_tokens =
        f.find_array<int32_t>("tokenizer.ggml.suppress_tokens").value_or(std::vector<int32_t>{});
    for (int32_t id : c.suppress_tokens) {
        if (id < 0 || static_cast<uint32_t>(id) >= c.n_vocab) {
            throw ModelFileError(f.name(), "tokenizer.ggml.suppress_tokens holds id " +
                                               std::to_string(id) + ", outside the vocabulary of " +
                                               std::to_string(c.n_vocab));
        }
    }
}

}  // namespace

bool Gemma4Config::has_moe() const {
    for (const Gemma4LayerConfig& L : layers) {
        if (L.is_moe) return true;
    }
    return false;
}

Gemma4Config Gemma4Config::from_gguf(const GgufFile& file) {
    check_architecture(file);
    const KeyReader k(file);
    Gemma4Config c;
    c.arch = std::string(k_arch);
    read_globals(k, c);
    if (c.n_shared_kv_layers >= c.n_layer) {
        k.fail(k.key("attention.shared_kv_layers") + " = " + std::to_string(c.n_shared_kv_layers) +
               " must be smaller than block_count " + std::to_string(c.n_layer));
    }
    derive_layers(k, file, c);
    for (uint32_t l = 0; l < c.n_layer; ++l) validate_layer(k, c, l);
    read_vocab(file, c);
    (void)Gemma4WeightsView::bind(file, c);  // every tensor against the config
    return c;
}

}  // namespace vkllm
