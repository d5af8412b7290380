// Parsing tokenizer.json: a DOM of the whole file, except model.vocab.
//
//   nlohmann::json root = parse_tokenizer_json(text, "tokenizer.json");
//   // root["model"]["vocab"] is a binary node when it was an object of token -> id
//   for_each_packed_vocab_entry(root["model"]["vocab"].get_binary(), [](std::string_view token, std::int32_t id) {});
//
// Why: the vocab object is tens of thousands of entries, and building it as a DOM object (a
// std::map node and a key compare chain per entry) was two thirds of tokenizer load time. Its
// entries are packed into one byte buffer instead, in file order. A vocab that is not an object
// of integer ids in [0, 2^31) is kept as an ordinary DOM node, so its errors are reported as before.
#pragma once

#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tessera::tokenizers {

// Throws Error(corrupt) "ORIGIN: not valid JSON: ..." for malformed text.
nlohmann::json parse_tokenizer_json(std::string_view text, const std::string& origin);

// Packed layout: u32 entry count, then per entry u32 token length, the token's bytes, i32 id.
// (A json binary_t is one of these containers.)
using PackedVocab = nlohmann::json::binary_t::container_type;

inline std::uint32_t packed_vocab_size(const PackedVocab& packed) {
    std::uint32_t count = 0;
    if (packed.size() >= sizeof(count)) std::memcpy(&count, packed.data(), sizeof(count));
    return count;
}

template <typename Visit>
void for_each_packed_vocab_entry(const PackedVocab& packed, const Visit& visit) {
    const auto* bytes = packed.data();
    std::size_t pos = sizeof(std::uint32_t);
    for (std::uint32_t idx = 0, count = packed_vocab_size(packed); idx < count; ++idx) {
        std::uint32_t length = 0;
        std::int32_t id = 0;
        std::memcpy(&length, bytes + pos, sizeof(length));
        pos += sizeof(length);
        const std::string_view token(reinterpret_cast<const char*>(bytes + pos), length);
        pos += length;
        std::memcpy(&id, bytes + pos, sizeof(id));
        pos += sizeof(id);
        visit(token, id);
    }
}

}  // namespace tessera::tokenizers
