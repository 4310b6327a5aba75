#include "synth/quant_mix.h"

#include <array>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace vkllm::synth {
namespace {

struct MixInfo {
    QuantMix mix;
    std::string_view name;
    uint32_t file_type;
    GgmlType default_type;
    bool quantized;  // llama.cpp runs its per-tensor rules only for quantized default types
};

constexpr std::array<MixInfo, 5> k_mixes = {{
    {QuantMix::F32, "f32", 0, GgmlType::F32, false},
    {QuantMix::F16, "f16", 1, GgmlType::F16, false},
    {QuantMix::Q8_0, "q8_0", 7, GgmlType::Q8_0, true},
    {QuantMix::Q4_0, "q4_0", 2, GgmlType::Q4_0, true},
    {QuantMix::Q4_K_M, "q4_k_m", 15, GgmlType::Q4_K, true},
}};

const MixInfo& info(QuantMix mix) {
    for (const MixInfo& m : k_mixes) {
        if (m.mix == mix) return m;
    }
    throw std::invalid_argument("[synth] unknown quant mix");
}

enum class Category {
    Output,
    TokenEmbd,
    AttnV,
    AttnK,
    AttnQ,
    AttnOutput,
    FfnUp,
    FfnGate,
    FfnDown,
    Other
};

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

// Substring tests in llama.cpp's order (tensor_get_category); "ffn_gate_up_exps" is FfnGate.
Category category_of(const std::string& name) {
    if (name == "output.weight") return Category::Output;
    if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") {
        return Category::TokenEmbd;
    }
    if (contains(name, "attn_v.weight")) return Category::AttnV;
    if (contains(name, "attn_k.weight")) return Category::AttnK;
    if (contains(name, "attn_q.weight")) return Category::AttnQ;
    if (contains(name, "attn_output.weight")) return Category::AttnOutput;
    if (contains(name, "ffn_up")) return Category::FfnUp;
    if (contains(name, "ffn_gate")) return Category::FfnGate;
    if (contains(name, "ffn_down")) return Category::FfnDown;
    return Category::Other;
}

bool allows_quantization(const PlannedTensor& t) {
    const std::string& n = t.name;
    const bool ends_weight = n.size() >= 6 && n.compare(n.size() - 6, 6, "weight") == 0;
    return !t.is_vector && ends_weight && !contains(n, "_norm.weight") &&
           !contains(n, "ffn_gate_inp.weight") && !contains(n, "per_layer_model_proj");
}

bool use_more_bits(int i, int n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

int layer_of(const std::string& name) {
    return static_cast<int>(std::strtol(name.c_str() + 4, nullptr, 10));  // "blk.N."
}

bool fits(GgmlType type, uint64_t ne0) {
    return ne0 % traits_of(type).block_elems == 0;
}

GgmlType fallback(const PlannedTensor& t, GgmlType type) {
    if (fits(type, t.ne[0])) return type;
    GgmlType alt = type;
    switch (type) {
        case GgmlType::Q2_K:
        case GgmlType::Q3_K:
            alt = GgmlType::Q4_0;
            break;
        case GgmlType::Q4_K:
            alt = GgmlType::Q5_0;
            break;
        case GgmlType::Q5_K:
            alt = GgmlType::Q5_1;
            break;
        case GgmlType::Q6_K:
            alt = GgmlType::Q8_0;
            break;
        default:
            throw std::invalid_argument("[synth] tensor '" + t.name + "': row length " +
                                        std::to_string(t.ne[0]) + " does not fit type " +
                                        std::string(traits_of(type).name));
    }
    return fits(alt, t.ne[0]) ? alt : GgmlType::F16;
}

// Counters and flags that llama.cpp sets in a pass over all tensors before choosing types.
struct RuleState {
    int n_attn_v = 0;
    int i_attn_v = 0;
    bool tied_head = true;  // until an `output` tensor is seen
};

// The LM head's type: more bits than the mix, since every logit goes through it.
GgmlType head_type(GgmlType type, uint64_t ne0) {
    if (!fits(type, ne0)) return GgmlType::Q8_0;
    return type == GgmlType::Q8_0 ? type : GgmlType::Q6_K;
}

// llama_tensor_get_type_impl restricted to the mixes and tensor names synth produces.
GgmlType choose(const MixInfo& mix, const Gemma4Shape& s, const PlannedTensor& t, RuleState& st) {
    GgmlType type = mix.default_type;
    const bool q4_k_m = mix.mix == QuantMix::Q4_K_M;
    const bool eight_experts = s.n_expert == 8;
    switch (category_of(t.name)) {
        case Category::Output:
            type = head_type(type, t.ne[0]);
            break;
        case Category::TokenEmbd:  // a tied head is quantized like `output`
            if (st.tied_head) type = head_type(type, t.ne[0]);
            break;
        case Category::AttnV:
            if (q4_k_m && use_more_bits(st.i_attn_v, st.n_attn_v)) type = GgmlType::Q6_K;
            if (eight_experts) type = GgmlType::Q8_0;
            ++st.i_attn_v;
            break;
        case Category::AttnK:
            if (eight_experts) type = GgmlType::Q8_0;
            break;
        case Category::FfnDown:
            // llama.cpp counts ffn_down tensors for dense models and parses the layer for MoE;
            // with one ffn_down per dense layer both are the layer index.
            if (q4_k_m && use_more_bits(layer_of(t.name), static_cast<int>(s.n_layer))) {
                type = GgmlType::Q6_K;
            }
            break;
        case Category::AttnOutput:
            if (q4_k_m && eight_experts) type = GgmlType::Q5_K;
            break;
        default:
            break;
    }
    return fallback(t, type);
}

}  // namespace

std::optional<QuantMix> parse_quant_mix(std::string_view name) {
    for (const MixInfo& m : k_mixes) {
        if (m.name == name) return m.mix;
    }
    return std::nullopt;
}

std::string_view quant_mix_name(QuantMix mix) {
    return info(mix).name;
}

std::string_view quant_mix_names() {
    return "f32, f16, q8_0, q4_0, q4_k_m";
}

uint32_t file_type_of(QuantMix mix) {
    return info(mix).file_type;
}

void assign_types(QuantMix mix, const Gemma4Shape& shape, std::vector<PlannedTensor>& plan) {
    const MixInfo& m = info(mix);
    RuleState st;
    for (const PlannedTensor& t : plan) {
        const Category c = category_of(t.name);
        if (c == Category::AttnV) ++st.n_attn_v;
        if (c == Category::Output) st.tied_head = false;
    }
    for (PlannedTensor& t : plan) {
        if (!allows_quantization(t)) continue;  // keeps the source type
        t.type = m.quantized ? choose(m, shape, t, st) : m.default_type;
    }
}

}  // namespace vkllm::synth
