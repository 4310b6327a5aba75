#include "loader/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "loader/model_file_error.h"

namespace vkllm {
namespace {

// Closes the descriptor on every path out of the constructor; the mapping keeps the file alive.
struct FdGuard {
    int fd;
    ~FdGuard() {
        if (fd >= 0) ::close(fd);
    }
};

std::string errno_text(int err) {
    return std::strerror(err);
}

std::string open_cause(int err) {
    switch (err) {
        case ENOENT:
            return "the file does not exist (wrong path or model not downloaded?)";
        case EACCES:
            return "permission denied (check the file's read permission)";
        case EISDIR:
            return "the path is a directory, not a model file";
        default:
            return "the file could not be opened";
    }
}

}  // namespace

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path.string()) {
    FdGuard guard{::open(path_.c_str(), O_RDONLY | O_CLOEXEC)};
    if (guard.fd < 0) {
        const int err = errno;
        throw ModelFileError(path_, "cannot open (" + errno_text(err) + "): " + open_cause(err));
    }
    struct stat st {};
    if (::fstat(guard.fd, &st) != 0) {
        throw ModelFileError(path_, "cannot stat (" + errno_text(errno) + ")");
    }
    if (!S_ISREG(st.st_mode)) {
        throw ModelFileError(path_, "not a regular file: expected a .gguf model file");
    }
    if (st.st_size <= 0) {
        throw ModelFileError(path_,
                             "the file is empty (0 bytes): the download or conversion "
                             "did not complete");
    }
    size_ = static_cast<size_t>(st.st_size);
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, guard.fd, 0);
    if (p == MAP_FAILED) {
        const int err = errno;
        throw ModelFileError(path_, "cannot memory-map " + std::to_string(size_) + " bytes (" +
                                        errno_text(err) + ")");
    }
    data_ = static_cast<const std::byte*>(p);
}

MappedFile::~MappedFile() {
    release();
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

void MappedFile::release() noexcept {
    if (data_ != nullptr) {
        // munmap takes a non-const pointer; the mapping was created by us, so the cast is sound.
        ::munmap(const_cast<std::byte*>(data_), size_);
        data_ = nullptr;
        size_ = 0;
    }
}

}  // namespace vkllm
