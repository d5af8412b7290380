#include "tokenizers/added_vocabulary.hpp"

#include <algorithm>

#include "core/utf8.hpp"
#include "tokenizers/unicode.hpp"

namespace tessera::tokenizers {

namespace utf8 = core::utf8;

namespace {

char32_t last_char(std::string_view text) {
    std::size_t start = text.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    return utf8::decode_next(text, start);
}

bool is_word_character(char32_t c) { return c == '_' || unicode::is_alphanumeric(c); }

}  // namespace

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer)
    : tokens_(std::move(tokens)) {
    raw_.patterns.resize(tokens_.size());
    normalized_.patterns.resize(tokens_.size());
    for (std::uint32_t idx = 0; idx < tokens_.size(); ++idx) {
        const AddedToken& token = tokens_[idx];
        Matcher& matcher = token.normalized ? normalized_ : raw_;
        std::string pattern = token.content;
        if (token.normalized && normalizer != nullptr) {
            NormalizedString text(pattern, 0);
            normalizer->normalize(text);
            pattern = text.text();
        }
        if (pattern.empty()) continue;
        matcher.by_first_byte[static_cast<unsigned char>(pattern[0])].push_back(idx);
        matcher.patterns[idx] = std::move(pattern);
        matcher.empty = false;
    }
    for (Matcher* matcher : {&raw_, &normalized_}) {
        for (auto& list : matcher->by_first_byte) {
            std::stable_sort(list.begin(), list.end(), [&](std::uint32_t a, std::uint32_t b) {
                return matcher->patterns[a].size() > matcher->patterns[b].size();
            });
        }
    }
}

const AddedToken* AddedVocabulary::find_by_id(std::int32_t id) const {
    for (const auto& token : tokens_) {
        if (token.id == id) return &token;
    }
    return nullptr;
}

const AddedToken* AddedVocabulary::find_by_content(std::string_view content) const {
    for (const auto& token : tokens_) {
        if (token.content == content) return &token;
    }
    return nullptr;
}

void AddedVocabulary::split(NormalizedString&& piece, bool normalized_pass, std::vector<Split>& out) const {
    const Matcher& matcher = normalized_pass ? normalized_ : raw_;
    const std::string& text = piece.text();
    if (matcher.empty || text.empty()) {
        if (!piece.empty()) out.push_back(Split{std::move(piece), -1});
        return;
    }
    std::size_t consumed = 0;  // end of the last split emitted
    std::size_t pos = 0;
    bool any = false;
    std::vector<Split> produced;
    while (pos < text.size()) {
        const auto& candidates = matcher.by_first_byte[static_cast<unsigned char>(text[pos])];
        std::int64_t found = -1;
        for (std::uint32_t idx : candidates) {
            const std::string& pattern = matcher.patterns[idx];
            if (text.compare(pos, pattern.size(), pattern) == 0) {
                found = idx;
                break;
            }
        }
        if (found < 0) {
            ++pos;
            continue;
        }
        const AddedToken& token = tokens_[static_cast<std::size_t>(found)];
        std::size_t start = pos;
        std::size_t stop = pos + matcher.patterns[static_cast<std::size_t>(found)].size();
        if (token.single_word) {
            const bool start_space = start == 0 || !is_word_character(last_char(std::string_view(text).substr(0, start)));
            std::size_t after = stop;
            const bool stop_space = stop == text.size() || !is_word_character(utf8::decode_next(text, after));
            if (!start_space || !stop_space) {
                ++pos;
                continue;
            }
        }
        if (token.lstrip) {
            std::size_t new_start = start;
            while (new_start > consumed) {
                std::size_t char_start = new_start - 1;
                while (char_start > 0 && (static_cast<unsigned char>(text[char_start]) & 0xC0) == 0x80) --char_start;
                std::size_t next = char_start;
                if (!unicode::is_whitespace(utf8::decode_next(text, next))) break;
                new_start = char_start;
            }
            start = std::max(new_start, consumed);
        }
        if (token.rstrip) {
            while (stop < text.size()) {
                std::size_t next = stop;
                if (!unicode::is_whitespace(utf8::decode_next(text, next))) break;
                stop = next;
            }
        }
        if (consumed < start) produced.push_back(Split{piece.slice(consumed, start), -1});
        produced.push_back(Split{piece.slice(start, stop), token.id});
        any = true;
        consumed = stop;
        pos = stop;
    }
    if (!any) {
        out.push_back(Split{std::move(piece), -1});
        return;
    }
    if (consumed < text.size()) produced.push_back(Split{piece.slice(consumed, text.size()), -1});
    for (auto& split : produced) out.push_back(std::move(split));
}

}  // namespace tessera::tokenizers
