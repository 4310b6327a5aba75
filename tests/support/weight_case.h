#pragma once
// Shared pieces of the weight-kernel tests (mat-vec, expert mat-vec, mat-mat): the weight types
// every kernel must handle, a per-case device arena, and the dot-product tolerance check.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "loader/ggml_type.h"
#include "reference/matvec.h"
#include "runtime/ops/weight_upload.h"
#include "runtime/vk/arena.h"
#include "runtime/vk/context.h"

namespace vkllm::test {

inline constexpr GgmlType k_weight_types[] = {
    GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
    GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K,
    GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

// Device buffers for one case; its own arena so nothing outlives the test.
struct CaseBuffers {
    explicit CaseBuffers(vk::Context& c)
        : ctx(c), arena(c.device(), vk::MemoryIntent::DeviceLocal, 8 << 20) {}
    vk::Context& ctx;
    vk::Arena arena;

    // A GGUF-order weight of `rows` rows of K elements, uploaded as the model loader does.
    vk::TensorSpans weight(const std::vector<std::byte>& bytes, GgmlType type, uint32_t K,
                           uint64_t rows) {
        vk::TensorSpans t = arena.allocate_rows(row_bytes(type, K), rows);
        ops::upload_weight(ctx.transfer(), t, type, bytes);
        return t;
    }
    template <typename T>
    vk::BufferSpan upload(const std::vector<T>& v) {
        vk::BufferSpan s = arena.allocate(std::max<uint64_t>(4, v.size() * sizeof(T)));
        ctx.transfer().upload(s, std::as_bytes(std::span(v)));
        return s;
    }
    std::vector<float> download(const vk::BufferSpan& s, size_t n) {
        std::vector<float> v(n);
        ctx.transfer().download(s, std::as_writable_bytes(std::span(v)));
        return v;
    }
};

// x as the integer path reads it: quantized on the device (n_x vectors of K, x_stride apart),
// its codes checked against the CPU quantizer, and returned as d * code in x's layout.
struct DeviceQ8 {
    vk::BufferSpan xq;
    std::vector<float> x_seen;
};
DeviceQ8 quantize_on_device(vk::Context& ctx, CaseBuffers& b, const vk::BufferSpan& x_dev,
                            const std::vector<float>& x, uint32_t K, uint32_t n_x,
                            uint32_t x_stride);

// Checks got[c * got_stride + r] against the reference (index c * N + r) with the tolerance
// |got - want| <= 1e-5 * sum_k |w_k x_k| + 1e-6: kernels decode weights in fp32 (a fused
// multiply-add may round once where the reference rounds twice) and sum K products in fp32 in
// another order than the reference; both errors are a few ulps of sum |w x|, and 1e-5 (~170 ulps)
// leaves room for K up to a few thousand.
::testing::AssertionResult dot_close(const std::vector<float>& got, size_t got_stride,
                                     const reference::DotResult& want, size_t N);

}  // namespace vkllm::test
