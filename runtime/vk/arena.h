#pragma once
// Sub-allocating memory arena. Memory is taken from the driver in a few large chunks (one VkBuffer
// + VkDeviceMemory each); a sub-allocation is a plain value (buffer, offset, size), not a Vulkan
// object. Placement is by intent, as in VMA: the caller says what the memory is for.
//
// No single binding may exceed EffectiveLimits::max_binding_bytes (lavapipe: 128 MiB), so a large
// tensor is allocated as several parts, each holding whole rows; ops dispatch once per part.

#include <vulkan/vulkan.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/vk/device.h"

namespace vkllm::vk {

enum class MemoryIntent {
    DeviceLocal,  // weights, KV cache, activations: never touched by the CPU
    Upload,       // CPU writes sequentially, GPU reads (staging, per-token inputs)
    Readback,     // GPU writes, CPU reads (logits, sampled ids)
};

struct BufferSpan {
    VkBuffer buffer = VK_NULL_HANDLE;
    uint64_t offset = 0;
    uint64_t size = 0;
    std::byte* mapped = nullptr;  // host pointer to offset 0 of this span, when host-visible

    // A sub-range; `offset` must keep the binding alignment (callers pass element offsets in push
    // constants for finer positions).
    BufferSpan sub(uint64_t byte_offset, uint64_t bytes) const;
};

// A tensor stored as one or more spans of whole rows; every part but the last has rows_per_part.
struct TensorSpans {
    std::vector<BufferSpan> parts;
    uint64_t row_bytes = 0;
    uint64_t rows = 0;
    uint64_t rows_per_part = 0;

    uint64_t total_bytes() const { return row_bytes * rows; }
    uint64_t first_row(size_t part) const { return part * rows_per_part; }
    uint64_t rows_in(size_t part) const;
};

class Arena {
  public:
    Arena(const Device& device, MemoryIntent intent, uint64_t chunk_bytes = 256ull << 20);
    ~Arena();
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    // One binding-sized span; throws std::length_error when bytes > max_binding_bytes.
    BufferSpan allocate(uint64_t bytes);
    // `rows` rows of `row_bytes`, split into parts of whole rows that each fit one binding.
    TensorSpans allocate_rows(uint64_t row_bytes, uint64_t rows);
    // Forgets every sub-allocation but keeps the chunks (scratch reuse between steps).
    void reset();

    uint64_t used_bytes() const;
    // Bytes asked for by allocate() and allocate_rows() since construction or reset(), without
    // alignment padding: what the memory plan predicts.
    uint64_t requested_bytes() const { return requested_; }
    uint64_t reserved_bytes() const;
    MemoryIntent intent() const { return intent_; }
    bool host_visible() const;

  private:
    struct Chunk {
        VkBuffer buffer = VK_NULL_HANDLE;
        VkDeviceMemory memory = VK_NULL_HANDLE;
        uint64_t size = 0;
        uint64_t used = 0;
        std::byte* mapped = nullptr;
    };
    Chunk& chunk_with_room(uint64_t bytes);
    Chunk create_chunk(uint64_t bytes);

    const Device& device_;  // borrowed
    MemoryIntent intent_;
    uint64_t chunk_bytes_;
    uint64_t requested_ = 0;
    uint32_t memory_type_ = UINT32_MAX;  // chosen on first chunk
    std::vector<Chunk> chunks_;          // owned
};

}  // namespace vkllm::vk
