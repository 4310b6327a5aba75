#include "quant/tensor_order.h"

#include <cstdlib>

namespace vkllm::quant {
namespace {

// -1 for a non-layer tensor, else the N of "blk.N.".
long layer_of(const std::string& name) {
    if (name.rfind("blk.", 0) != 0) return -1;
    return std::strtol(name.c_str() + 4, nullptr, 10);
}

}  // namespace

bool tensor_order_less(const std::string& a, const std::string& b) {
    const long la = layer_of(a), lb = layer_of(b);
    return la != lb ? la < lb : a < b;
}

}  // namespace vkllm::quant
