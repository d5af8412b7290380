// Character classes and case/normal-form primitives with the reference's (Rust's) meanings,
// answered by utf8proc. Internal to tokenizers/.
#pragma once

#include <cstddef>
#include <string>

namespace tessera::tokenizers::unicode {

// Rust char::is_whitespace (the White_Space property).
[[nodiscard]] bool is_whitespace(char32_t c) noexcept;
// General category Cc, Cf, Cs, Co or Cn (what the reference's BertNormalizer removes).
[[nodiscard]] bool is_other(char32_t c) noexcept;
// General category P* (any punctuation).
[[nodiscard]] bool is_punctuation(char32_t c) noexcept;
// ASCII punctuation or P*: BertPreTokenizer's and the Punctuation pre-tokenizer's set.
[[nodiscard]] bool is_bert_punctuation(char32_t c) noexcept;
// General category M* (combining marks).
[[nodiscard]] bool is_mark(char32_t c) noexcept;
// General category Mn (what BertNormalizer's accent stripping removes).
[[nodiscard]] bool is_nonspacing_mark(char32_t c) noexcept;
// Rust char::is_numeric: N*.
[[nodiscard]] bool is_numeric(char32_t c) noexcept;
// Rust char::is_alphanumeric: letters and numbers.
[[nodiscard]] bool is_alphanumeric(char32_t c) noexcept;
// \w in the reference's regex engine: letters, marks, numbers, connector punctuation.
[[nodiscard]] bool is_word_char(char32_t c) noexcept;
// The CJK ideograph blocks BertNormalizer pads with spaces.
[[nodiscard]] bool is_chinese_char(char32_t c) noexcept;
[[nodiscard]] int combining_class(char32_t c) noexcept;

// Full lowercase mapping (Rust char::to_lowercase), written to `out`; returns the count (1-3).
std::size_t to_lowercase(char32_t c, char32_t* out) noexcept;
// Full canonical (or compatibility) decomposition of one char; returns the count (<= 32).
std::size_t decompose(char32_t c, bool compat, char32_t* out) noexcept;
// The primary composite of a + b, or 0.
[[nodiscard]] char32_t compose(char32_t a, char32_t b) noexcept;

// Extended grapheme cluster break between two chars, with utf8proc's state.
[[nodiscard]] bool grapheme_break(char32_t before, char32_t after, int* state) noexcept;

}  // namespace tessera::tokenizers::unicode
