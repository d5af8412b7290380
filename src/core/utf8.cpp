#include "core/utf8.hpp"

#include "tessera/error.hpp"

namespace tessera::core::utf8 {

namespace {

// Length of the maximal prefix of a well-formed sequence at `pos` (Unicode Table 3-7), and
// whether it is complete. A lone bad byte has prefix length 1.
struct Scan {
    std::size_t length;
    bool complete;
};

Scan scan(std::string_view text, std::size_t pos) noexcept {
    const auto at = [&](std::size_t i) -> unsigned {
        return pos + i < text.size() ? static_cast<unsigned char>(text[pos + i]) : 0x100u;
    };
    const unsigned b0 = at(0);
    if (b0 < 0x80) return {1, true};
    std::size_t need = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
    } else if (b0 == 0xE0) {
        need = 2, lo = 0xA0;
    } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
        need = 2;
    } else if (b0 == 0xED) {
        need = 2, hi = 0x9F;
    } else if (b0 == 0xF0) {
        need = 3, lo = 0x90;
    } else if (b0 >= 0xF1 && b0 <= 0xF3) {
        need = 3;
    } else if (b0 == 0xF4) {
        need = 3, hi = 0x8F;
    } else {
        return {1, false};
    }
    for (std::size_t i = 1; i <= need; ++i) {
        const unsigned b = at(i);
        const unsigned low = i == 1 ? lo : 0x80u;
        const unsigned high = i == 1 ? hi : 0xBFu;
        if (b < low || b > high) return {i, false};
    }
    return {need + 1, true};
}

}  // namespace

std::size_t valid_sequence_length(std::string_view text, std::size_t pos) noexcept {
    if (pos >= text.size()) return 0;
    const Scan s = scan(text, pos);
    return s.complete ? s.length : 0;
}

std::optional<std::size_t> find_invalid(std::string_view text) noexcept {
    std::size_t pos = 0;
    const std::size_t size = text.size();
    while (pos < size) {
        // ASCII runs are the common case: check 8 bytes at a time.
        while (pos + 8 <= size) {
            std::uint64_t word;
            __builtin_memcpy(&word, text.data() + pos, 8);
            if (word & 0x8080808080808080ull) break;
            pos += 8;
        }
        if (pos >= size) break;
        if (static_cast<unsigned char>(text[pos]) < 0x80) {
            ++pos;
            continue;
        }
        const Scan s = scan(text, pos);
        if (!s.complete) return pos;
        pos += s.length;
    }
    return std::nullopt;
}

void require_valid(std::string_view text, std::string_view what) {
    if (auto bad = find_invalid(text)) {
        throw Error(ErrorCode::invalid_argument,
                    std::string(what) + ": invalid UTF-8 at byte " + std::to_string(*bad));
    }
}

std::u32string decode_all(std::string_view text) {
    std::u32string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) out.push_back(decode_next(text, pos));
    return out;
}

std::string encode_all(std::u32string_view code_points) {
    std::string out;
    out.reserve(code_points.size());
    for (char32_t cp : code_points) append(out, cp);
    return out;
}

std::size_t count_code_points(std::string_view text) noexcept {
    std::size_t count = 0;
    for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return count;
}

std::vector<std::uint32_t> byte_to_code_point_index(std::string_view text) {
    std::vector<std::uint32_t> index(text.size() + 1);
    std::uint32_t cp = 0;
    for (std::size_t pos = 0; pos < text.size(); ++pos) {
        if (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80) ++cp;
        index[pos] = cp;
    }
    index[text.size()] = text.empty() ? 0 : cp + 1;
    return index;
}

std::string repair(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        const Scan s = scan(bytes, pos);
        if (s.complete) {
            out.append(bytes.substr(pos, s.length));
        } else {
            out.append("\xEF\xBF\xBD");
        }
        pos += s.length;
    }
    return out;
}

}  // namespace tessera::core::utf8
