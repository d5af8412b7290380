// UTF-8 helpers shared by every layer: validation with the byte offset of the first bad
// sequence, decoding and encoding single code points, lossy repair, code point offsets.
//
//   tessera::core::utf8::require_valid(text, "request.input");   // throws invalid_argument
//   std::size_t pos = 0;
//   char32_t cp = tessera::core::utf8::decode_next(text, pos);     // advances pos
//   std::string fixed = tessera::core::utf8::repair(bytes);        // bad sequences -> U+FFFD
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::core::utf8 {

// Length in bytes of the well-formed sequence that starts at `pos`, or 0 when the bytes there
// are not well-formed UTF-8 (overlong forms, surrogates and values above U+10FFFF are bad).
[[nodiscard]] std::size_t valid_sequence_length(std::string_view text, std::size_t pos) noexcept;

// Byte offset of the first ill-formed sequence, or nullopt when `text` is valid UTF-8.
[[nodiscard]] std::optional<std::size_t> find_invalid(std::string_view text) noexcept;

// Throws Error invalid_argument "<what>: invalid UTF-8 at byte N" when `text` is not valid.
void require_valid(std::string_view text, std::string_view what);

// Decodes the code point at `pos` of VALID UTF-8 and advances `pos` past it.
[[nodiscard]] inline char32_t decode_next(std::string_view text, std::size_t& pos) noexcept {
    const auto b0 = static_cast<unsigned char>(text[pos]);
    if (b0 < 0x80) {
        ++pos;
        return b0;
    }
    if (b0 < 0xE0) {
        char32_t cp = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(text[pos + 1]) & 0x3Fu);
        pos += 2;
        return cp;
    }
    if (b0 < 0xF0) {
        char32_t cp = ((b0 & 0x0Fu) << 12) |
                      ((static_cast<unsigned char>(text[pos + 1]) & 0x3Fu) << 6) |
                      (static_cast<unsigned char>(text[pos + 2]) & 0x3Fu);
        pos += 3;
        return cp;
    }
    char32_t cp = ((b0 & 0x07u) << 18) | ((static_cast<unsigned char>(text[pos + 1]) & 0x3Fu) << 12) |
                  ((static_cast<unsigned char>(text[pos + 2]) & 0x3Fu) << 6) |
                  (static_cast<unsigned char>(text[pos + 3]) & 0x3Fu);
    pos += 4;
    return cp;
}

// Length of the sequence a lead byte of VALID UTF-8 starts (1..4).
[[nodiscard]] inline std::size_t sequence_length(unsigned char lead) noexcept {
    return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

// Bytes needed to encode `cp`.
[[nodiscard]] inline std::size_t encoded_length(char32_t cp) noexcept {
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

// Appends the UTF-8 encoding of `cp` (which must be a scalar value).
inline void append(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Decodes all of VALID UTF-8 into code points.
[[nodiscard]] std::u32string decode_all(std::string_view text);
// Encodes code points (scalar values) as UTF-8.
[[nodiscard]] std::string encode_all(std::u32string_view code_points);

// Number of code points of VALID UTF-8.
[[nodiscard]] std::size_t count_code_points(std::string_view text) noexcept;

// For each byte offset 0..size() of VALID UTF-8, the index of the code point that contains it
// (size() maps to the code point count). Turns byte offsets into code point offsets.
[[nodiscard]] std::vector<std::uint32_t> byte_to_code_point_index(std::string_view text);

// Any bytes made valid: each maximal ill-formed subpart becomes one U+FFFD, as Unicode's
// "substitution of maximal subparts" (and Rust's String::from_utf8_lossy) does.
[[nodiscard]] std::string repair(std::string_view bytes);

}  // namespace tessera::core::utf8
