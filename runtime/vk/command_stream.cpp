#include "runtime/vk/command_stream.h"

#include <stdexcept>
#include <string>

#include "runtime/vk/error.h"

namespace vkllm::vk {
namespace {

bool overlaps(VkBuffer b, uint64_t begin, uint64_t end, const auto& ranges) {
    for (const auto& r : ranges) {
        if (r.buffer == b && begin < r.end && r.begin < end) return true;
    }
    return false;
}

constexpr VkPipelineStageFlags k_work_stages =
    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;

}  // namespace

CommandStream::CommandStream(const Device& device, uint32_t max_timestamps)
    : device_(device), max_timestamps_(max_timestamps) {
    VkDevice dev = device.get();
    VkCommandPoolCreateInfo pool{};
    pool.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    pool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pool.queueFamilyIndex = device.compute_family();
    check(vkCreateCommandPool(dev, &pool, nullptr, &pool_), "vkCreateCommandPool");
    VkFenceCreateInfo fence{};
    fence.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    fence.flags = VK_FENCE_CREATE_SIGNALED_BIT;  // so the destructor's wait never blocks
    VkQueryPoolCreateInfo query{};
    query.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    query.queryType = VK_QUERY_TYPE_TIMESTAMP;
    query.queryCount = max_timestamps_;
    try {
        check(vkCreateFence(dev, &fence, nullptr, &fence_), "vkCreateFence");
        if (device.info().timestamps && max_timestamps_ > 0) {
            check(vkCreateQueryPool(dev, &query, nullptr, &queries_), "vkCreateQueryPool");
        }
    } catch (...) {
        if (fence_) vkDestroyFence(dev, fence_, nullptr);
        vkDestroyCommandPool(dev, pool_, nullptr);
        throw;
    }
}

CommandStream::~CommandStream() {
    VkDevice dev = device_.get();
    // A stream destroyed mid-flight (exception between submit and wait) must not free live work;
    // flushed buffers have no fence of their own.
    vkWaitForFences(dev, 1, &fence_, VK_TRUE, UINT64_MAX);
    if (unfenced_) vkQueueWaitIdle(device_.compute_queue());
    if (queries_) vkDestroyQueryPool(dev, queries_, nullptr);
    vkDestroyFence(dev, fence_, nullptr);
    vkDestroyCommandPool(dev, pool_, nullptr);
}

void CommandStream::begin() {
    if (recording_) throw std::logic_error("CommandStream::begin while recording");
    // The previous recording was waited for, so every buffer is free again.
    buffers_used_ = 0;
    start_buffer();
    dispatches_ = 0;
    if (queries_) vkCmdResetQueryPool(cmd_, queries_, 0, max_timestamps_);
    recording_ = true;
    timestamps_used_ = 0;
    pending_reads_.clear();
    pending_writes_.clear();
    profile_.clear();
    if (profiling_ && queries_) profile_start_ = timestamp();
}

void CommandStream::start_buffer() {
    if (buffers_used_ == buffers_.size()) {  // first use, or a recording flushed more than before
        VkCommandBufferAllocateInfo alloc{};
        alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
        alloc.commandPool = pool_;
        alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
        alloc.commandBufferCount = 1;
        VkCommandBuffer b = VK_NULL_HANDLE;
        check(vkAllocateCommandBuffers(device_.get(), &alloc, &b), "vkAllocateCommandBuffers");
        buffers_.push_back(b);
    }
    cmd_ = buffers_[buffers_used_++];
    check(vkResetCommandBuffer(cmd_, 0), "vkResetCommandBuffer");
    VkCommandBufferBeginInfo info{};
    info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    info.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(cmd_, &info), "vkBeginCommandBuffer");
    cmd_empty_ = true;
}

void CommandStream::flush() {
    if (!recording_) throw std::logic_error("CommandStream::flush without begin()");
    if (cmd_empty_) return;
    check(vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");
    VkSubmitInfo submit{};
    submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &cmd_;
    check(vkQueueSubmit(device_.compute_queue(), 1, &submit, VK_NULL_HANDLE), "vkQueueSubmit");
    unfenced_ = true;
    // Pending reads and writes stay tracked: the next hazard's barrier, recorded into the next
    // buffer, waits for these commands too (they are earlier in submission order).
    start_buffer();
}

void CommandStream::barrier() {
    VkMemoryBarrier b{};
    b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    b.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    b.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    vkCmdPipelineBarrier(cmd_, k_work_stages, k_work_stages, 0, 1, &b, 0, nullptr, 0, nullptr);
    pending_reads_.clear();
    pending_writes_.clear();
    ++barriers_;
}

void CommandStream::before_access(std::span<const Range> reads, std::span<const Range> writes) {
    if (!recording_) throw std::logic_error("CommandStream: record after begin()");
    bool hazard = false;
    for (const Range& r : reads)
        hazard = hazard || overlaps(r.buffer, r.begin, r.end, pending_writes_);
    for (const Range& w : writes) {
        hazard = hazard || overlaps(w.buffer, w.begin, w.end, pending_writes_) ||
                 overlaps(w.buffer, w.begin, w.end, pending_reads_);
    }
    if (hazard) barrier();
    pending_reads_.insert(pending_reads_.end(), reads.begin(), reads.end());
    pending_writes_.insert(pending_writes_.end(), writes.begin(), writes.end());
}

void CommandStream::dispatch(const Pipeline& pipeline, std::span<const Binding> bindings,
                             const void* push, uint32_t push_bytes, Groups groups) {
    const PipelineDesc& d = pipeline.desc();
    ++dispatches_;
    if (bindings.size() != d.bindings || push_bytes != d.push_bytes) {
        throw std::logic_error("dispatch of " + d.module + ": " + std::to_string(bindings.size()) +
                               " bindings / " + std::to_string(push_bytes) +
                               " push bytes, expected " + std::to_string(d.bindings) + " / " +
                               std::to_string(d.push_bytes));
    }
    const auto& wg = device_.info().max_workgroup_count;
    if (groups.x == 0 || groups.y == 0 || groups.z == 0) return;  // empty work
    if (groups.x > wg[0] || groups.y > wg[1] || groups.z > wg[2]) {
        throw std::logic_error("dispatch of " + d.module + " exceeds maxComputeWorkGroupCount");
    }
    std::vector<Range> reads, writes;
    std::vector<VkDescriptorBufferInfo> infos(bindings.size());
    std::vector<VkWriteDescriptorSet> sets(bindings.size());
    for (size_t i = 0; i < bindings.size(); ++i) {
        const BufferSpan& s = bindings[i].span;
        const Range r{s.buffer, s.offset, s.offset + s.size};
        if (bindings[i].access != Access::Write) reads.push_back(r);
        if (bindings[i].access != Access::Read) writes.push_back(r);
        infos[i] = {s.buffer, s.offset, s.size};
        sets[i] = {};
        sets[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
        sets[i].dstBinding = static_cast<uint32_t>(i);
        sets[i].descriptorCount = 1;
        sets[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        sets[i].pBufferInfo = &infos[i];
    }
    before_access(reads, writes);
    vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.get());
    device_.push_descriptor_fn()(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout(), 0,
                                 static_cast<uint32_t>(sets.size()), sets.data());
    if (push_bytes) {
        vkCmdPushConstants(cmd_, pipeline.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes,
                           push);
    }
    vkCmdDispatch(cmd_, groups.x, groups.y, groups.z);
    cmd_empty_ = false;
    if (profiling_ && queries_ && timestamps_used_ < max_timestamps_) {
        profile_.emplace_back(d.module, timestamp());
    }
}

std::vector<CommandStream::DispatchTime> CommandStream::dispatch_times() const {
    std::vector<DispatchTime> out;
    uint32_t prev = profile_start_;
    for (const auto& [module, stamp] : profile_) {
        out.push_back({module, elapsed_ns(prev, stamp)});
        prev = stamp;
    }
    return out;
}

void CommandStream::copy(const BufferSpan& src, const BufferSpan& dst) {
    if (src.size != dst.size) throw std::logic_error("CommandStream::copy size mismatch");
    const Range r{src.buffer, src.offset, src.offset + src.size};
    const Range w{dst.buffer, dst.offset, dst.offset + dst.size};
    before_access({&r, 1}, {&w, 1});
    VkBufferCopy region{src.offset, dst.offset, src.size};
    vkCmdCopyBuffer(cmd_, src.buffer, dst.buffer, 1, &region);
    cmd_empty_ = false;
}

void CommandStream::fill_zero(const BufferSpan& dst) {
    const Range w{dst.buffer, dst.offset, dst.offset + dst.size};
    before_access({}, {&w, 1});
    if (dst.size % 4 != 0)
        throw std::logic_error("CommandStream::fill_zero needs a multiple of 4 bytes");
    vkCmdFillBuffer(cmd_, dst.buffer, dst.offset, dst.size, 0);
    cmd_empty_ = false;
}

uint32_t CommandStream::timestamp() {
    if (!queries_) return 0;
    if (timestamps_used_ >= max_timestamps_) throw std::logic_error("out of timestamp queries");
    vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, timestamps_used_);
    cmd_empty_ = false;
    return timestamps_used_++;
}

void CommandStream::submit_fenced() {
    // Make every device write visible to the host once the fence signals.
    VkMemoryBarrier b{};
    b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    b.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    b.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    vkCmdPipelineBarrier(cmd_, k_work_stages, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &b, 0, nullptr, 0,
                         nullptr);
    check(vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");
    VkSubmitInfo submit{};
    submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &cmd_;
    check(vkResetFences(device_.get(), 1, &fence_), "vkResetFences");
    check(vkQueueSubmit(device_.compute_queue(), 1, &submit, fence_), "vkQueueSubmit");
    check(vkWaitForFences(device_.get(), 1, &fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    unfenced_ = false;  // the final barrier waited for every earlier submission too
}

void CommandStream::sync() {
    if (!recording_) throw std::logic_error("CommandStream::sync without begin()");
    submit_fenced();
    start_buffer();
    // Whatever the host had written or submitted meanwhile comes before the next command.
    barrier();
}

void CommandStream::submit_and_wait() {
    if (!recording_) throw std::logic_error("CommandStream::submit_and_wait without begin()");
    recording_ = false;
    submit_fenced();
    timestamp_values_.assign(timestamps_used_, 0);
    if (queries_ && timestamps_used_ > 0) {
        check(vkGetQueryPoolResults(device_.get(), queries_, 0, timestamps_used_,
                                    timestamp_values_.size() * sizeof(uint64_t),
                                    timestamp_values_.data(), sizeof(uint64_t),
                                    VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
              "vkGetQueryPoolResults");
    }
}

double CommandStream::elapsed_ns(uint32_t a, uint32_t b) const {
    if (a >= timestamp_values_.size() || b >= timestamp_values_.size()) return 0;
    return static_cast<double>(timestamp_values_[b] - timestamp_values_[a]) *
           device_.info().timestamp_period_ns;
}

}  // namespace vkllm::vk
