// libFuzzer harness for the GGUF parser (not built by default). Build by hand, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_gguf.cpp \
//       loader/ggml_type.cpp loader/gguf_reader.cpp loader/gguf_file.cpp loader/gguf_metadata.cpp \
//       loader/mapped_file.cpp -o fuzz_gguf && ./fuzz_gguf -max_len=4096
// Any exception other than ModelFileError, any crash, and any sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <span>

#include "loader/gguf_file.h"
#include "loader/model_file_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    try {
        const vkllm::GgufFile f = vkllm::GgufFile::parse(bytes, "fuzz");
        // Touch everything a loader would: metadata accessors and every tensor's data span.
        for (const vkllm::GgufKv& kv : f.metadata()) {
            try {
                (void)f.find_array<int64_t>(kv.key);
            } catch (const vkllm::ModelFileError&) {
            }
            try {
                (void)f.find_scalar<double>(kv.key);
            } catch (const vkllm::ModelFileError&) {
            }
        }
        for (const vkllm::TensorInfo& t : f.tensors()) {
            const std::span<const std::byte> d = f.data(t);
            if (!d.empty()) (void)d.back();
        }
    } catch (const vkllm::ModelFileError&) {
    }
    return 0;
}
