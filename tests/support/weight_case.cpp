#include "tests/support/weight_case.h"

#include <cmath>
#include <cstdlib>

#include "reference/q8_1.h"
#include "runtime/ops/quantize_q8.h"
#include "runtime/vk/command_stream.h"

namespace vkllm::test {

DeviceQ8 quantize_on_device(vk::Context& ctx, CaseBuffers& b, const vk::BufferSpan& x_dev,
                            const std::vector<float>& x, uint32_t K, uint32_t n_x,
                            uint32_t x_stride) {
    DeviceQ8 out;
    const uint64_t bytes = ops::q8_1_bytes(K, n_x);
    out.xq = b.arena.allocate(bytes);
    vk::CommandStream cs(ctx.device());
    cs.begin();
    ops::record_quantize_q8_1(ctx, cs, {x_dev, x_stride, K, n_x, out.xq});
    cs.submit_and_wait();
    std::vector<std::byte> raw(bytes);
    ctx.transfer().download(out.xq, raw);
    const reference::Q8_1Columns got = reference::read_q8_1(raw, K, n_x);
    const reference::Q8_1Columns want = reference::quantize_q8_1(x, K, n_x, x_stride);
    for (size_t i = 0; i < want.codes.size(); ++i) {
        if (std::abs(got.codes[i] - want.codes[i]) > 1) {
            ADD_FAILURE() << "q8_1 code " << i << ": device " << int{got.codes[i]} << ", CPU "
                          << int{want.codes[i]};
            break;
        }
    }
    for (size_t blk = 0; blk < want.d.size(); ++blk) {
        EXPECT_NEAR(got.d[blk], want.d[blk], 1e-6f * want.d[blk]) << "block " << blk;
    }
    out.x_seen = x;
    got.dequantize(K, n_x, x_stride, out.x_seen);
    return out;
}

::testing::AssertionResult dot_close(const std::vector<float>& got, size_t got_stride,
                                     const reference::DotResult& want, size_t N) {
    size_t bad = 0, worst = 0;
    double worst_ratio = 0;
    for (size_t i = 0; i < want.value.size(); ++i) {
        const double g = got[(i / N) * got_stride + i % N];
        const double bound = 1e-5 * want.abs_sum[i] + 1e-6;
        const double ratio = std::isfinite(g) ? std::fabs(g - want.value[i]) / bound : 1e30;
        if (ratio > 1) ++bad;
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            worst = i;
        }
    }
    if (bad == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << bad << " of " << want.value.size() << " outputs out of tolerance; worst: column "
           << worst / N << " row " << worst % N << " got "
           << got[(worst / N) * got_stride + worst % N] << " want " << want.value[worst]
           << " (sum|wx| " << want.abs_sum[worst] << ", error " << worst_ratio << "x the bound)";
}

}  // namespace vkllm::test
