#pragma once
// Records compute work into command buffers, submits them and waits on a fence. Barriers are
// inserted only where a command touches a range that an earlier command since the last barrier
// wrote (read-after-write, write-after-write) or read (write-after-read). flush() submits what is
// recorded so far and goes on recording into another command buffer, so the GPU starts on the
// first part of a long recording while the host records the rest; a barrier's first scope takes
// in every command earlier in submission order, so hazards across the split are still covered.

#include <vulkan/vulkan.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "runtime/vk/arena.h"
#include "runtime/vk/device.h"
#include "runtime/vk/pipeline.h"

namespace vkllm::vk {

enum class Access { Read, Write, ReadWrite };

struct Binding {
    BufferSpan span;
    Access access = Access::Read;
};

inline Binding reads(const BufferSpan& s) {
    return {s, Access::Read};
}
inline Binding writes(const BufferSpan& s) {
    return {s, Access::Write};
}
inline Binding reads_writes(const BufferSpan& s) {
    return {s, Access::ReadWrite};
}

struct Groups {
    uint32_t x = 1, y = 1, z = 1;
};

class CommandStream {
  public:
    explicit CommandStream(const Device& device, uint32_t max_timestamps = 256);
    ~CommandStream();
    CommandStream(const CommandStream&) = delete;
    CommandStream& operator=(const CommandStream&) = delete;

    // Starts a new recording; previous timestamps are discarded.
    void begin();
    // Dispatches recorded since the last begin() (bench model reports them per step).
    uint32_t dispatches() const { return dispatches_; }
    void dispatch(const Pipeline& pipeline, std::span<const Binding> bindings, const void* push,
                  uint32_t push_bytes, Groups groups);
    template <typename Push>
    void dispatch(const Pipeline& pipeline, std::initializer_list<Binding> bindings,
                  const Push& push, Groups groups) {
        dispatch(pipeline, std::span<const Binding>(bindings.begin(), bindings.size()), &push,
                 static_cast<uint32_t>(sizeof(Push)), groups);
    }
    void copy(const BufferSpan& src, const BufferSpan& dst);
    void fill_zero(const BufferSpan& dst);
    // Records a timestamp after all previous work; returns its index.
    uint32_t timestamp();
    // Submits what was recorded since begin() or the last flush() (nothing when that is no
    // command) without waiting, and continues the recording in a fresh command buffer.
    void flush();
    // Ends recording, submits, waits. Host-visible results are readable afterwards.
    void submit_and_wait();
    // Submits what is recorded, waits for it and goes on recording: host-visible results are
    // readable, and work the host then submits elsewhere (vk::Transfer uploads) is ordered
    // before whatever is recorded next (which starts with a barrier). The expert cache routes a
    // layer this way before choosing what to upload.
    void sync();
    // Nanoseconds between timestamps a and b of the last submission.
    double elapsed_ns(uint32_t a, uint32_t b) const;
    uint32_t barrier_count() const { return barriers_; }

    // Profiling: with it on, every dispatch is followed by a timestamp (and begin() writes one),
    // so the time between consecutive stamps is a dispatch's cost including its barrier and
    // launch gap. Dispatches past the query pool's capacity go unprofiled (none is lost).
    void set_profiling(bool on) { profiling_ = on; }
    struct DispatchTime {
        std::string module;
        double ns;
    };
    // The profiled dispatches of the last submission, in order.
    std::vector<DispatchTime> dispatch_times() const;

  private:
    struct Range {
        VkBuffer buffer;
        uint64_t begin, end;
    };
    void before_access(std::span<const Range> reads, std::span<const Range> writes);
    void barrier();
    // Ends cmd_ with a host-visibility barrier, submits it with the fence and waits.
    void submit_fenced();
    // Takes the next command buffer of this recording (allocating one if needed) and begins it.
    void start_buffer();

    const Device& device_;  // borrowed
    // Owned.
    VkCommandPool pool_ = VK_NULL_HANDLE;
    std::vector<VkCommandBuffer> buffers_;  // allocated on first need; freed with the pool
    size_t buffers_used_ = 0;               // of this recording
    VkCommandBuffer cmd_ = VK_NULL_HANDLE;  // the one being recorded
    bool cmd_empty_ = true;                 // no command recorded into cmd_ yet
    bool unfenced_ = false;                 // flushed work no fence wait has covered yet
    VkFence fence_ = VK_NULL_HANDLE;
    VkQueryPool queries_ = VK_NULL_HANDLE;
    uint32_t max_timestamps_;
    uint32_t timestamps_used_ = 0;
    std::vector<uint64_t> timestamp_values_;
    bool recording_ = false;
    uint32_t dispatches_ = 0;
    uint32_t barriers_ = 0;
    std::vector<Range> pending_writes_;  // since the last barrier
    std::vector<Range> pending_reads_;
    bool profiling_ = false;
    // Profiled dispatches of the recording: module and the stamp written after it (the stamp
    // before it is the previous entry's, or profile_start_).
    std::vector<std::pair<std::string, uint32_t>> profile_;
    uint32_t profile_start_ = 0;
};

// Number of workgroups to cover `n` items with `per_group` items each.
inline uint32_t groups_for(uint64_t n, uint64_t per_group) {
    return static_cast<uint32_t>((n + per_group - 1) / per_group);
}

}  // namespace vkllm::vk
