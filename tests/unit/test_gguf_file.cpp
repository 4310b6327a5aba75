// GGUF round trips (writer -> parser), typed metadata access, and the real fixture models.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "loader/gguf_file.h"
#include "loader/gguf_writer.h"
#include "loader/model_file_error.h"

namespace vkllm {
namespace {

std::vector<std::byte> iota_bytes(size_t n, unsigned seed) {
    std::vector<std::byte> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>((i * 31 + seed) & 0xFF);
    return out;
}

template <typename T>
std::vector<std::byte> as_byte_vector(const std::vector<T>& v) {
    const auto b = std::as_bytes(std::span<const T>(v));
    return {b.begin(), b.end()};
}

// Expects `fn` to throw ModelFileError whose message contains `needle`.
template <typename Fn>
void expect_model_error(Fn&& fn, const std::string& needle) {
    try {
        fn();
        ADD_FAILURE() << "no ModelFileError; expected one containing \"" << needle << "\"";
    } catch (const ModelFileError& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
            << "message: " << e.what() << "\nexpected substring: " << needle;
    }
}

GgufWriter every_type_writer() {
    GgufWriter w;
    w.add_u8("t.u8", 200);
    w.add_i8("t.i8", -100);
    w.add_u16("t.u16", 60000);
    w.add_i16("t.i16", -30000);
    w.add_u32("t.u32", 4000000000u);
    w.add_i32("t.i32", -2000000000);
    w.add_f32("t.f32", 1.5f);
    w.add_bool("t.bool", true);
    w.add_string("t.string", "héllo");
    w.add_u64("t.u64", 1ull << 40);
    w.add_i64("t.i64", -(1ll << 40));
    w.add_f64("t.f64", 0.25);
    const std::vector<uint8_t> u8s{1, 2, 255};
    const std::vector<int8_t> i8s{-1, 0, 1};
    const std::vector<uint16_t> u16s{1, 65535};
    const std::vector<int16_t> i16s{-5, 5};
    const std::vector<uint32_t> u32s{7, 8, 9};
    const std::vector<int32_t> i32s{-7, 8};
    const std::vector<float> f32s{0.5f, -2.0f};
    const std::vector<uint64_t> u64s{1ull << 50};
    const std::vector<int64_t> i64s{-(1ll << 50), 3};
    const std::vector<double> f64s{1e300};
    w.add_array<uint8_t>("a.u8", u8s);
    w.add_array<int8_t>("a.i8", i8s);
    w.add_array<uint16_t>("a.u16", u16s);
    w.add_array<int16_t>("a.i16", i16s);
    w.add_array<uint32_t>("a.u32", u32s);
    w.add_array<int32_t>("a.i32", i32s);
    w.add_array<float>("a.f32", f32s);
    w.add_array<uint64_t>("a.u64", u64s);
    w.add_array<int64_t>("a.i64", i64s);
    w.add_array<double>("a.f64", f64s);
    w.add_array("a.bool", GgufWriteArray::of_bools({true, false, true}));
    const std::vector<std::string> strs{"a", "", "bc"};
    w.add_array("a.string", GgufWriteArray::of_strings(std::span<const std::string>(strs)));
    const std::vector<GgufWriteArray> inner{GgufWriteArray::of<uint32_t>(u32s),
                                            GgufWriteArray::of<int32_t>(i32s)};
    w.add_array("a.nested", GgufWriteArray::of_arrays(inner));
    w.add_array<uint32_t>("a.empty", std::vector<uint32_t>{});
    return w;
}

TEST(GgufFile, RoundTripsEveryValueType) {
    const std::vector<std::byte> bytes = every_type_writer().to_bytes();
    const GgufFile f = GgufFile::parse(bytes, "every-type");
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.metadata().size(), 26u);
    EXPECT_TRUE(f.tensors().empty());
    EXPECT_EQ(f.data_offset(), bytes.size());  // no tensors: no padding, data section is empty
    EXPECT_EQ(f.get_scalar<uint8_t>("t.u8"), 200);
    EXPECT_EQ(f.get_scalar<int8_t>("t.i8"), -100);
    EXPECT_EQ(f.get_scalar<uint16_t>("t.u16"), 60000);
    EXPECT_EQ(f.get_scalar<int16_t>("t.i16"), -30000);
    EXPECT_EQ(f.get_u32("t.u32"), 4000000000u);
    EXPECT_EQ(f.get_i32("t.i32"), -2000000000);
    EXPECT_EQ(f.get_f32("t.f32"), 1.5f);
    EXPECT_TRUE(f.get_bool("t.bool"));
    EXPECT_EQ(f.get_string("t.string"), "héllo");
    EXPECT_EQ(f.get_u64("t.u64"), 1ull << 40);
    EXPECT_EQ(f.get_scalar<int64_t>("t.i64"), -(1ll << 40));
    EXPECT_EQ(f.get_scalar<double>("t.f64"), 0.25);
    EXPECT_EQ(f.get_array<uint8_t>("a.u8"), (std::vector<uint8_t>{1, 2, 255}));
    EXPECT_EQ(f.get_array<int8_t>("a.i8"), (std::vector<int8_t>{-1, 0, 1}));
    EXPECT_EQ(f.get_array<uint16_t>("a.u16"), (std::vector<uint16_t>{1, 65535}));
    EXPECT_EQ(f.get_array<int16_t>("a.i16"), (std::vector<int16_t>{-5, 5}));
    EXPECT_EQ(f.get_u32_array("a.u32"), (std::vector<uint32_t>{7, 8, 9}));
    EXPECT_EQ(f.get_i32_array("a.i32"), (std::vector<int32_t>{-7, 8}));
    EXPECT_EQ(f.get_f32_array("a.f32"), (std::vector<float>{0.5f, -2.0f}));
    EXPECT_EQ(f.get_array<uint64_t>("a.u64"), (std::vector<uint64_t>{1ull << 50}));
    EXPECT_EQ(f.get_array<int64_t>("a.i64"), (std::vector<int64_t>{-(1ll << 50), 3}));
    EXPECT_EQ(f.get_array<double>("a.f64"), (std::vector<double>{1e300}));
    EXPECT_EQ(f.get_bool_array("a.bool"), (std::vector<bool>{true, false, true}));
    EXPECT_EQ(f.get_string_array("a.string"), (std::vector<std::string_view>{"a", "", "bc"}));
    EXPECT_TRUE(f.get_u32_array("a.empty").empty());
    const GgufValue* nested = f.find("a.nested");
    ASSERT_NE(nested, nullptr);
    EXPECT_EQ(nested->type_description(), "array of array of u32");
    ASSERT_EQ(nested->items.size(), 2u);
    EXPECT_EQ(nested->items[1].elem_type, GgufValueType::I32);
    EXPECT_EQ(nested->items[1].count, 2u);
}

// add_value is how `vkllm quantize` copies metadata: every value type, nested arrays included,
// must come out byte for byte.
TEST(GgufWriter, AddValueCopiesEveryValueTypeExactly) {
    const std::vector<std::byte> bytes = every_type_writer().to_bytes();
    const GgufFile f = GgufFile::parse(bytes, "every-type");
    GgufWriter copy;
    for (const GgufKv& kv : f.metadata()) copy.add_value(kv.key, kv.value);
    EXPECT_EQ(copy.to_bytes(), bytes);
}

TEST(GgufFile, TypedAccessConvertsIntegersThatFit) {
    const std::vector<std::byte> bytes = every_type_writer().to_bytes();
    const GgufFile f = GgufFile::parse(bytes, "conv");
    EXPECT_EQ(f.get_u32("t.u8"), 200u);
    EXPECT_EQ(f.get_i32("t.u16"), 60000);
    EXPECT_EQ(f.get_u64("t.u32"), 4000000000u);
    EXPECT_EQ(f.get_scalar<int64_t>("t.i8"), -100);
    EXPECT_EQ(f.get_f32("t.f64"), 0.25f);
    EXPECT_EQ(f.get_f32("t.u8"), 200.0f);
    EXPECT_EQ(f.get_i32_array("a.u8"), (std::vector<int32_t>{1, 2, 255}));
}

TEST(GgufFile, TypedAccessErrorsNameKeyAndTypes) {
    const std::vector<std::byte> bytes = every_type_writer().to_bytes();
    const GgufFile f = GgufFile::parse(bytes, "errs");
    expect_model_error([&] { (void)f.get_u32("t.i8"); },
                       "key 't.i8': value -100 (i8) does not fit in u32");
    expect_model_error([&] { (void)f.get_scalar<uint8_t>("t.u32"); }, "does not fit in u8");
    expect_model_error([&] { (void)f.get_u32("t.string"); },
                       "key 't.string': expected u32, found string");
    expect_model_error([&] { (void)f.get_string("t.u32"); }, "expected string, found u32");
    expect_model_error([&] { (void)f.get_u32("a.u32"); }, "expected u32, found array of u32");
    expect_model_error([&] { (void)f.get_u32_array("t.u32"); }, "expected array of u32, found u32");
    expect_model_error([&] { (void)f.get_u32("no.such.key"); },
                       "key 'no.such.key': required u32 key is missing");
    expect_model_error([&] { (void)f.get_bool("t.f32"); }, "expected bool, found f32");
    expect_model_error([&] { (void)f.get_i32("t.f32"); }, "expected i32, found f32");
    expect_model_error([&] { (void)f.get_u32_array("a.i8"); }, "value -1 (i8) does not fit in u32");
    EXPECT_FALSE(f.find_u32("no.such.key").has_value());
    EXPECT_FALSE(f.find_string("no.such.key").has_value());
    EXPECT_FALSE(f.find_array<float>("no.such.key").has_value());
    EXPECT_EQ(f.find_u32("t.u8").value_or(0), 200u);
}

TEST(GgufFile, PerLayerAcceptsScalarOrExactArray) {
    GgufWriter w;
    w.add_u32("scalar", 7);
    const std::vector<int32_t> per{1, 2, 3};
    w.add_array<int32_t>("array", per);
    w.add_array("pattern", GgufWriteArray::of_bools({true, true, false}));
    w.add_u32("pattern_scalar", 1);
    const std::vector<std::byte> bytes = w.to_bytes();
    const GgufFile f = GgufFile::parse(bytes, "per-layer");
    EXPECT_EQ(f.get_u32_per_layer("scalar", 3), (std::vector<uint32_t>{7, 7, 7}));
    EXPECT_EQ(f.get_u32_per_layer("array", 3), (std::vector<uint32_t>{1, 2, 3}));
    EXPECT_EQ(f.get_bool_per_layer("pattern", 3), (std::vector<bool>{true, true, false}));
    EXPECT_EQ(f.get_bool_per_layer("pattern_scalar", 2), (std::vector<bool>{true, true}));
    EXPECT_FALSE(f.find_per_layer<uint32_t>("absent", 3).has_value());
    expect_model_error([&] { (void)f.get_u32_per_layer("array", 4); },
                       "per-layer array has 3 entries but the model has 4 layers");
    expect_model_error([&] { (void)f.get_u32_per_layer("absent", 4); }, "missing");
}

TEST(GgufFile, RoundTripsTensorsWithPaddingAndStreaming) {
    for (uint32_t align : {32u, 64u, 1u}) {
        SCOPED_TRACE(align);
        GgufWriter w(align);
        w.add_string("general.architecture", "test");
        const std::vector<float> a{1.0f, 2.0f, -0.5f};
        w.add_tensor("a", GgmlType::F32, {3}, as_byte_vector(a));
        w.add_tensor("b", GgmlType::Q8_0, {32, 2}, iota_bytes(68, 1));
        // Produced in uneven chunks, as a synthesizer would stream it.
        w.add_tensor("c", GgmlType::Q4_K, {256, 1, 2, 3}, [](TensorSink& s) {
            const std::vector<std::byte> all = iota_bytes(144 * 6, 2);
            s.write(std::span(all).first(100));
            s.write(std::span(all).subspan(100));
        });
        const std::vector<std::byte> bytes = w.to_bytes();
        const GgufFile f = GgufFile::parse(bytes, "tensors");
        EXPECT_EQ(f.alignment(), align);
        EXPECT_EQ(f.data_offset() % align, 0u);
        EXPECT_EQ(bytes.size() % align, 0u) << "writers pad after the last tensor too";
        ASSERT_EQ(f.tensors().size(), 3u);
        const TensorInfo* c = f.find_tensor("c");
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(c->type, GgmlType::Q4_K);
        EXPECT_EQ(c->n_dims, 4u);
        EXPECT_EQ(c->ne, (std::array<uint64_t, 4>{256, 1, 2, 3}));
        EXPECT_EQ(c->size_bytes, 144u * 6);
        EXPECT_EQ(c->n_elements(), 256u * 6);
        const std::vector<std::byte> want_c = iota_bytes(144 * 6, 2);
        EXPECT_TRUE(std::ranges::equal(f.data(*c), want_c));
        const TensorInfo& ta = f.tensors()[0];
        EXPECT_EQ(ta.name, "a");
        EXPECT_EQ(ta.ne, (std::array<uint64_t, 4>{3, 1, 1, 1}));
        float got[3];
        std::memcpy(got, f.data(ta).data(), sizeof(got));
        EXPECT_EQ(got[2], -0.5f);
        EXPECT_TRUE(std::ranges::equal(f.data(f.tensors()[1]), iota_bytes(68, 1)));
        EXPECT_EQ(f.find_tensor("missing"), nullptr);
    }
}

// formats.md §1.9: the writer must reproduce the verified 384-byte example exactly.
TEST(GgufFile, WriterMatchesSpecWorkedExample) {
    // formats.md §1.9 hex dump, 32 bytes per line.
    const std::string hex =
        "4747554603000000020000000000000003000000000000001400000000000000"
        "67656e6572616c2e617263686974656374757265080000000500000000000000"
        "6c6c616d61110000000000000067656e6572616c2e616c69676e6d656e740400"
        "0000200000000c0000000000000067656e6572616c2e74616773090000000800"
        "0000020000000000000001000000000000006102000000000000006263010000"
        "0000000000610100000003000000000000000000000000000000000000000100"
        "0000000000006202000000200000000000000002000000000000000800000020"
        "0000000000000000000000000000000000000000000000000000000000000000"
        "0000803f00000040000000bf0000000000000000000000000000000000000000"
        "791f0b9a4a834baf74cfc73767e319b07f56842bb67f0df5fb22ec5da7ce2c6a"
        "e1d5000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000000";
    std::vector<std::byte> want;
    for (size_t i = 0; i < hex.size(); i += 2) {
        want.push_back(static_cast<std::byte>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    ASSERT_EQ(want.size(), 384u);
    std::vector<std::byte> b(want.begin() + 0x120, want.begin() + 0x120 + 68);
    GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_u32("general.alignment", 32);
    const std::vector<std::string> tags{"a", "bc"};
    w.add_array("general.tags", GgufWriteArray::of_strings(std::span<const std::string>(tags)));
    const std::vector<float> a{1.0f, 2.0f, -0.5f};
    w.add_tensor("a", GgmlType::F32, {3}, as_byte_vector(a));
    w.add_tensor("b", GgmlType::Q8_0, {32, 2}, b);
    const std::vector<std::byte> bytes = w.to_bytes();
    EXPECT_EQ(bytes, want);
    const GgufFile f = GgufFile::parse(bytes, "example");
    EXPECT_EQ(f.data_offset(), 256u);
    EXPECT_EQ(f.tensors()[1].offset, 32u);
    EXPECT_EQ(f.get_string_array("general.tags"), (std::vector<std::string_view>{"a", "bc"}));
}

TEST(GgufFile, WriteFileAndOpenRoundTrip) {
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() /
        ("vkllm_gguf_roundtrip_" +
         std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + ".gguf");
    GgufWriter w;
    w.add_string("general.architecture", "gemma4");
    w.add_tensor("t", GgmlType::F16, {8, 2}, iota_bytes(32, 3));
    w.write_file(path);
    {
        GgufFile f = GgufFile::open(path);
        GgufFile moved = std::move(f);  // the mapping must survive the move
        EXPECT_EQ(moved.get_string("general.architecture"), "gemma4");
        EXPECT_TRUE(std::ranges::equal(moved.data(*moved.find_tensor("t")), iota_bytes(32, 3)));
        EXPECT_EQ(moved.name(), path.string());
    }
    std::filesystem::remove(path);
}

TEST(GgufWriter, RejectsMisuse) {
    GgufWriter w;
    w.add_u32("k", 1);
    EXPECT_THROW(w.add_u32("k", 2), std::invalid_argument);
    EXPECT_THROW(w.add_string("", "x"), std::invalid_argument);
    EXPECT_THROW(w.add_u32("general.alignment", 64), std::invalid_argument);
    EXPECT_THROW(w.add_tensor("q", GgmlType::Q8_0, {31}, iota_bytes(34, 0)), std::invalid_argument);
    EXPECT_THROW(w.add_tensor("q", GgmlType::F32, {2}, iota_bytes(7, 0)), std::invalid_argument);
    EXPECT_THROW(w.add_tensor("q", GgmlType::F32, {1, 1, 1, 1, 1}, iota_bytes(4, 0)),
                 std::invalid_argument);
    w.add_tensor("q", GgmlType::F32, {2}, iota_bytes(8, 0));
    EXPECT_THROW(w.add_tensor("q", GgmlType::F32, {2}, iota_bytes(8, 0)), std::invalid_argument);
    w.add_tensor("short", GgmlType::F32, {4}, [](TensorSink& s) { s.write(iota_bytes(8, 0)); });
    EXPECT_THROW((void)w.to_bytes(), std::runtime_error);
    EXPECT_THROW(GgufWriter(3), std::invalid_argument);
    EXPECT_THROW(GgufWriter(0), std::invalid_argument);
}

// ---- real fixture models --------------------------------------------------------------------

class GgufFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(GgufFixture, ParsesGemma4Model) {
    const std::filesystem::path path = std::filesystem::path(VKLLM_TEST_MODELS_DIR) / GetParam();
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture missing: " << path;
    const GgufFile f = GgufFile::open(path);
    EXPECT_EQ(f.get_string("general.architecture"), "gemma4");
    EXPECT_GE(f.version(), 2u);
    const uint32_t n_layers = f.get_u32("gemma4.block_count");
    EXPECT_GT(n_layers, 0u);
    EXPECT_EQ(f.get_u32_per_layer("gemma4.attention.head_count", n_layers).size(), n_layers);
    EXPECT_EQ(f.get_bool_per_layer("gemma4.attention.sliding_window_pattern", n_layers).size(),
              n_layers);
    EXPECT_GT(f.get_f32("gemma4.attention.layer_norm_rms_epsilon"), 0.0f);
    ASSERT_FALSE(f.tensors().empty());
    EXPECT_NE(f.find_tensor("token_embd.weight"), nullptr);
    std::map<std::string, int> by_type;
    uint64_t total = 0;
    for (const TensorInfo& t : f.tensors()) {
        ++by_type[std::string(traits_of(t.type).name)];
        EXPECT_EQ(f.data(t).size(), t.size_bytes);
        EXPECT_LE(f.data_offset() + t.offset + t.size_bytes, f.file_size());
        total += t.size_bytes;
    }
    std::string summary;
    for (const auto& [name, n] : by_type) summary += name + "=" + std::to_string(n) + " ";
    std::cout << GetParam() << ": " << f.tensors().size() << " tensors, " << f.metadata().size()
              << " keys, " << n_layers << " layers, " << total << " data bytes; " << summary
              << "\n";
    const std::string file = GetParam();
    if (file.find("q8_0") != std::string::npos) {
        EXPECT_GT(by_type["q8_0"], 0);
    }
    if (file.find("q4_k_m") != std::string::npos) {
        EXPECT_GT(by_type["q4_K"], 0);
    }
    if (file.find("moe") != std::string::npos) {
        EXPECT_NE(f.get_u32("gemma4.expert_count"), 0u);
    }
}

// Truncating a real model at points inside every section must give a "truncated" error.
TEST_P(GgufFixture, RejectsTruncationAtEverySection) {
    const std::filesystem::path path = std::filesystem::path(VKLLM_TEST_MODELS_DIR) / GetParam();
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture missing: " << path;
    const GgufFile f = GgufFile::open(path);
    const TensorInfo& last = f.tensors().back();
    const uint64_t data_end = f.data_offset() + last.offset + last.size_bytes;
    const uint64_t cuts[] = {0,
                             3,
                             4,
                             8,
                             23,
                             24,
                             25,
                             100,
                             4096,
                             f.data_offset() - 40,
                             f.data_offset() - 1,
                             f.data_offset(),
                             f.data_offset() + 1,
                             data_end - last.size_bytes / 2,
                             data_end - 1};
    for (uint64_t cut : cuts) {
        SCOPED_TRACE(cut);
        expect_model_error([&] { (void)GgufFile::parse(f.bytes().first(cut), "cut"); },
                           "truncated");
    }
}

INSTANTIATE_TEST_SUITE_P(Models, GgufFixture,
                         ::testing::Values("tiny-dense-q8_0.gguf", "tiny-dense-q4_k_m.gguf",
                                           "tiny-moe-q4_k_m.gguf", "tiny-ple-q8_0.gguf"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                             std::string n = p.param;
                             for (char& ch : n)
                                 if (ch == '-' || ch == '.') ch = '_';
                             return n;
                         });

}  // namespace
}  // namespace vkllm
