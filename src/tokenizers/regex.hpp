// Regex: a PCRE2 pattern compiled once (UTF + UCP, JIT) and searched from many threads, for the
// Split / Replace components and the ByteLevel and Whitespace pre-tokenizers.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizers/normalized_string.hpp"

namespace tessera::tokenizers {

class Regex {
public:
    // Throws Error corrupt "<where>: invalid regex '<pattern>': <reason>".
    Regex(std::string_view pattern, std::string_view where);
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;
    ~Regex();

    // The pattern that escapes every regex metacharacter of `literal`.
    static std::string escape(std::string_view literal);

    // Every non-empty match over `text`, with the gaps between them, covering the whole text
    // (an empty text gives one empty non-match), as the reference's find_matches.
    void find_pieces(std::string_view text, std::vector<PatternPiece>& out) const;

    [[nodiscard]] const std::string& pattern() const { return pattern_; }

private:
    std::string pattern_;
    void* code_ = nullptr;  // pcre2_code*
};

}  // namespace tessera::tokenizers
