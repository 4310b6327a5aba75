// Hostile and broken GGUF files, built byte by byte in the test. Each must be rejected with a
// ModelFileError whose message names the problem — never a crash, hang or huge allocation.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "loader/gguf_file.h"
#include "loader/gguf_writer.h"
#include "loader/model_file_error.h"

namespace vkllm {
namespace {

// Little-endian GGUF byte builder with no validation, so tests can write anything.
struct Raw {
    std::vector<std::byte> b;

    template <typename T>
    Raw& put(T v) {
        const auto* p = reinterpret_cast<const std::byte*>(&v);
        b.insert(b.end(), p, p + sizeof(T));
        return *this;
    }
    Raw& u32(uint32_t v) { return put(v); }
    Raw& u64(uint64_t v) { return put(v); }
    Raw& str(std::string_view s) {
        u64(s.size());
        for (char c : s) b.push_back(static_cast<std::byte>(c));
        return *this;
    }
    Raw& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
        for (char c : std::string_view("GGUF")) b.push_back(static_cast<std::byte>(c));
        return u32(version).u64(n_tensors).u64(n_kv);
    }
    Raw& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
    Raw& tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
        str(name).u32(static_cast<uint32_t>(ne.size()));
        for (uint64_t n : ne) u64(n);
        return u32(type).u64(offset);
    }
    Raw& pad(size_t align) {
        while (b.size() % align != 0) b.push_back(std::byte{0});
        return *this;
    }
    Raw& zeros(size_t n) {
        b.insert(b.end(), n, std::byte{0});
        return *this;
    }
};

void expect_rejected(std::span<const std::byte> bytes, const std::string& needle) {
    try {
        (void)GgufFile::parse(bytes, "bad.gguf");
        ADD_FAILURE() << "parsed without error; expected a ModelFileError containing \"" << needle
                      << "\"";
    } catch (const ModelFileError& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
            << "message: " << e.what() << "\nexpected substring: " << needle;
        EXPECT_EQ(e.path(), "bad.gguf");
        if (std::getenv("VKLLM_PRINT_ERRORS") != nullptr) std::cout << e.what() << "\n";
    }
}

// One f32 tensor of 8 elements with an arbitrary extra KV, padded correctly: the valid baseline.
std::vector<std::byte> valid_file() {
    GgufWriter w;
    w.add_string("general.architecture", "gemma4");
    const std::vector<uint32_t> arr{1, 2, 3};
    w.add_array<uint32_t>("x.arr", arr);
    std::vector<std::byte> d(32, std::byte{1});
    w.add_tensor("t0", GgmlType::F32, {8}, d);
    w.add_tensor("t1", GgmlType::Q8_0, {32}, std::vector<std::byte>(34, std::byte{2}));
    return w.to_bytes();
}

TEST(GgufMalformed, ValidBaselineParses) {
    EXPECT_NO_THROW((void)GgufFile::parse(valid_file(), "ok"));
}

TEST(GgufMalformed, BadMagic) {
    std::vector<std::byte> f = valid_file();
    f[0] = std::byte{'<'};
    expect_rejected(f, "bad magic: expected \"GGUF\"");
}

TEST(GgufMalformed, Versions) {
    expect_rejected(Raw().header(0, 0, 1).b, "GGUF version 1 is not supported");
    expect_rejected(Raw().header(0, 0, 0).b, "unsupported GGUF version 0");
    expect_rejected(Raw().header(0, 0, 4).b, "unsupported GGUF version 4");
    expect_rejected(Raw().header(0, 0, 0x03000000).b, "big-endian");
    EXPECT_EQ(GgufFile::parse(Raw().header(0, 0, 2).b, "v2").version(), 2u);
}

TEST(GgufMalformed, EmptyAndTinyBuffers) {
    expect_rejected({}, "truncated");
    const std::vector<std::byte> header = Raw().header(0, 0).b;
    expect_rejected(std::span(header).first(10), "truncated");
}

// Cutting the baseline at every byte before the end of the last tensor's data must fail cleanly;
// that covers every section boundary (header, each KV, each tensor info, padding, data).
TEST(GgufMalformed, TruncatedAtEveryByte) {
    const std::vector<std::byte> f = valid_file();
    const GgufFile ok = GgufFile::parse(f, "ok");
    const TensorInfo& last = ok.tensors().back();
    const size_t data_end = static_cast<size_t>(ok.data_offset() + last.offset + last.size_bytes);
    for (size_t cut = 0; cut < data_end; ++cut) {
        SCOPED_TRACE(cut);
        expect_rejected(std::span(f).first(cut), "truncated");
    }
}

TEST(GgufMalformed, HugeCountsFailFastWithoutAllocating) {
    expect_rejected(Raw().header(0, uint64_t{1} << 62).b,
                    "metadata count 4611686018427387904 is implausible");
    expect_rejected(Raw().header(uint64_t{1} << 62, 0).b,
                    "tensor count 4611686018427387904 is implausible");
    expect_rejected(Raw().header(~uint64_t{0}, 0).b, "negative");
    expect_rejected(Raw().header(0, 3).zeros(20).b, "metadata count 3 is implausible");
    // Each count alone fits, together they do not.
    expect_rejected(Raw().header(1, 2).zeros(40).b, "cannot both fit");
}

TEST(GgufMalformed, HugeStringLength) {
    expect_rejected(Raw().header(0, 1).u64(uint64_t{1} << 40).zeros(16).b,
                    "has length 1099511627776, above the 1 GiB limit");
    expect_rejected(Raw().header(0, 1).u64(1000).zeros(16).b,
                    "has length 1000 but only 16 bytes are left");
    expect_rejected(Raw().header(0, 1).str("k").u32(8).u64(~uint64_t{0}).zeros(8).b,
                    "the value of key 'k' has length");
}

TEST(GgufMalformed, HugeArrayCount) {
    expect_rejected(Raw().header(0, 1).str("k").u32(9).u32(4).u64(uint64_t{1} << 60).zeros(64).b,
                    "key 'k' has array count 1152921504606846976");
    expect_rejected(Raw().header(0, 1).str("k").u32(9).u32(8).u64(100).zeros(64).b,
                    "array count 100 of string");
}

TEST(GgufMalformed, UnknownValueTypes) {
    expect_rejected(Raw().header(0, 1).str("k").u32(13).zeros(8).b,
                    "key 'k' has unknown value type 13");
    expect_rejected(Raw().header(0, 1).str("k").u32(9).u32(77).u64(0).b,
                    "unknown array element type 77");
}

TEST(GgufMalformed, EmptyAndDuplicateKeys) {
    expect_rejected(Raw().header(0, 1).str("").u32(4).u32(1).b, "empty key");
    expect_rejected(Raw().header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2).b,
                    "duplicate metadata key 'a.b'");
}

TEST(GgufMalformed, DeeplyNestedArrays) {
    Raw r;
    r.header(0, 1).str("deep").u32(9);
    for (int i = 0; i < 10; ++i) r.u32(9).u64(1);
    r.zeros(64);
    expect_rejected(r.b, "nests arrays deeper than");
}

TEST(GgufMalformed, BadAlignment) {
    expect_rejected(Raw().header(0, 1).kv_u32("general.alignment", 0).b,
                    "general.alignment is 0: it must be a non-zero power of two");
    expect_rejected(Raw().header(0, 1).kv_u32("general.alignment", 3).b, "general.alignment is 3");
    expect_rejected(Raw().header(0, 1).str("general.alignment").u32(10).u64(32).b,
                    "general.alignment has type u64, expected u32");
}

// A one-tensor file with the given tensor record, padded and followed by `data_bytes` zeros.
std::vector<std::byte> one_tensor(std::vector<uint64_t> ne, uint32_t type, uint64_t offset,
                                  size_t data_bytes = 64, std::string_view name = "w") {
    return Raw().header(1, 0).tensor(name, std::move(ne), type, offset).pad(32).zeros(data_bytes).b;
}

TEST(GgufMalformed, TensorTypes) {
    expect_rejected(one_tensor({32}, 99, 0), "tensor 'w' has unknown type id 99");
    expect_rejected(one_tensor({32}, 4, 0), "type id 4, a type removed from ggml");
    expect_rejected(one_tensor({32}, 36, 0), "removed from ggml");
    expect_rejected(one_tensor({32}, 48, 0), "unknown type id 48");
}

TEST(GgufMalformed, TensorShapes) {
    expect_rejected(Raw().header(1, 0).tensor("w", {1, 1, 1, 1, 1}, 0, 0).pad(32).zeros(64).b,
                    "tensor 'w' has n_dims 5");
    expect_rejected(one_tensor({33}, 8, 0), "has ne[0] = 33, not a multiple of the block size 32");
    expect_rejected(one_tensor({100}, 12, 0), "not a multiple of the block size 256");
    expect_rejected(one_tensor({uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0),
                    "element count overflows");
    expect_rejected(one_tensor({uint64_t{1} << 62}, 28, 0), "byte size overflows");
    expect_rejected(one_tensor({uint64_t{1} << 63}, 0, 0), "negative dimension ne[0]");
    expect_rejected(one_tensor({8}, 0, 0, 64, ""), "empty name");
    expect_rejected(one_tensor({8}, 0, 0, 64, std::string(64, 'n')), "64-byte name");
}

TEST(GgufMalformed, TensorOffsetsAndBounds) {
    expect_rejected(one_tensor({8}, 0, 4),
                    "tensor 'w' has data offset 4, not a multiple of the alignment 32");
    expect_rejected(one_tensor({64}, 0, 0, 64), "tensor 'w' ends at byte");
    expect_rejected(one_tensor({64}, 0, 0, 64), "the file is truncated");
    expect_rejected(one_tensor({8}, 0, uint64_t{1} << 62), "ends at byte");
    expect_rejected(one_tensor({8}, 0, ~uint64_t{31}), "beyond 2^64");
    // A big but in-range shape with a tiny file: reports the sizes humanly.
    expect_rejected(one_tensor({uint64_t{1} << 28, 4}, 0, 0), "GiB)");
}

TEST(GgufMalformed, OverlappingTensors) {
    Raw r;
    r.header(3, 0)
        .tensor("a", {8}, 0, 0)
        .tensor("b", {32}, 0, 64)
        .tensor("c", {8}, 0, 96)
        .pad(32)
        .zeros(256);
    expect_rejected(r.b, "tensors 'b' (data bytes 64..192) and 'c' (starting at 96) overlap");
    Raw same;
    same.header(2, 0).tensor("a", {8}, 0, 0).tensor("b", {8}, 0, 0).pad(32).zeros(64);
    expect_rejected(same.b, "overlap");
}

TEST(GgufMalformed, DuplicateTensorName) {
    Raw r;
    r.header(2, 0).tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32).pad(32).zeros(64);
    expect_rejected(r.b, "duplicate tensor name 'w'");
}

TEST(GgufMalformed, CorruptingEveryByteNeverCrashes) {
    // Not every flip is invalid (data bytes, string contents), so only "no crash, and any error is
    // a ModelFileError" is asserted; sanitizer builds turn hidden out-of-bounds reads into
    // failures.
    const std::vector<std::byte> base = valid_file();
    for (size_t i = 0; i < base.size(); ++i) {
        for (uint8_t v : {uint8_t{0x00}, uint8_t{0xFF}, uint8_t{0x80}, uint8_t{0x01}}) {
            std::vector<std::byte> f = base;
            f[i] = static_cast<std::byte>(v);
            try {
                (void)GgufFile::parse(f, "flip");
            } catch (const ModelFileError&) {
            }
        }
    }
}

TEST(MappedFile, MissingEmptyAndDirectory) {
    try {
        (void)GgufFile::open("/nonexistent/dir/model.gguf");
        ADD_FAILURE();
    } catch (const ModelFileError& e) {
        EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
        EXPECT_EQ(e.path(), "/nonexistent/dir/model.gguf");
    }
    const std::filesystem::path empty =
        std::filesystem::temp_directory_path() / "vkllm_empty_test.gguf";
    { std::ofstream(empty).flush(); }
    EXPECT_THROW((void)GgufFile::open(empty), ModelFileError);
    try {
        (void)GgufFile::open(empty);
    } catch (const ModelFileError& e) {
        EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
    }
    std::filesystem::remove(empty);
    try {
        (void)GgufFile::open(std::filesystem::temp_directory_path());
        ADD_FAILURE();
    } catch (const ModelFileError& e) {
        EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace vkllm
