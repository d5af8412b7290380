#include "formats/safetensors.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "tessera/error.hpp"

namespace tessera::formats {
namespace {

using ::testing::HasSubstr;

class SafetensorsTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::path(::testing::TempDir()) /
               ("tessera_st_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // A file with exactly this header text and data bytes.
    std::filesystem::path write_raw(const std::string& name, const std::string& header, std::size_t data_bytes,
                                    std::uint64_t declared_header_bytes = 0) {
        const auto path = dir_ / name;
        std::ofstream out(path, std::ios::binary);
        const std::uint64_t size = declared_header_bytes != 0 ? declared_header_bytes : header.size();
        for (int byte_idx = 0; byte_idx < 8; ++byte_idx) out.put(static_cast<char>((size >> (8 * byte_idx)) & 0xFF));
        out << header;
        for (std::size_t idx = 0; idx < data_bytes; ++idx) out.put(static_cast<char>(idx & 0x7F));
        return path;
    }

    // Expects open() to throw `code` with a message containing every fragment.
    static void expect_error(const std::filesystem::path& path, ErrorCode code, std::vector<std::string> fragments) {
        try {
            (void)SafetensorsFile::open(path);
            FAIL() << "no error for " << path;
        } catch (const Error& err) {
            EXPECT_EQ(err.code(), code) << err.what();
            for (const auto& fragment : fragments) EXPECT_THAT(err.what(), HasSubstr(fragment));
        }
    }

    std::filesystem::path dir_;
};

TEST_F(SafetensorsTest, RoundTripsF32ZeroCopy) {
    const auto path = dir_ / "model.safetensors";
    write_safetensors(path, {{.name = "b", .shape = {2, 3}, .values = {1, 2, 3, 4, 5, 6}},
                             {.name = "a", .shape = {}, .values = {42}}});
    const auto file = SafetensorsFile::open(path);
    ASSERT_EQ(file.tensors().size(), 2u);
    EXPECT_EQ(file.metadata().at("format"), "pt");
    const auto store = WeightStore::open_file(path);
    const auto b = store->floats("b", {2, 3});
    EXPECT_EQ(std::vector<float>(b.begin(), b.end()), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    // Zero copy: the span points into the memory map, inside the file's data region.
    EXPECT_EQ(static_cast<const void*>(b.data()), static_cast<const void*>(store->tensor("b").bytes.data()));
    EXPECT_EQ(store->floats("a", {})[0], 42.0f);
    EXPECT_EQ(store->data_bytes(), 28u);
    // Released (its file pages dropped: core::MappedFile::release), it still reads the same.
    store->release("b");
    const auto reread = store->floats("b", {2, 3});
    EXPECT_EQ(std::vector<float>(reread.begin(), reread.end()), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    EXPECT_THROW(store->release("missing"), Error);
}

TEST_F(SafetensorsTest, ConvertsF16AndBF16Once) {
    const std::vector<float> values = {0.0f, 1.0f, -2.5f, 0.333251953125f, 65504.0f, 6.0e-8f, -1e-3f};
    for (const DType dtype : {DType::f16, DType::bf16}) {
        const auto path = dir_ / (std::string(dtype_name(dtype)) + ".safetensors");
        write_safetensors(path, {{.name = "w", .shape = {values.size()}, .dtype = dtype, .values = values}});
        const auto store = WeightStore::open_file(path);
        EXPECT_EQ(store->tensor("w").dtype, dtype);
        const auto converted = store->floats("w", {values.size()});
        for (std::size_t idx = 0; idx < values.size(); ++idx) {
            const float tolerance = dtype == DType::f16 ? std::max(std::fabs(values[idx]) * 1e-3f, 6e-8f)
                                                        : std::fabs(values[idx]) * 8e-3f;
            EXPECT_NEAR(converted[idx], values[idx], tolerance) << dtype_name(dtype) << " #" << idx;
        }
        // Converted once: a second call returns the same buffer.
        EXPECT_EQ(converted.data(), store->floats("w", {values.size()}).data());
        // Released (after packing), the copy is freed; asking again converts again.
        const std::vector<float> kept(converted.begin(), converted.end());
        store->release("w");
        const auto again = store->floats("w", {values.size()});
        EXPECT_EQ(std::vector<float>(again.begin(), again.end()), kept);
    }
    EXPECT_EQ(f16_to_float(0x3C00), 1.0f);
    EXPECT_EQ(f16_to_float(0xC000), -2.0f);
    EXPECT_EQ(f16_to_float(0x0001), std::ldexp(1.0f, -24));
    EXPECT_TRUE(std::isinf(f16_to_float(0x7C00)));
    EXPECT_EQ(bf16_to_float(0x3F80), 1.0f);
    EXPECT_EQ(float_to_bf16(1.0f), 0x3F80);
    EXPECT_EQ(float_to_f16(1.0f), 0x3C00);
}

TEST_F(SafetensorsTest, UnalignedF32IsCopied) {
    // Header of 13 bytes: data starts at byte 21, not a multiple of 4.
    const std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    const std::string padded = header + std::string((4 - (8 + header.size()) % 4) % 4 + 1, ' ');
    const auto path = dir_ / "unaligned.safetensors";
    {
        std::ofstream out(path, std::ios::binary);
        const std::uint64_t size = padded.size();
        for (int byte_idx = 0; byte_idx < 8; ++byte_idx) out.put(static_cast<char>((size >> (8 * byte_idx)) & 0xFF));
        out << padded;
        const float values[2] = {1.5f, -3.0f};
        out.write(reinterpret_cast<const char*>(values), sizeof(values));
    }
    const auto store = WeightStore::open_file(path);
    const auto values = store->floats("x", {2});
    EXPECT_EQ(values[0], 1.5f);
    EXPECT_EQ(values[1], -3.0f);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(values.data()) % alignof(float), 0u);
}

TEST_F(SafetensorsTest, RejectsFileShorterThanHeaderLength) {
    const auto path = dir_ / "tiny.safetensors";
    std::ofstream(path, std::ios::binary) << "abc";
    expect_error(path, ErrorCode::corrupt, {"tiny.safetensors", "truncated"});
}

TEST_F(SafetensorsTest, RejectsHeaderLongerThanFile) {
    const auto path = write_raw("long.safetensors", R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4, 5000);
    expect_error(path, ErrorCode::corrupt, {"long.safetensors", "header length 5000", "past the end"});
}

TEST_F(SafetensorsTest, RejectsHugeHeader) {
    const auto path = write_raw("huge.safetensors", "{}", 0, 1ull << 40);
    expect_error(path, ErrorCode::corrupt, {"100 MB"});
}

TEST_F(SafetensorsTest, RejectsTruncatedData) {
    const auto good = dir_ / "good.safetensors";
    write_safetensors(good, {{.name = "w", .shape = {4, 4}, .values = std::vector<float>(16, 1.0f)}});
    const auto size = std::filesystem::file_size(good);
    const auto cut = dir_ / "cut.safetensors";
    std::filesystem::copy_file(good, cut);
    std::filesystem::resize_file(cut, size - 10);
    expect_error(cut, ErrorCode::corrupt, {"cut.safetensors", "tensor 'w'", "past the end"});
}

TEST_F(SafetensorsTest, RejectsOverlappingOffsets) {
    const auto path = write_raw(
        "overlap.safetensors",
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12);
    expect_error(path, ErrorCode::corrupt, {"tensor 'b'", "overlap"});
}

TEST_F(SafetensorsTest, RejectsOffsetsPastEnd) {
    const auto path = write_raw("past.safetensors", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);
    expect_error(path, ErrorCode::corrupt, {"tensor 'a'", "[0, 16]", "past the end"});
}

TEST_F(SafetensorsTest, RejectsHolesAndBackwardOffsets) {
    expect_error(write_raw("hole.safetensors", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
                 ErrorCode::corrupt, {"tensor 'a'", "hole"});
    expect_error(write_raw("back.safetensors", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8),
                 ErrorCode::corrupt, {"tensor 'a'", "backwards"});
}

TEST_F(SafetensorsTest, RejectsDtypeShapeMismatch) {
    const auto path = write_raw("mismatch.safetensors", R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}})", 16);
    expect_error(path, ErrorCode::corrupt, {"tensor 'a'", "F32 [2, 3] needs 24 bytes", "span 16"});
    expect_error(write_raw("dtype.safetensors", R"({"a":{"dtype":"Q9","shape":[1],"data_offsets":[0,1]}})", 1),
                 ErrorCode::corrupt, {"unknown dtype 'Q9'"});
}

TEST_F(SafetensorsTest, RejectsMalformedHeader) {
    expect_error(write_raw("bad.safetensors", R"({"a": {"dtype": )", 0), ErrorCode::corrupt, {"malformed JSON"});
    expect_error(write_raw("array.safetensors", "[1,2]", 0), ErrorCode::corrupt, {"not a JSON object"});
    expect_error(write_raw("noffs.safetensors", R"({"a":{"dtype":"F32","shape":[1]}})", 4), ErrorCode::corrupt,
                 {"tensor 'a'", "data_offsets"});
    expect_error(write_raw("negshape.safetensors", R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
                 ErrorCode::corrupt, {"tensor 'a'", "shape"});
}

TEST_F(SafetensorsTest, ReportsMissingTensorAndWrongShapeOrDtype) {
    const auto path = dir_ / "model.safetensors";
    write_safetensors(path, {{.name = "w", .shape = {2, 2}, .values = {1, 2, 3, 4}},
                             {.name = "ids", .shape = {2}, .raw = std::vector<std::byte>(16), .dtype_label = "I64"}});
    const auto store = WeightStore::open_file(path);
    try {
        (void)store->floats("missing.weight", {2});
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
        EXPECT_THAT(err.what(), HasSubstr("missing tensor 'missing.weight'"));
        EXPECT_THAT(err.what(), HasSubstr("model.safetensors"));
    }
    try {
        (void)store->floats("w", {4, 1});
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::corrupt);
        EXPECT_THAT(err.what(), HasSubstr("tensor 'w': shape [2, 2], expected [4, 1]"));
    }
    try {
        (void)store->floats("ids", {2});
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::corrupt);
        EXPECT_THAT(err.what(), HasSubstr("tensor 'ids': dtype I64"));
    }
}

TEST_F(SafetensorsTest, MissingFileIsNotFound) {
    try {
        (void)SafetensorsFile::open(dir_ / "absent.safetensors");
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
    }
    try {
        (void)WeightStore::open_model_dir(dir_);
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
        EXPECT_THAT(err.what(), HasSubstr("no model.safetensors"));
    }
}

TEST_F(SafetensorsTest, ReadsShardsThroughIndex) {
    write_safetensors(dir_ / "model-00001-of-00002.safetensors", {{.name = "a", .shape = {1}, .values = {1}}});
    write_safetensors(dir_ / "model-00002-of-00002.safetensors",
                      {{.name = "b", .shape = {2}, .dtype = DType::bf16, .values = {2, 3}}});
    std::ofstream(dir_ / "model.safetensors.index.json")
        << R"({"metadata":{"total_size":8},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}})";
    const auto store = WeightStore::open_model_dir(dir_);
    EXPECT_EQ(store->names(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(store->floats("a", {1})[0], 1.0f);
    EXPECT_EQ(store->floats("b", {2})[1], 3.0f);
}

TEST_F(SafetensorsTest, RejectsBadIndex) {
    write_safetensors(dir_ / "shard.safetensors", {{.name = "a", .shape = {1}, .values = {1}}});
    const auto index = dir_ / "model.safetensors.index.json";
    auto expect_index_error = [&](const std::string& text, ErrorCode code, const std::string& fragment) {
        std::ofstream(index, std::ios::trunc) << text;
        try {
            (void)WeightStore::open_model_dir(dir_);
            FAIL() << text;
        } catch (const Error& err) {
            EXPECT_EQ(err.code(), code) << err.what();
            EXPECT_THAT(err.what(), HasSubstr(fragment));
        }
    };
    expect_index_error(R"({"weight_map":{"b":"shard.safetensors"}})", ErrorCode::corrupt,
                       "weight_map.b: tensor not found in shard 'shard.safetensors'");
    expect_index_error(R"({"weight_map":{"a":"../shard.safetensors"}})", ErrorCode::corrupt, "bad shard file name");
    expect_index_error(R"({"weight_map":{"a":"gone.safetensors"}})", ErrorCode::not_found, "gone.safetensors");
    expect_index_error(R"({"nothing":1})", ErrorCode::corrupt, "weight_map");
    expect_index_error(R"({"weight_map":)", ErrorCode::corrupt, "malformed JSON");
}

}  // namespace
}  // namespace tessera::formats
