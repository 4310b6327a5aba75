#include "runtime/vk/transfer.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace vkllm::vk {

Transfer::Transfer(const Device& device, uint64_t staging_bytes)
    : upload_arena_(device, MemoryIntent::Upload, staging_bytes),
      readback_arena_(device, MemoryIntent::Readback, staging_bytes),
      upload_staging_(
          upload_arena_.allocate(std::min(staging_bytes, device.limits().max_binding_bytes))),
      readback_staging_(
          readback_arena_.allocate(std::min(staging_bytes, device.limits().max_binding_bytes))),
      stream_(device, 0) {}

void Transfer::upload(const BufferSpan& dst, std::span<const std::byte> src) {
    upload(dst, src.size(), [src](uint64_t offset, std::span<std::byte> out) {
        std::memcpy(out.data(), src.data() + offset, out.size());
    });
}

void Transfer::upload(const BufferSpan& dst, uint64_t bytes, const Fill& fill,
                      uint64_t piece_align) {
    if (bytes > dst.size) throw std::out_of_range("Transfer::upload larger than destination");
    if (dst.mapped) {
        fill(0, std::span(dst.mapped, bytes));
        return;
    }
    const uint64_t piece = upload_staging_.size / piece_align * piece_align;
    if (piece == 0) throw std::invalid_argument("Transfer::upload: pieces larger than staging");
    for (uint64_t done = 0; done < bytes;) {
        const uint64_t n = std::min<uint64_t>(piece, bytes - done);
        fill(done, std::span(upload_staging_.mapped, n));
        stream_.begin();
        stream_.copy(upload_staging_.sub(0, n), dst.sub(done, n));
        stream_.submit_and_wait();
        done += n;
    }
}

void Transfer::download(const BufferSpan& src, std::span<std::byte> dst) {
    if (dst.size() > src.size) throw std::out_of_range("Transfer::download larger than source");
    if (src.mapped) {
        std::memcpy(dst.data(), src.mapped, dst.size());
        return;
    }
    for (uint64_t done = 0; done < dst.size();) {
        const uint64_t n = std::min<uint64_t>(readback_staging_.size, dst.size() - done);
        stream_.begin();
        stream_.copy(src.sub(done, n), readback_staging_.sub(0, n));
        stream_.submit_and_wait();
        std::memcpy(dst.data() + done, readback_staging_.mapped, n);
        done += n;
    }
}

void Transfer::upload(const TensorSpans& dst, std::span<const std::byte> src) {
    if (src.size() != dst.total_bytes())
        throw std::invalid_argument("Transfer::upload: tensor size mismatch");
    for (size_t p = 0; p < dst.parts.size(); ++p) {
        const uint64_t off = dst.first_row(p) * dst.row_bytes;
        upload(dst.parts[p], src.subspan(off, dst.rows_in(p) * dst.row_bytes));
    }
}

void Transfer::download(const TensorSpans& src, std::span<std::byte> dst) {
    if (dst.size() != src.total_bytes())
        throw std::invalid_argument("Transfer::download: tensor size mismatch");
    for (size_t p = 0; p < src.parts.size(); ++p) {
        const uint64_t off = src.first_row(p) * src.row_bytes;
        download(src.parts[p], dst.subspan(off, src.rows_in(p) * src.row_bytes));
    }
}

}  // namespace vkllm::vk
