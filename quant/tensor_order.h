#pragma once
// llama.cpp's quantizer tensor order: layer index first (non-layer tensors before blk.0, blk.1,
// ...), then name. `vkllm quantize` writes tensors in it, synth plans its files in it, and the
// type rules (quant_mix.h) count attn_v tensors in it.

#include <string>

namespace vkllm::quant {

bool tensor_order_less(const std::string& a, const std::string& b);

}  // namespace vkllm::quant
