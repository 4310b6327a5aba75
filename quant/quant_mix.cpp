#include "quant/quant_mix.h"

#include <array>
#include <stdexcept>
#include <string>

namespace vkllm::quant {
namespace {

struct MixInfo {
    QuantMix mix;
    std::string_view name;
    uint32_t file_type;
    GgmlType default_type;
    bool quantized;  // llama.cpp runs its per-tensor rules only for quantized default types
};

constexpr std::array<MixInfo, 6> k_mixes = {{
    {QuantMix::F32, "f32", 0, GgmlType::F32, false},
    {QuantMix::F16, "f16", 1, GgmlType::F16, false},
    {QuantMix::Q8_0, "q8_0", 7, GgmlType::Q8_0, true},
    {QuantMix::Q4_0, "q4_0", 2, GgmlType::Q4_0, true},
    {QuantMix::Q4_K_M, "q4_k_m", 15, GgmlType::Q4_K, true},
    {QuantMix::Q5_K_M, "q5_k_m", 17, GgmlType::Q5_K, true},
}};

const MixInfo& info(QuantMix mix) {
    for (const MixInfo& m : k_mixes) {
        if (m.mix == mix) return m;
    }
    throw std::invalid_argument("unknown quant mix");
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

bool contains(std::string_view s, std::string_view part) {
    return s.find(part) != std::string_view::npos;
}

// Substring tests in llama.cpp's order (tensor_get_category); "ffn_gate_up_exps" is FfnGate.
Category category_of(std::string_view name) {
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

bool allows_quantization(const TypeRuleTensor& t) {
    const std::string_view n = t.name;
    const bool ends_weight = n.ends_with("weight");
    return t.n_dims >= 2 && ends_weight && !contains(n, "_norm.weight") &&
           !contains(n, "ffn_gate_inp.weight") && !contains(n, "per_layer_model_proj");
}

bool use_more_bits(int i, int n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

// N of "blk.N.*".
int layer_of(std::string_view name) {
    int layer = 0;
    size_t i = 4;
    for (; name.starts_with("blk.") && i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) {
        layer = layer * 10 + (name[i] - '0');
        if (layer > 1'000'000) break;
    }
    if (i == 4 || i >= name.size() || name[i] != '.') {
        throw std::invalid_argument("tensor '" + std::string(name) +
                                    "': cannot read its layer index (expected blk.N.*)");
    }
    return layer;
}

bool fits(GgmlType type, uint64_t ne0) {
    return ne0 % traits_of(type).block_elems == 0;
}

GgmlType fallback(const TypeRuleTensor& t, GgmlType type) {
    if (fits(type, t.ne0)) return type;
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
            throw std::invalid_argument("tensor '" + std::string(t.name) + "': row length " +
                                        std::to_string(t.ne0) + " does not fit type " +
                                        std::string(traits_of(type).name));
    }
    return fits(alt, t.ne0) ? alt : GgmlType::F16;
}

// Counters and flags that llama.cpp sets in a pass over all tensors before choosing types.
struct RuleState {
    int n_attn_v = 0;
    int i_attn_v = 0;
    int i_ffn_down = 0;
    bool tied_head = true;  // until an `output` tensor is seen
};

// The LM head's type: more bits than the mix, since every logit goes through it.
GgmlType head_type(GgmlType type, uint64_t ne0) {
    if (!fits(type, ne0)) return GgmlType::Q8_0;
    return type == GgmlType::Q8_0 ? type : GgmlType::Q6_K;
}

// llama_tensor_get_type_impl restricted to these mixes and Gemma 4 tensor names.
GgmlType choose(const MixInfo& mix, const TypeRuleModel& m, const TypeRuleTensor& t,
                RuleState& st) {
    GgmlType type = mix.default_type;
    const bool q4_k_m = mix.mix == QuantMix::Q4_K_M;
    const bool k_m = q4_k_m || mix.mix == QuantMix::Q5_K_M;  // the _M mixes' extra Q6_K
    const bool eight_experts = m.n_expert == 8;
    switch (category_of(t.name)) {
        case Category::Output:
            type = head_type(type, t.ne0);
            break;
        case Category::TokenEmbd:  // a tied head is quantized like `output`
            if (st.tied_head) type = head_type(type, t.ne0);
            break;
        case Category::AttnV:
            if (k_m && use_more_bits(st.i_attn_v, st.n_attn_v)) type = GgmlType::Q6_K;
            if (eight_experts) type = GgmlType::Q8_0;
            ++st.i_attn_v;
            break;
        case Category::AttnK:
            if (eight_experts) type = GgmlType::Q8_0;
            break;
        case Category::FfnDown:
            // llama.cpp counts ffn_down tensors for dense models and parses the layer for MoE
            // (whose expert tensors need not be in layer order); with one ffn_down per dense
            // layer both are the layer index.
            if (k_m && use_more_bits(m.n_expert > 1 ? layer_of(t.name) : st.i_ffn_down,
                                     static_cast<int>(m.n_layer))) {
                type = GgmlType::Q6_K;
            }
            ++st.i_ffn_down;
            break;
        case Category::AttnOutput:
            if (q4_k_m && eight_experts) type = GgmlType::Q5_K;  // q5_k_m: Q5_K already
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
    return "f32, f16, q8_0, q4_0, q4_k_m, q5_k_m";
}

uint32_t file_type_of(QuantMix mix) {
    return info(mix).file_type;
}

bool is_quantized_mix(QuantMix mix) {
    return info(mix).quantized;
}

std::vector<GgmlType> choose_types(QuantMix mix, const TypeRuleModel& model,
                                   std::span<const TypeRuleTensor> tensors) {
    const MixInfo& m = info(mix);
    RuleState st;
    for (const TypeRuleTensor& t : tensors) {
        const Category c = category_of(t.name);
        if (c == Category::AttnV) ++st.n_attn_v;
        if (c == Category::Output) st.tied_head = false;
    }
    std::vector<GgmlType> types;
    types.reserve(tensors.size());
    for (const TypeRuleTensor& t : tensors) {
        if (!allows_quantization(t)) {
            types.push_back(t.source_type);
        } else {
            types.push_back(m.quantized ? choose(m, model, t, st) : m.default_type);
        }
    }
    return types;
}

}  // namespace vkllm::quant
