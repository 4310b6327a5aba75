#pragma once
// Synchronous host<->device copies through a bounded staging buffer. Host-visible destinations
// (lavapipe, UMA, readback arenas) are written with memcpy and need no command at all.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "runtime/vk/arena.h"
#include "runtime/vk/command_stream.h"
#include "runtime/vk/device.h"

namespace vkllm::vk {

class Transfer {
  public:
    explicit Transfer(const Device& device, uint64_t staging_bytes = 64ull << 20);

    void upload(const BufferSpan& dst, std::span<const std::byte> src);
    // Writes what fill produces: fill(offset, out) writes bytes [offset, offset + out.size()) of
    // the `bytes` that dst receives, straight into mapped memory or into the staging buffer.
    // Pieces start at multiples of `piece_align` (a layout that is rewritten in groups, say).
    using Fill = std::function<void(uint64_t offset, std::span<std::byte> out)>;
    void upload(const BufferSpan& dst, uint64_t bytes, const Fill& fill, uint64_t piece_align = 1);
    void download(const BufferSpan& src, std::span<std::byte> dst);
    // A whole tensor, part by part; src holds tensor.total_bytes() bytes.
    void upload(const TensorSpans& dst, std::span<const std::byte> src);
    void download(const TensorSpans& src, std::span<std::byte> dst);

  private:
    // Owned: the stream is declared after the arenas so it is destroyed (and waits) first.
    Arena upload_arena_;
    Arena readback_arena_;
    BufferSpan upload_staging_;
    BufferSpan readback_staging_;
    CommandStream stream_;
};

}  // namespace vkllm::vk
