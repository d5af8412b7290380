// safetensors — memory-mapped model weights with zero-copy tensor views, single file or sharded.
//
//   auto weights = formats::WeightStore::open_model_dir("models/bge-small");   // mmap, no copy
//   formats::TensorView view = weights->tensor("embeddings.word_embeddings.weight");
//   std::span<const float> table = weights->floats("embeddings.word_embeddings.weight",
//                                                  {30522, 384});   // F16/BF16 converted once
//
// Every header is validated when the file is opened (offsets in range, contiguous and
// non-overlapping, byte sizes matching dtype x shape, no duplicates), so a view can be trusted.
// Errors are tessera::Error naming the file and the tensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/mapped_file.hpp"

namespace tessera::formats {

enum class DType { f32, f16, bf16, f64, i64, i32, i16, i8, u8, boolean, other };

// "F32" -> DType::f32 etc.; unknown names map to DType::other (kept so files still open).
[[nodiscard]] DType dtype_from_name(std::string_view name);
[[nodiscard]] std::string_view dtype_name(DType dtype);
[[nodiscard]] std::size_t dtype_size_bytes(DType dtype);  // 0 for DType::other

struct TensorView {
    std::string name;
    DType dtype = DType::f32;
    std::string dtype_label;             // as written in the header ("F32", "F8_E4M3", ...)
    std::vector<std::size_t> shape;
    std::span<const std::byte> bytes;    // inside the memory map
    const std::filesystem::path* file = nullptr;

    [[nodiscard]] std::size_t element_count() const;
    [[nodiscard]] std::string shape_string() const;  // "[384, 1536]"
};

// One .safetensors file.
class SafetensorsFile {
public:
    // Maps and validates `path`. Errors: not_found, io, corrupt (bad header, offsets, sizes).
    static SafetensorsFile open(const std::filesystem::path& path);

    [[nodiscard]] const std::vector<TensorView>& tensors() const { return tensors_; }
    [[nodiscard]] const TensorView* find(std::string_view name) const;
    [[nodiscard]] const std::map<std::string, std::string>& metadata() const { return metadata_; }
    [[nodiscard]] const std::filesystem::path& path() const { return *path_; }
    // Drops the resident pages of `view`'s bytes (core::MappedFile::release); no-op for a view
    // of another file.
    void release(const TensorView& view) const { mapped_.release(view.bytes); }

private:
    std::unique_ptr<std::filesystem::path> path_;  // stable address for TensorView::file
    core::MappedFile mapped_;
    std::vector<TensorView> tensors_;
    std::map<std::string, std::string> metadata_;
};

// All weights of a model: one file or the shards listed by model.safetensors.index.json.
class WeightStore {
public:
    // `model.safetensors` if present, else `model.safetensors.index.json` and its shards.
    // Errors: not_found (neither file), corrupt (bad index, a tensor missing from its shard).
    static std::shared_ptr<WeightStore> open_model_dir(const std::filesystem::path& model_dir);
    static std::shared_ptr<WeightStore> open_file(const std::filesystem::path& path);
    static std::shared_ptr<WeightStore> open_index(const std::filesystem::path& index_path);

    [[nodiscard]] bool contains(std::string_view name) const;
    [[nodiscard]] std::vector<std::string> names() const;
    // Errors: not_found naming the tensor and the file(s).
    [[nodiscard]] const TensorView& tensor(std::string_view name) const;
    // The tensor as float32 with exactly `shape` (F32 zero-copy when aligned; F16/BF16/F64
    // converted once and cached). Errors: not_found, corrupt (shape or dtype mismatch).
    [[nodiscard]] std::span<const float> floats(std::string_view name,
                                                const std::vector<std::size_t>& shape) const;
    // After the tensor was copied (packed into a kernels::Linear): its file pages leave the RSS
    // (read from the file again if touched) and a converted copy (F16/BF16) is freed. Spans from
    // floats(name) must not be used afterwards; floats(name) itself still works.
    void release(std::string_view name) const;
    // Total bytes of tensor data across files.
    [[nodiscard]] std::size_t data_bytes() const;
    // Where the weights came from ("model.safetensors" or the index path), for messages.
    [[nodiscard]] std::string source() const { return source_; }

private:
    std::string source_;
    std::vector<SafetensorsFile> files_;
    std::map<std::string, const TensorView*, std::less<>> index_;
    mutable std::mutex convert_mutex_;
    mutable std::map<std::string, std::vector<float>, std::less<>> converted_;
};

// bf16 / IEEE half -> float.
[[nodiscard]] float bf16_to_float(std::uint16_t bits);
[[nodiscard]] float f16_to_float(std::uint16_t bits);
[[nodiscard]] std::uint16_t float_to_bf16(float value);  // round to nearest even
[[nodiscard]] std::uint16_t float_to_f16(float value);   // round to nearest even

// A tensor to write: float data stored as `dtype` (F32, F16 or BF16), or raw bytes with a label.
struct TensorToWrite {
    std::string name;
    std::vector<std::size_t> shape;
    DType dtype = DType::f32;
    std::vector<float> values;        // used when raw is empty
    std::vector<std::byte> raw;       // pre-encoded bytes (for I64 and tests of odd files)
    std::string dtype_label;          // overrides the header dtype string when set
};

// Writes a safetensors file the way the reference writer does (header padded with spaces to a
// multiple of 8, tensors in name order). Errors: io.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace tessera::formats
