#pragma once
// Read-only memory map of a whole file. The GGUF loader hands out spans into it, so tensor data is
// never copied on the CPU before upload; the mapping lives as long as this object (move-only).

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

namespace vkllm {

class MappedFile {
  public:
    // Maps `path` read-only. Throws ModelFileError if the file is missing, unreadable, not a
    // regular file, or empty.
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();

    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::span<const std::byte> bytes() const { return {data_, size_}; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

  private:
    void release() noexcept;

    std::string path_;
    const std::byte* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace vkllm
