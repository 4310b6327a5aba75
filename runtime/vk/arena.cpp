#include "runtime/vk/arena.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "loader/align.h"
#include "runtime/vk/error.h"

namespace vkllm::vk {
namespace {

// Preferred property sets per intent, best first. DeviceLocal avoids host-visible VRAM (a small
// BAR window is slow, vulkan-notes.md §2.2) but accepts it (UMA, lavapipe).
std::vector<std::pair<VkMemoryPropertyFlags, VkMemoryPropertyFlags>> preferences(MemoryIntent i) {
    constexpr auto DL = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    constexpr auto HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
    constexpr auto HC = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    constexpr auto CA = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    switch (i) {
        case MemoryIntent::DeviceLocal:
            return {{DL, HV}, {DL, 0}, {0, 0}};
        case MemoryIntent::Upload:
            return {{HV | HC, DL}, {HV | HC, 0}};
        case MemoryIntent::Readback:
            return {{HV | HC | CA, 0}, {HV | HC, 0}};
    }
    return {};
}

}  // namespace

BufferSpan BufferSpan::sub(uint64_t byte_offset, uint64_t bytes) const {
    if (byte_offset + bytes > size) throw std::out_of_range("BufferSpan::sub past the end");
    return {buffer, offset + byte_offset, bytes, mapped ? mapped + byte_offset : nullptr};
}

uint64_t TensorSpans::rows_in(size_t part) const {
    return std::min(rows_per_part, rows - first_row(part));
}

Arena::Arena(const Device& device, MemoryIntent intent, uint64_t chunk_bytes)
    : device_(device), intent_(intent), chunk_bytes_(chunk_bytes) {}

Arena::~Arena() {
    for (Chunk& c : chunks_) {
        vkDestroyBuffer(device_.get(), c.buffer, nullptr);
        vkFreeMemory(device_.get(), c.memory, nullptr);
    }
}

Arena::Chunk Arena::create_chunk(uint64_t bytes) {
    Chunk c;
    c.size = bytes;
    VkBufferCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
    info.size = bytes;
    info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    check(vkCreateBuffer(device_.get(), &info, nullptr, &c.buffer), "vkCreateBuffer");
    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(device_.get(), c.buffer, &req);

    const auto& mem = device_.memory_properties();
    VkResult last = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    for (auto [want, avoid] : preferences(intent_)) {
        for (uint32_t t = 0; t < mem.memoryTypeCount && !c.memory; ++t) {
            const VkMemoryPropertyFlags f = mem.memoryTypes[t].propertyFlags;
            if (!(req.memoryTypeBits & (1u << t)) || (f & want) != want || (f & avoid)) continue;
            VkMemoryAllocateInfo alloc{};
            alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
            alloc.allocationSize = req.size;
            alloc.memoryTypeIndex = t;
            last = vkAllocateMemory(device_.get(), &alloc, nullptr, &c.memory);
            if (last == VK_SUCCESS)
                memory_type_ = t;
            else
                c.memory = VK_NULL_HANDLE;  // out of memory in this heap: try the next type
        }
        if (c.memory) break;
    }
    if (!c.memory) {
        vkDestroyBuffer(device_.get(), c.buffer, nullptr);
        throw VulkanError("vkAllocateMemory(" + std::to_string(bytes >> 20) + " MiB)", last);
    }
    check(vkBindBufferMemory(device_.get(), c.buffer, c.memory, 0), "vkBindBufferMemory");
    if (mem.memoryTypes[memory_type_].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
        void* p = nullptr;
        check(vkMapMemory(device_.get(), c.memory, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory");
        c.mapped = static_cast<std::byte*>(p);
    }
    return c;
}

Arena::Chunk& Arena::chunk_with_room(uint64_t bytes) {
    const uint64_t align = device_.limits().binding_alignment;
    for (Chunk& c : chunks_) {
        if (align_up(c.used, align) + bytes <= c.size) return c;
    }
    const uint64_t size =
        std::min(std::max(chunk_bytes_, bytes), device_.limits().max_allocation_bytes);
    chunks_.push_back(create_chunk(size));
    return chunks_.back();
}

BufferSpan Arena::allocate(uint64_t bytes) {
    const auto& lim = device_.limits();
    if (bytes == 0) bytes = 4;  // zero-size bindings are invalid; keep a valid dummy range
    if (bytes > lim.max_binding_bytes) {
        throw std::length_error(
            "allocation of " + std::to_string(bytes) + " bytes exceeds one binding (" +
            std::to_string(lim.max_binding_bytes) + " bytes); use allocate_rows to split it");
    }
    Chunk& c = chunk_with_room(bytes);
    const uint64_t offset = align_up(c.used, lim.binding_alignment);
    c.used = offset + bytes;
    requested_ += bytes;
    return {c.buffer, offset, bytes, c.mapped ? c.mapped + offset : nullptr};
}

TensorSpans Arena::allocate_rows(uint64_t row_bytes, uint64_t rows) {
    const auto& lim = device_.limits();
    const uint64_t cap = std::min(lim.max_binding_bytes, lim.max_allocation_bytes);
    if (row_bytes == 0 || row_bytes > cap) {
        throw std::length_error("a tensor row of " + std::to_string(row_bytes) +
                                " bytes does not fit one binding (" + std::to_string(cap) + ")");
    }
    TensorSpans t;
    t.row_bytes = row_bytes;
    t.rows = rows;
    t.rows_per_part = std::max<uint64_t>(1, std::min(rows, cap / row_bytes));
    for (uint64_t r = 0; r < rows || t.parts.empty(); r += t.rows_per_part) {
        const uint64_t n = std::min(t.rows_per_part, rows - r);
        t.parts.push_back(allocate(n * row_bytes));
        if (rows == 0) break;
    }
    return t;
}

void Arena::reset() {
    for (Chunk& c : chunks_) c.used = 0;
    requested_ = 0;
}

uint64_t Arena::used_bytes() const {
    uint64_t s = 0;
    for (const Chunk& c : chunks_) s += c.used;
    return s;
}

uint64_t Arena::reserved_bytes() const {
    uint64_t s = 0;
    for (const Chunk& c : chunks_) s += c.size;
    return s;
}

bool Arena::host_visible() const {
    return !chunks_.empty() && chunks_.front().mapped != nullptr;
}

}  // namespace vkllm::vk
