#include "tokenizers/normalized_string.hpp"

#include <algorithm>

#include "core/utf8.hpp"

namespace tessera::tokenizers {

namespace utf8 = core::utf8;

NormalizedString::NormalizedString(std::string_view text, std::uint32_t origin)
    : text_(text), align_(text.size()), origin_(origin) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t len = utf8::sequence_length(static_cast<unsigned char>(text[pos]));
        const Span span{static_cast<std::uint32_t>(origin + pos),
                        static_cast<std::uint32_t>(origin + pos + len)};
        for (std::size_t k = 0; k < len; ++k) align_[pos + k] = span;
        pos += len;
    }
}

Span NormalizedString::original_span(std::size_t start, std::size_t end) const {
    if (start >= end || end > align_.size()) {
        const std::uint32_t at = start < align_.size() ? align_[start].start
                                 : align_.empty()      ? origin_
                                                       : align_.back().end;
        return {at, at};
    }
    return {align_[start].start, align_[end - 1].end};
}

NormalizedString NormalizedString::slice(std::size_t start, std::size_t end) const {
    NormalizedString out;
    out.text_.assign(text_, start, end - start);
    out.align_.assign(align_.begin() + static_cast<std::ptrdiff_t>(start),
                      align_.begin() + static_cast<std::ptrdiff_t>(end));
    out.origin_ = start < end ? align_[start].start : origin_;
    return out;
}

void NormalizedString::split(const std::vector<PatternPiece>& pieces, SplitBehavior behavior,
                             std::vector<NormalizedString>& out) const {
    struct Range {
        std::uint32_t start, end;
        bool remove;
    };
    std::vector<Range> ranges;
    ranges.reserve(pieces.size());
    switch (behavior) {
        case SplitBehavior::isolated:
            for (const auto& p : pieces) ranges.push_back({p.start, p.end, false});
            break;
        case SplitBehavior::removed:
            for (const auto& p : pieces) ranges.push_back({p.start, p.end, p.is_match});
            break;
        case SplitBehavior::contiguous: {
            bool previous = false;
            for (const auto& p : pieces) {
                if (p.is_match == previous && !ranges.empty()) {
                    ranges.back().end = p.end;
                } else {
                    ranges.push_back({p.start, p.end, false});
                }
                previous = p.is_match;
            }
            break;
        }
        case SplitBehavior::merged_with_previous: {
            bool previous = false;
            for (const auto& p : pieces) {
                if (p.is_match && !previous && !ranges.empty()) {
                    ranges.back().end = p.end;
                } else {
                    ranges.push_back({p.start, p.end, false});
                }
                previous = p.is_match;
            }
            break;
        }
        case SplitBehavior::merged_with_next: {
            bool previous = false;
            for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
                if (it->is_match && !previous && !ranges.empty()) {
                    ranges.back().start = it->start;
                } else {
                    ranges.push_back({it->start, it->end, false});
                }
                previous = it->is_match;
            }
            std::reverse(ranges.begin(), ranges.end());
            break;
        }
    }
    for (const auto& r : ranges) {
        if (!r.remove && r.end > r.start) out.push_back(slice(r.start, r.end));
    }
}

TextBuilder::TextBuilder(const NormalizedString& source) : src_(source) {
    out_.text_.reserve(source.text_.size() + 8);
    out_.align_.reserve(source.text_.size() + 8);
    out_.origin_ = source.origin_;
}

void TextBuilder::emit(char32_t c, int change) {
    Span span;
    if (change > 0) {
        // The reference aligns an inserted char with the byte before the current position,
        // or with the start of this piece when nothing precedes it.
        span = pos_ == 0 ? Span{src_.origin_, src_.origin_} : src_.align_[pos_ - 1];
    } else {
        if (pos_ < src_.text_.size()) {
            span = src_.align_[pos_];
            pos_ += utf8::sequence_length(static_cast<unsigned char>(src_.text_[pos_]));
        } else {
            span = src_.align_.empty() ? Span{src_.origin_, src_.origin_} : src_.align_.back();
        }
        if (change < 0) skip(static_cast<std::size_t>(-change));
    }
    const std::size_t before = out_.text_.size();
    utf8::append(out_.text_, c);
    out_.align_.insert(out_.align_.end(), out_.text_.size() - before, span);
}

void TextBuilder::skip(std::size_t count) {
    for (std::size_t k = 0; k < count && pos_ < src_.text_.size(); ++k) {
        pos_ += utf8::sequence_length(static_cast<unsigned char>(src_.text_[pos_]));
    }
}

void TextBuilder::keep() {
    const std::size_t len = utf8::sequence_length(static_cast<unsigned char>(src_.text_[pos_]));
    keep_until(pos_ + len);
}

void TextBuilder::keep_until(std::size_t end) {
    out_.text_.append(src_.text_, pos_, end - pos_);
    out_.align_.insert(out_.align_.end(), src_.align_.begin() + static_cast<std::ptrdiff_t>(pos_),
                       src_.align_.begin() + static_cast<std::ptrdiff_t>(end));
    pos_ = end;
}

NormalizedString TextBuilder::finish() { return std::move(out_); }

void NormalizedString::prepend(std::string_view prefix) {
    if (text_.empty() || prefix.empty()) return;
    // Every prefix char and the first char align with the first char (the reference's
    // transform_range over the first char).
    const Span first = align_[0];
    text_.insert(0, prefix);
    align_.insert(align_.begin(), prefix.size(), first);
}

}  // namespace tessera::tokenizers
