#include "runtime/ops/weight_upload.h"

#include <stdexcept>
#include <string>

#include "quant/device_layout.h"

namespace vkllm::ops {

void upload_weight(vk::Transfer& transfer, const vk::TensorSpans& dst, GgmlType type,
                   std::span<const std::byte> gguf) {
    if (gguf.size() != dst.total_bytes()) {
        throw std::invalid_argument("upload_weight: " + std::to_string(gguf.size()) +
                                    " bytes for a tensor of " + std::to_string(dst.total_bytes()));
    }
    for (size_t p = 0; p < dst.parts.size(); ++p) {
        upload_weight_part(
            transfer, dst.parts[p], type,
            gguf.subspan(dst.first_row(p) * dst.row_bytes, dst.rows_in(p) * dst.row_bytes));
    }
}

void upload_weight_part(vk::Transfer& transfer, const vk::BufferSpan& part, GgmlType type,
                        std::span<const std::byte> gguf) {
    // Groups count from the part's start: a part is what one binding shows a kernel.
    transfer.upload(
        part, gguf.size(),
        [&](uint64_t offset, std::span<std::byte> out) {
            quant::to_device_layout(type, gguf.subspan(offset, out.size()), out);
        },
        quant::layout_group_bytes(type));
}

}  // namespace vkllm::ops
