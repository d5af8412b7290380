// NormalizedString: a piece of text being normalized, with, for every byte of the normalized
// text, the byte range of the original input it came from. This is how token offsets survive
// lowercasing, accent stripping, NFC and byte-level remapping, as in the reference library.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::tokenizers {

// A half-open byte range [start, end) into the ORIGINAL input (absolute, not per split).
struct Span {
    std::uint32_t start = 0;
    std::uint32_t end = 0;
};

// How a pre-tokenizer treats the pieces a pattern matched (the reference's
// SplitDelimiterBehavior).
enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

// One piece of a pattern search: a byte range of the normalized text and whether it matched.
struct PatternPiece {
    std::uint32_t start;
    std::uint32_t end;
    bool is_match;
};

class NormalizedString {
public:
    NormalizedString() = default;
    // The original text [origin, origin + text.size()) of the whole input, unchanged.
    NormalizedString(std::string_view text, std::uint32_t origin);

    [[nodiscard]] const std::string& text() const { return text_; }
    [[nodiscard]] bool empty() const { return text_.empty(); }
    [[nodiscard]] const std::vector<Span>& alignments() const { return align_; }
    [[nodiscard]] std::uint32_t origin() const { return origin_; }
    // The original range of normalized bytes [start, end).
    [[nodiscard]] Span original_span(std::size_t start, std::size_t end) const;

    // A copy of normalized bytes [start, end) (char boundaries), keeping alignments.
    [[nodiscard]] NormalizedString slice(std::size_t start, std::size_t end) const;

    // Splits on the pieces of a pattern search (which cover the text) according to `behavior`;
    // empty pieces are dropped.
    void split(const std::vector<PatternPiece>& pieces, SplitBehavior behavior,
               std::vector<NormalizedString>& out) const;

    // Replaces every char with the reference's `prepend`: `prefix` goes before the first char,
    // aligned with it. No-op on an empty string.
    void prepend(std::string_view prefix);

    // Direct access for builders in this library.
    std::string& mutable_text() { return text_; }
    std::vector<Span>& mutable_alignments() { return align_; }
    void set_origin(std::uint32_t origin) { origin_ = origin; }

private:
    friend class TextBuilder;
    std::string text_;
    std::vector<Span> align_;  // one per byte of text_
    std::uint32_t origin_ = 0;  // original start: where chars inserted at the front align
};

// Builds the replacement of a NormalizedString char by char with the reference's change
// semantics: change 0 replaces the next original char, -n also removes the n chars after
// it, +1 inserts a char aligned with the previous original char.
class TextBuilder {
public:
    explicit TextBuilder(const NormalizedString& source);
    void emit(char32_t c, int change);
    // Drops the next `count` chars of the source (they leave no trace).
    void skip(std::size_t count = 1);
    // Copies the next source char unchanged.
    void keep();
    // Copies source bytes [position, end) unchanged.
    void keep_until(std::size_t end);
    [[nodiscard]] std::size_t position() const { return pos_; }
    NormalizedString finish();

private:
    const NormalizedString& src_;
    NormalizedString out_;
    std::size_t pos_ = 0;
};


}  // namespace tessera::tokenizers
