#include "formats/safetensors.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "tessera/error.hpp"

namespace tessera::formats {

namespace {

// The reference implementation refuses headers above 100 MB; so do we, before parsing.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeName {
    std::string_view name;
    DType dtype;
    std::size_t size_bytes;
};

constexpr DTypeName kDTypes[] = {
    {"F32", DType::f32, 4},  {"F16", DType::f16, 2}, {"BF16", DType::bf16, 2},
    {"F64", DType::f64, 8},  {"I64", DType::i64, 8}, {"I32", DType::i32, 4},
    {"I16", DType::i16, 2},  {"I8", DType::i8, 1},   {"U8", DType::u8, 1},
    {"BOOL", DType::boolean, 1},
};

// Byte sizes of the dtypes we don't compute with but must still size-check.
std::size_t other_dtype_bits(std::string_view label) {
    if (label == "U16") return 16;
    if (label == "U32") return 32;
    if (label == "U64" || label == "C64") return 64;
    if (label.starts_with("F8_")) return 8;
    if (label == "F6_E2M3" || label == "F6_E3M2") return 6;
    if (label == "F4") return 4;
    return 0;
}

Error corrupt(const std::filesystem::path& path, const std::string& what) {
    return Error(ErrorCode::corrupt, path.string() + ": " + what);
}

}  // namespace

DType dtype_from_name(std::string_view name) {
    for (const auto& entry : kDTypes) {
        if (entry.name == name) return entry.dtype;
    }
    return DType::other;
}

std::string_view dtype_name(DType dtype) {
    for (const auto& entry : kDTypes) {
        if (entry.dtype == dtype) return entry.name;
    }
    return "other";
}

std::size_t dtype_size_bytes(DType dtype) {
    for (const auto& entry : kDTypes) {
        if (entry.dtype == dtype) return entry.size_bytes;
    }
    return 0;
}

std::size_t TensorView::element_count() const {
    std::size_t count = 1;
    for (const std::size_t dim : shape) count *= dim;
    return count;
}

std::string TensorView::shape_string() const {
    std::string text = "[";
    for (std::size_t dim_idx = 0; dim_idx < shape.size(); ++dim_idx) {
        if (dim_idx > 0) text += ", ";
        text += std::to_string(shape[dim_idx]);
    }
    return text + "]";
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
    SafetensorsFile file;
    file.path_ = std::make_unique<std::filesystem::path>(path);
    file.mapped_ = core::MappedFile::open(path);
    const auto bytes = file.mapped_.bytes();
    if (bytes.size() < 8) {
        throw corrupt(path, "truncated: " + std::to_string(bytes.size()) +
                                " bytes, too short for the 8-byte header length");
    }
    std::uint64_t header_bytes = 0;
    for (int byte_idx = 7; byte_idx >= 0; --byte_idx) {
        header_bytes = (header_bytes << 8) | static_cast<std::uint8_t>(bytes[byte_idx]);
    }
    if (header_bytes > kMaxHeaderBytes) {
        throw corrupt(path, "header length " + std::to_string(header_bytes) +
                                " exceeds the 100 MB limit");
    }
    if (header_bytes > bytes.size() - 8) {
        throw corrupt(path, "header length " + std::to_string(header_bytes) +
                                " runs past the end of the file (" + std::to_string(bytes.size()) +
                                " bytes)");
    }
    const std::string_view header_text(reinterpret_cast<const char*>(bytes.data() + 8), header_bytes);
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(header_text);
    } catch (const nlohmann::json::parse_error& err) {
        throw corrupt(path, std::string("header: malformed JSON: ") + err.what());
    }
    if (!header.is_object()) throw corrupt(path, "header: not a JSON object");

    const std::size_t data_begin = 8 + header_bytes;
    const std::size_t data_size = bytes.size() - data_begin;
    struct Range {
        std::size_t begin, end;
        std::string name;
    };
    std::vector<Range> ranges;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object()) throw corrupt(path, "header: __metadata__ is not an object");
            for (const auto& [key, value] : entry.items()) {
                if (!value.is_string()) {
                    throw corrupt(path, "header: __metadata__." + key + " is not a string");
                }
                file.metadata_[key] = value.get<std::string>();
            }
            continue;
        }
        const std::string where = "tensor '" + name + "'";
        if (!entry.is_object()) throw corrupt(path, where + ": entry is not an object");
        const auto dtype = entry.find("dtype");
        const auto shape = entry.find("shape");
        const auto offsets = entry.find("data_offsets");
        if (dtype == entry.end() || !dtype->is_string()) {
            throw corrupt(path, where + ": missing or non-string 'dtype'");
        }
        if (shape == entry.end() || !shape->is_array()) {
            throw corrupt(path, where + ": missing or non-array 'shape'");
        }
        if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 ||
            !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned()) {
            throw corrupt(path, where + ": 'data_offsets' must be two non-negative integers");
        }
        TensorView view;
        view.name = name;
        view.dtype_label = dtype->get<std::string>();
        view.dtype = dtype_from_name(view.dtype_label);
        std::size_t element_count = 1;
        bool overflow = false;
        for (const auto& dim : *shape) {
            if (!dim.is_number_unsigned()) {
                throw corrupt(path, where + ": shape entries must be non-negative integers");
            }
            const auto dim_size = dim.get<std::uint64_t>();
            view.shape.push_back(dim_size);
            if (dim_size != 0 && element_count > std::numeric_limits<std::size_t>::max() / dim_size) {
                overflow = true;
            }
            element_count *= dim_size;
        }
        const std::size_t bits = view.dtype == DType::other ? other_dtype_bits(view.dtype_label)
                                                            : dtype_size_bytes(view.dtype) * 8;
        if (bits == 0) throw corrupt(path, where + ": unknown dtype '" + view.dtype_label + "'");
        const auto begin = (*offsets)[0].get<std::uint64_t>();
        const auto end = (*offsets)[1].get<std::uint64_t>();
        if (begin > end) {
            throw corrupt(path, where + ": data_offsets [" + std::to_string(begin) + ", " +
                                    std::to_string(end) + "] run backwards");
        }
        if (end > data_size) {
            throw corrupt(path, where + ": data_offsets [" + std::to_string(begin) + ", " +
                                    std::to_string(end) + "] run past the end of the data (" +
                                    std::to_string(data_size) + " bytes; file truncated?)");
        }
        if (overflow || element_count > std::numeric_limits<std::size_t>::max() / 8 ||
            (element_count * bits + 7) / 8 != end - begin) {
            throw corrupt(path, where + ": " + view.dtype_label + " " + view.shape_string() +
                                    " needs " + (overflow ? std::string("too many") : std::to_string((element_count * bits + 7) / 8)) +
                                    " bytes but data_offsets span " + std::to_string(end - begin));
        }
        view.bytes = bytes.subspan(data_begin + begin, end - begin);
        ranges.push_back({begin, end, name});
        file.tensors_.push_back(std::move(view));
    }
    // As the reference reader: sorted by offset the tensors must tile the buffer exactly.
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return a.begin < b.begin || (a.begin == b.begin && a.end < b.end); });
    std::size_t expected_begin = 0;
    for (const auto& range : ranges) {
        if (range.begin < expected_begin) {
            throw corrupt(path, "tensor '" + range.name + "': data_offsets [" +
                                    std::to_string(range.begin) + ", " + std::to_string(range.end) +
                                    "] overlap the previous tensor (which ends at " +
                                    std::to_string(expected_begin) + ")");
        }
        if (range.begin > expected_begin) {
            throw corrupt(path, "tensor '" + range.name + "': data_offsets begin at " +
                                    std::to_string(range.begin) + ", leaving a hole after byte " +
                                    std::to_string(expected_begin));
        }
        expected_begin = range.end;
    }
    if (expected_begin != data_size) {
        throw corrupt(path, "data buffer has " + std::to_string(data_size) +
                                " bytes but the tensors cover " + std::to_string(expected_begin));
    }
    for (auto& view : file.tensors_) view.file = file.path_.get();
    return file;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
    for (const auto& view : tensors_) {
        if (view.name == name) return &view;
    }
    return nullptr;
}

std::shared_ptr<WeightStore> WeightStore::open_file(const std::filesystem::path& path) {
    auto store = std::make_shared<WeightStore>();
    store->source_ = path.string();
    store->files_.push_back(SafetensorsFile::open(path));
    for (const auto& view : store->files_.back().tensors()) store->index_[view.name] = &view;
    return store;
}

std::shared_ptr<WeightStore> WeightStore::open_index(const std::filesystem::path& index_path) {
    std::ifstream in(index_path, std::ios::binary);
    if (!in) throw Error(ErrorCode::not_found, index_path.string() + ": cannot open");
    nlohmann::json index;
    try {
        index = nlohmann::json::parse(in);
    } catch (const nlohmann::json::parse_error& err) {
        throw corrupt(index_path, std::string("malformed JSON: ") + err.what());
    }
    const auto weight_map = index.is_object() ? index.find("weight_map") : index.end();
    if (weight_map == index.end() || !weight_map->is_object()) {
        throw corrupt(index_path, "weight_map: missing or not an object");
    }
    auto store = std::make_shared<WeightStore>();
    store->source_ = index_path.string();
    std::map<std::string, std::size_t> shard_idx;
    const auto dir = index_path.parent_path();
    for (const auto& [name, shard] : weight_map->items()) {
        if (!shard.is_string()) throw corrupt(index_path, "weight_map." + name + ": not a string");
        const auto shard_name = shard.get<std::string>();
        // A shard must be a plain file name beside the index: no directories, no "..".
        if (shard_name.empty() || shard_name.find('/') != std::string::npos ||
            shard_name.find('\\') != std::string::npos || shard_name == "." || shard_name == "..") {
            throw corrupt(index_path, "weight_map." + name + ": bad shard file name '" + shard_name + "'");
        }
        if (!shard_idx.contains(shard_name)) {
            shard_idx[shard_name] = store->files_.size();
            store->files_.push_back(SafetensorsFile::open(dir / shard_name));
        }
    }
    for (const auto& [name, shard] : weight_map->items()) {
        const auto& file = store->files_[shard_idx.at(shard.get<std::string>())];
        const TensorView* view = file.find(name);
        if (view == nullptr) {
            throw corrupt(index_path, "weight_map." + name + ": tensor not found in shard '" +
                                          file.path().filename().string() + "'");
        }
        store->index_[name] = view;
    }
    return store;
}

std::shared_ptr<WeightStore> WeightStore::open_model_dir(const std::filesystem::path& model_dir) {
    const auto single = model_dir / "model.safetensors";
    if (std::filesystem::exists(single)) return open_file(single);
    const auto index = model_dir / "model.safetensors.index.json";
    if (std::filesystem::exists(index)) return open_index(index);
    const bool has_bin = std::filesystem::exists(model_dir / "pytorch_model.bin");
    throw Error(ErrorCode::not_found,
                model_dir.string() + ": no model.safetensors or model.safetensors.index.json" +
                    (has_bin ? " (pytorch_model.bin is not supported: convert it to safetensors)" : ""));
}

bool WeightStore::contains(std::string_view name) const { return index_.find(name) != index_.end(); }

std::vector<std::string> WeightStore::names() const {
    std::vector<std::string> result;
    for (const auto& [name, view] : index_) result.push_back(name);
    return result;
}

const TensorView& WeightStore::tensor(std::string_view name) const {
    const auto found = index_.find(name);
    if (found == index_.end()) {
        throw Error(ErrorCode::not_found, source_ + ": missing tensor '" + std::string(name) + "'");
    }
    return *found->second;
}

std::span<const float> WeightStore::floats(std::string_view name,
                                           const std::vector<std::size_t>& shape) const {
    const TensorView& view = tensor(name);
    if (view.shape != shape) {
        TensorView wanted;
        wanted.shape = shape;
        throw Error(ErrorCode::corrupt, view.file->string() + ": tensor '" + view.name + "': shape " +
                                            view.shape_string() + ", expected " + wanted.shape_string());
    }
    const std::size_t count = view.element_count();
    const bool aligned = reinterpret_cast<std::uintptr_t>(view.bytes.data()) % alignof(float) == 0;
    if (view.dtype == DType::f32 && aligned) {
        return {reinterpret_cast<const float*>(view.bytes.data()), count};
    }
    std::lock_guard lock(convert_mutex_);
    if (const auto cached = converted_.find(name); cached != converted_.end()) return cached->second;
    std::vector<float> values(count);
    const std::byte* src = view.bytes.data();
    switch (view.dtype) {
        case DType::f32:
            std::memcpy(values.data(), src, count * sizeof(float));
            break;
        case DType::f16:
        case DType::bf16:
            for (std::size_t idx = 0; idx < count; ++idx) {
                std::uint16_t bits = 0;
                std::memcpy(&bits, src + idx * 2, 2);
                values[idx] = view.dtype == DType::f16 ? f16_to_float(bits) : bf16_to_float(bits);
            }
            break;
        case DType::f64:
            for (std::size_t idx = 0; idx < count; ++idx) {
                double value = 0;
                std::memcpy(&value, src + idx * 8, 8);
                values[idx] = static_cast<float>(value);
            }
            break;
        default:
            throw Error(ErrorCode::corrupt, view.file->string() + ": tensor '" + view.name +
                                                "': dtype " + view.dtype_label +
                                                " where a float tensor (F32, F16, BF16) is expected");
    }
    auto [slot, inserted] = converted_.emplace(std::string(name), std::move(values));
    return slot->second;
}

void WeightStore::release(std::string_view name) const {
    const TensorView& view = tensor(name);
    for (const SafetensorsFile& file : files_) file.release(view);
    std::lock_guard lock(convert_mutex_);
    if (const auto cached = converted_.find(name); cached != converted_.end()) converted_.erase(cached);
}

std::size_t WeightStore::data_bytes() const {
    std::size_t total = 0;
    for (const auto& [name, view] : index_) total += view->bytes.size();
    return total;
}

float bf16_to_float(std::uint16_t bits) {
    return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

float f16_to_float(std::uint16_t bits) {
    const std::uint32_t sign = (bits & 0x8000u) << 16;
    const std::uint32_t exponent = (bits >> 10) & 0x1F;
    const std::uint32_t mantissa = bits & 0x3FF;
    if (exponent == 0) {
        // Zero or subnormal: value = mantissa * 2^-24.
        const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
        return sign != 0 ? -magnitude : magnitude;
    }
    if (exponent == 31) {
        return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
    }
    return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

std::uint16_t float_to_bf16(float value) {
    const auto bits = std::bit_cast<std::uint32_t>(value);
    if (std::isnan(value)) return static_cast<std::uint16_t>((bits >> 16) | 0x40);
    const std::uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);
    return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

std::uint16_t float_to_f16(float value) {
    const auto bits = std::bit_cast<std::uint32_t>(value);
    const std::uint16_t sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000);
    const float magnitude = std::fabs(value);
    if (std::isnan(value)) return sign | 0x7E00;
    if (magnitude >= 65520.0f) return sign | 0x7C00;  // rounds to infinity
    if (magnitude < 6.103515625e-05f) {
        // Subnormal: units of 2^-24, round half to even.
        const float units = magnitude * 16777216.0f;
        return sign | static_cast<std::uint16_t>(std::nearbyint(units));
    }
    const std::uint32_t abs_bits = bits & 0x7FFFFFFF;
    std::uint32_t half = ((abs_bits >> 23) - 112) << 10 | ((abs_bits >> 13) & 0x3FF);
    const std::uint32_t remainder = abs_bits & 0x1FFF;
    if (remainder > 0x1000 || (remainder == 0x1000 && (half & 1) != 0)) ++half;
    return sign | static_cast<std::uint16_t>(half);
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
    std::vector<const TensorToWrite*> ordered;
    for (const auto& tensor : tensors) ordered.push_back(&tensor);
    std::sort(ordered.begin(), ordered.end(),
              [](const auto* a, const auto* b) { return a->name < b->name; });
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::vector<std::vector<std::byte>> payloads;
    std::size_t offset = 0;
    for (const auto* tensor : ordered) {
        std::vector<std::byte> payload;
        if (!tensor->raw.empty()) {
            payload = tensor->raw;
        } else if (tensor->dtype == DType::f32) {
            payload.resize(tensor->values.size() * 4);
            std::memcpy(payload.data(), tensor->values.data(), payload.size());
        } else {
            payload.resize(tensor->values.size() * 2);
            for (std::size_t idx = 0; idx < tensor->values.size(); ++idx) {
                const std::uint16_t bits = tensor->dtype == DType::f16 ? float_to_f16(tensor->values[idx])
                                                                      : float_to_bf16(tensor->values[idx]);
                std::memcpy(payload.data() + idx * 2, &bits, 2);
            }
        }
        header[tensor->name] = {
            {"dtype", tensor->dtype_label.empty() ? std::string(dtype_name(tensor->dtype)) : tensor->dtype_label},
            {"shape", tensor->shape},
            {"data_offsets", {offset, offset + payload.size()}}};
        offset += payload.size();
        payloads.push_back(std::move(payload));
    }
    std::string header_text = header.dump();
    header_text.append((8 - header_text.size() % 8) % 8, ' ');
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorCode::io, path.string() + ": cannot create");
    std::uint64_t header_size = header_text.size();
    char size_le[8];
    for (int byte_idx = 0; byte_idx < 8; ++byte_idx) {
        size_le[byte_idx] = static_cast<char>((header_size >> (8 * byte_idx)) & 0xFF);
    }
    out.write(size_le, 8);
    out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
    for (const auto& payload : payloads) {
        out.write(reinterpret_cast<const char*>(payload.data()), static_cast<std::streamsize>(payload.size()));
    }
    out.flush();
    if (!out) throw Error(ErrorCode::io, path.string() + ": write failed");
}

}  // namespace tessera::formats
