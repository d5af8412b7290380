// JsonReader: a view of one node of a parsed tokenizer.json that knows its JSON path, so every
// error names where the file is wrong: "tokenizer.json: model.vocab[\"a\"]: expected an integer".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/error.hpp"

namespace tessera::tokenizers {

class JsonReader {
public:
    JsonReader(const nlohmann::json& node, std::string path, const std::string& origin)
        : node_(&node), path_(std::move(path)), origin_(&origin) {}

    [[nodiscard]] const nlohmann::json& json() const { return *node_; }
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] const std::string& origin() const { return *origin_; }
    [[nodiscard]] bool is_null() const { return node_->is_null(); }

    [[noreturn]] void fail(std::string_view what, ErrorCode code = ErrorCode::corrupt) const {
        throw Error(code, *origin_ + ": " + (path_.empty() ? std::string("(root)") : path_) + ": " +
                              std::string(what));
    }

    [[nodiscard]] bool has(std::string_view key) const {
        return node_->is_object() && node_->contains(key) && !(*node_)[std::string(key)].is_null();
    }
    // A required member (present and not null).
    [[nodiscard]] JsonReader at(std::string_view key) const {
        require_object();
        auto it = node_->find(key);
        if (it == node_->end() || it->is_null()) {
            JsonReader(*node_, child_path(key), *origin_).fail("missing");
        }
        return JsonReader(*it, child_path(key), *origin_);
    }
    // A member that may be absent or null.
    [[nodiscard]] std::optional<JsonReader> find(std::string_view key) const {
        require_object();
        auto it = node_->find(key);
        if (it == node_->end() || it->is_null()) return std::nullopt;
        return JsonReader(*it, child_path(key), *origin_);
    }
    [[nodiscard]] JsonReader at(std::size_t index) const {
        return JsonReader((*node_)[index], path_ + "[" + std::to_string(index) + "]", *origin_);
    }
    [[nodiscard]] std::size_t size() const { return node_->size(); }

    void require_object() const {
        if (!node_->is_object()) fail("expected an object, got " + describe());
    }
    void require_array() const {
        if (!node_->is_array()) fail("expected an array, got " + describe());
    }
    [[nodiscard]] std::string as_string() const {
        if (!node_->is_string()) fail("expected a string, got " + describe());
        return node_->get<std::string>();
    }
    [[nodiscard]] bool as_bool() const {
        if (!node_->is_boolean()) fail("expected true or false, got " + describe());
        return node_->get<bool>();
    }
    [[nodiscard]] double as_double() const {
        if (!node_->is_number()) fail("expected a number, got " + describe());
        return node_->get<double>();
    }
    [[nodiscard]] std::int64_t as_int(std::int64_t min_value, std::int64_t max_value) const {
        if (!node_->is_number_integer()) fail("expected an integer, got " + describe());
        const auto value = node_->get<std::int64_t>();
        if (value < min_value || value > max_value) {
            fail("value " + std::to_string(value) + " out of range [" + std::to_string(min_value) +
                 ", " + std::to_string(max_value) + "]");
        }
        return value;
    }
    [[nodiscard]] std::string string_or(std::string_view key, std::string fallback) const {
        auto child = find(key);
        return child ? child->as_string() : std::move(fallback);
    }
    [[nodiscard]] bool bool_or(std::string_view key, bool fallback) const {
        auto child = find(key);
        return child ? child->as_bool() : fallback;
    }

    [[nodiscard]] std::string describe() const {
        if (node_->is_binary()) return "an object";  // a vocab packed by parse_tokenizer_json
        std::string text = node_->dump();
        if (text.size() > 40) text = text.substr(0, 37) + "...";
        return "'" + text + "'";
    }

private:
    [[nodiscard]] std::string child_path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }

    const nlohmann::json* node_;
    std::string path_;
    const std::string* origin_;
};

}  // namespace tessera::tokenizers
