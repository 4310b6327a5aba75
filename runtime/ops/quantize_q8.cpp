#include "runtime/ops/quantize_q8.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "runtime/ops/matvec.h"

namespace vkllm::ops {
namespace {

struct QuantizePush {  // mirrors `Push` in shaders/quantize_q8_1.comp
    uint32_t K;
    uint32_t x_stride;
    uint32_t xd_first;
};

constexpr uint32_t k_blocks_per_group = 32;  // shaders/quantize_q8_1.comp: 256 invocations

}  // namespace

uint64_t q8_1_bytes(uint32_t K, uint64_t vectors) {
    return vectors * K + vectors * (K / 32) * 16;
}

void check_q8_1_span(const vk::BufferSpan& s, uint32_t K, uint64_t vectors, const char* op,
                     const char* what) {
    const uint64_t need = q8_1_bytes(K, vectors);
    if (s.size < need || s.offset % 16 != 0) {
        throw std::invalid_argument(std::string("[") + op + "] expected " + what + " of at least " +
                                    std::to_string(need) +
                                    " bytes at a 16-byte aligned offset, got " +
                                    std::to_string(s.size) + " at " + std::to_string(s.offset));
    }
}

void record_quantize_q8_1(vk::Context& ctx, vk::CommandStream& cs, const QuantizeQ8Args& a) {
    constexpr const char* op = "quantize_q8_1";
    if (a.K == 0 || a.K % 32 != 0) {
        throw std::invalid_argument("[quantize_q8_1] expected K a positive multiple of 32, got " +
                                    std::to_string(a.K));
    }
    const auto& lim = ctx.device().info().max_workgroup_count;
    if (a.ncols == 0 || a.ncols > lim[1]) {
        throw std::invalid_argument("[quantize_q8_1] expected 1.." + std::to_string(lim[1]) +
                                    " columns, got " + std::to_string(a.ncols));
    }
    const uint32_t x_stride = a.ncols == 1 ? std::max(a.x_stride, a.K) : a.x_stride;
    if (x_stride < a.K) {
        throw std::invalid_argument("[quantize_q8_1] expected x_stride >= K = " +
                                    std::to_string(a.K) + ", got " + std::to_string(a.x_stride));
    }
    const uint64_t x_elems = uint64_t{a.ncols - 1} * x_stride + a.K;
    if (x_elems > UINT32_MAX) {
        throw std::invalid_argument("[quantize_q8_1] expected x under 2^32 elements, got " +
                                    std::to_string(x_elems));
    }
    detail::check_floats(a.x, x_elems, op, "x");
    check_q8_1_span(a.out, a.K, a.ncols, op, "out");
    const uint64_t bytes = q8_1_bytes(a.K, a.ncols);
    const vk::Pipeline& p = ctx.pipelines().get({"quantize_q8_1", {}, sizeof(QuantizePush), 2});
    const QuantizePush push{a.K, x_stride, static_cast<uint32_t>(uint64_t{a.ncols} * a.K / 16)};
    const uint32_t groups = (a.K / 32 + k_blocks_per_group - 1) / k_blocks_per_group;
    cs.dispatch(p, {vk::reads(a.x), vk::writes(a.out.sub(0, bytes))}, push, {groups, a.ncols, 1});
}

}  // namespace vkllm::ops
