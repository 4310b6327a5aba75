#pragma once
// Per-tensor storage types for a quantization mix, chosen the way llama.cpp's quantizer
// (src/llama-quant.cpp, no imatrix, default options) chooses them when it converts the
// converter's f16 file, so `vkllm quantize` (model_quantizer.h) writes the types llama-quantize
// would and a synthetic file (synth/) has the same type layout as a real one.
//
// Rules implemented (Gemma 4 tensor names only):
// * Only tensors with >= 2 dims whose name ends in "weight" are quantized, except *_norm.weight,
//   ffn_gate_inp.weight (router) and per_layer_model_proj.weight, which keep the source type
//   (F16; F32 in the "f32" mix). Vectors stay F32.
// * The LM head: `output` if the file has one, else (tied head) token_embd and also
//   per_layer_token_embd (llama.cpp's token-embedding category covers both names): Q8_0 in the
//   q8_0 mix or when ne[0] is not a multiple of the mix's block size, else Q6_K (q4_0, q4_k_m
//   and q5_k_m mixes). With an `output` tensor the embeddings take the mix's default type (then
//   fallback).
// * ffn_gate_exps / ffn_up_exps / ffn_gate_up_exps (gate and up categories): the default type.
// * 8-expert models (exactly 8): attn_v and attn_k Q8_0; for q4_k_m also attn_output Q5_K.
// * q4_k_m and q5_k_m: attn_v gets Q6_K when use_more_bits(i, n) with i its index among the
//   file's attn_v tensors and n their count; ffn_down / ffn_down_exps get Q6_K when
//   use_more_bits(layer, n_layer). use_more_bits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3
//   == 2. (q5_k_m's 8-expert attn_output keeps its default Q5_K.)
// * Fallback when ne[0] is not a multiple of the chosen type's block: Q4_K -> Q5_0, Q5_K -> Q5_1,
//   Q6_K -> Q8_0, and F16 if even that does not fit.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "loader/ggml_type.h"

namespace vkllm::quant {

enum class QuantMix { F32, F16, Q8_0, Q4_0, Q4_K_M, Q5_K_M };

// "f32", "f16", "q8_0", "q4_0", "q4_k_m", "q5_k_m"; nullopt for anything else.
std::optional<QuantMix> parse_quant_mix(std::string_view name);
std::string_view quant_mix_name(QuantMix mix);
// All accepted names, comma-separated (for error messages and usage text).
std::string_view quant_mix_names();
// general.file_type (llama_ftype): 0, 1, 7, 2, 15, 17.
uint32_t file_type_of(QuantMix mix);
// False for f32 and f16, where llama.cpp stores every quantizable tensor in that one type.
bool is_quantized_mix(QuantMix mix);

// What the rules need to know of one tensor.
struct TypeRuleTensor {
    std::string_view name;
    uint64_t ne0 = 0;
    uint32_t n_dims = 0;
    GgmlType source_type = GgmlType::F32;  // kept when the tensor may not be quantized
};

// ... and of the model.
struct TypeRuleModel {
    uint32_t n_layer = 0;
    uint32_t n_expert = 0;  // 0 for a dense model
};

// The stored type of every tensor, in the order given, which must be llama.cpp's quantizer
// order (tensor_order_less, tensor_order.h): the attn_v rule counts in it. Throws
// std::invalid_argument if a row length fits no type.
std::vector<GgmlType> choose_types(QuantMix mix, const TypeRuleModel& model,
                                   std::span<const TypeRuleTensor> tensors);

}  // namespace vkllm::quant
