#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizers/regex.hpp"

#include <pcre2.h>

#include "core/utf8.hpp"
#include "tessera/error.hpp"

namespace tessera::tokenizers {

namespace {

// One match-data block per thread, reused for every search (a pattern needs only the whole
// match, so 1 pair is enough whatever the pattern).
struct MatchData {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    ~MatchData() { pcre2_match_data_free(data); }
};

pcre2_match_data* thread_match_data() {
    thread_local MatchData match_data;
    return match_data.data;
}

// The reference's regex engine (Oniguruma) takes \s as the White_Space property; PCRE2's UCP
// \s also matches U+180E. Spell the property out so both agree.
constexpr std::string_view kWhiteSpaceClass =
    "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

std::string rewrite_whitespace(std::string_view pattern) {
    std::string out;
    out.reserve(pattern.size() + 64);
    bool in_class = false;
    for (std::size_t idx = 0; idx < pattern.size(); ++idx) {
        const char c = pattern[idx];
        if (c == '\\' && idx + 1 < pattern.size()) {
            const char next = pattern[idx + 1];
            if (next == 's') {
                out += in_class ? std::string(kWhiteSpaceClass) : "[" + std::string(kWhiteSpaceClass) + "]";
            } else if (next == 'S' && !in_class) {
                out += "[^" + std::string(kWhiteSpaceClass) + "]";
            } else {
                out += c;
                out += next;
            }
            ++idx;
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = true;
            out += c;
            // A ']' or '^]' right after '[' is a literal member.
            if (idx + 1 < pattern.size() && pattern[idx + 1] == '^') out += pattern[++idx];
            if (idx + 1 < pattern.size() && pattern[idx + 1] == ']') out += pattern[++idx];
            continue;
        }
        if (c == ']' && in_class) in_class = false;
        out += c;
    }
    return out;
}

}  // namespace

Regex::Regex(std::string_view pattern, std::string_view where) : pattern_(pattern) {
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    const std::string rewritten = rewrite_whitespace(pattern);
    auto* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(),
                               PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
    if (code == nullptr) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error_code, message, sizeof message);
        throw Error(ErrorCode::corrupt, std::string(where) + ": invalid regex '" +
                                            std::string(pattern) + "': " +
                                            reinterpret_cast<const char*>(message) + " at offset " +
                                            std::to_string(error_offset));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter on failure
    code_ = code;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

std::string Regex::escape(std::string_view literal) {
    std::string out;
    out.reserve(literal.size() * 2);
    for (char c : literal) {
        if (std::string_view("\\^$.|?*+()[]{}-#&~ \t\n").find(c) != std::string_view::npos) {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    return out;
}

void Regex::find_pieces(std::string_view text, std::vector<PatternPiece>& out) const {
    if (text.empty()) {
        out.push_back({0, 0, false});
        return;
    }
    auto* code = static_cast<pcre2_code*>(code_);
    pcre2_match_data* match_data = thread_match_data();
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    std::size_t offset = 0;
    std::size_t previous = 0;
    while (offset <= text.size()) {
        const int rc = pcre2_match(code, subject, text.size(), offset, PCRE2_NO_UTF_CHECK,
                                   match_data, nullptr);
        if (rc < 0) break;
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match_data);
        const std::size_t start = ovector[0];
        const std::size_t end = ovector[1];
        if (end == start) {
            // Empty matches split nothing; step over one char and search on.
            if (start >= text.size()) break;
            offset = start + core::utf8::sequence_length(static_cast<unsigned char>(text[start]));
            continue;
        }
        if (start != previous) {
            out.push_back({static_cast<std::uint32_t>(previous), static_cast<std::uint32_t>(start), false});
        }
        out.push_back({static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(end), true});
        previous = end;
        offset = end;
    }
    if (previous != text.size()) {
        out.push_back({static_cast<std::uint32_t>(previous), static_cast<std::uint32_t>(text.size()), false});
    }
}

}  // namespace tessera::tokenizers
