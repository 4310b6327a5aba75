#pragma once
// Shared by the elementwise-family op tests (test_norm, test_rope, ...): upload / download of
// row tensors, a one-call record-submit-wait, and a second context with tiny binding limits so
// that every op's split-tensor path runs on small data.

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"
#include "tests/support/vk_test_env.h"

namespace vkllm::test {

// Uploads `data` as rows of `row_elems` 4-byte elements (split per the context's limits).
template <typename T>
vk::TensorSpans upload_rows(vk::Context& c, std::span<const T> data, uint64_t row_elems) {
    static_assert(sizeof(T) == 4);
    vk::TensorSpans t = c.device_arena().allocate_rows(row_elems * 4, data.size() / row_elems);
    c.transfer().upload(t, std::as_bytes(data));
    return t;
}

template <typename T>
vk::TensorSpans upload_rows(vk::Context& c, const std::vector<T>& data, uint64_t row_elems) {
    return upload_rows(c, std::span<const T>(data), row_elems);
}

// One binding holding `data`.
template <typename T>
vk::BufferSpan upload_span(vk::Context& c, const std::vector<T>& data) {
    vk::BufferSpan s = c.device_arena().allocate(data.size() * sizeof(T));
    c.transfer().upload(s, std::as_bytes(std::span(data)));
    return s;
}

// A tensor of rows x row_elems 4-byte elements filled with a NaN pattern (catches unwritten
// output).
inline vk::TensorSpans alloc_rows(vk::Context& c, uint64_t row_elems, uint64_t rows) {
    vk::TensorSpans t = c.device_arena().allocate_rows(row_elems * 4, rows);
    std::vector<uint32_t> poison(row_elems * rows, 0x7fc00bad);
    c.transfer().upload(t, std::as_bytes(std::span(poison)));
    return t;
}

template <typename T>
std::vector<T> download_rows(vk::Context& c, const vk::TensorSpans& t) {
    std::vector<T> v(t.total_bytes() / sizeof(T));
    c.transfer().download(t, std::as_writable_bytes(std::span(v)));
    return v;
}

// Whether two device buffers of the same size hold the same bytes.
inline bool same_bytes(vk::Context& c, const vk::BufferSpan& a, const vk::BufferSpan& b) {
    if (a.size != b.size) return false;
    std::vector<std::byte> x(a.size), y(b.size);
    c.transfer().download(a, x);
    c.transfer().download(b, y);
    return x == y;
}

inline void run(vk::Context& c, const std::function<void(vk::CommandStream&)>& record) {
    vk::CommandStream cs(c.device());
    cs.begin();
    record(cs);
    cs.submit_and_wait();
}

// A process-wide context whose bindings hold only 16 KiB, so small tensors split into parts.
// nullptr when there is no device (the VkTest fixture has already skipped or failed then).
inline VkEnv* small_binding_env() {
    static std::unique_ptr<VkEnv> env = make_vk_env({16 << 10, 1 << 20});
    return env.get();
}

// Fixture for split-tensor tests: VkTest plus a validation check of the small-limit context.
class SplitTensorTest : public VkTest {
  protected:
    vk::Context& small() { return *small_binding_env()->context; }
    void TearDown() override {
        if (VkEnv* e = env_ ? small_binding_env() : nullptr) {
            for (const std::string& m : e->log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
        }
        VkTest::TearDown();
    }
};

}  // namespace vkllm::test
