// The public tessera::Tokenizer: encode = per-sequence pipeline -> truncation -> post-processor
// -> padding, in the reference's order.
#include "tessera/tokenizer.hpp"

#include <atomic>
#include <fstream>
#include <sstream>

#include "core/thread_pool.hpp"
#include "core/utf8.hpp"
#include "tessera/error.hpp"
#include "tokenizers/pipeline.hpp"

namespace tessera {

namespace {

using tokenizers::Pipeline;

Encoding slice_encoding(const Encoding& e, std::size_t start, std::size_t stop) {
    Encoding out;
    const auto b = static_cast<std::ptrdiff_t>(start);
    const auto s = static_cast<std::ptrdiff_t>(stop);
    out.ids.assign(e.ids.begin() + b, e.ids.begin() + s);
    out.type_ids.assign(e.type_ids.begin() + b, e.type_ids.begin() + s);
    out.tokens.assign(e.tokens.begin() + b, e.tokens.begin() + s);
    out.offsets.assign(e.offsets.begin() + b, e.offsets.begin() + s);
    out.attention_mask.assign(e.attention_mask.begin() + b, e.attention_mask.begin() + s);
    out.special_tokens_mask.assign(e.special_tokens_mask.begin() + b, e.special_tokens_mask.begin() + s);
    return out;
}

// The reference's Encoding::truncate: keeps max_length tokens (from the end when `left`); the
// rest go to `overflowing` as windows overlapping by `stride`.
void truncate_encoding(Encoding& e, std::size_t max_length, std::size_t stride, bool left) {
    const std::size_t length = e.ids.size();
    if (max_length >= length) return;
    if (max_length == 0) {
        Encoding whole = std::move(e);
        e = Encoding{};
        e.overflowing.push_back(std::move(whole));
        return;
    }
    if (stride >= max_length) {
        throw Error(ErrorCode::invalid_argument,
                    "truncation: stride " + std::to_string(stride) + " must be less than the length " +
                        std::to_string(max_length) + " left for the sequence after special tokens");
    }
    const std::size_t step = max_length - stride;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    if (!left) {
        for (std::size_t start = 0; start < length; start += step) {
            const std::size_t stop = std::min(start + max_length, length);
            ranges.emplace_back(start, stop);
            if (stop == length) break;
        }
    } else {
        for (std::size_t stop = length; stop > 0;) {
            const std::size_t start = stop > max_length ? stop - max_length : 0;
            ranges.emplace_back(start, stop);
            if (start == 0) break;
            stop = stop > step ? stop - step : 0;
        }
    }
    Encoding out = slice_encoding(e, ranges[0].first, ranges[0].second);
    for (std::size_t k = 1; k < ranges.size(); ++k) {
        out.overflowing.push_back(slice_encoding(e, ranges[k].first, ranges[k].second));
    }
    e = std::move(out);
}

void truncate_sequences(std::vector<Encoding>& sequences, const TruncationParams& params, std::size_t max_length) {
    Encoding& first = sequences[0];
    Encoding* second = sequences.size() > 1 ? &sequences[1] : nullptr;
    if (max_length == 0) {
        for (auto& e : sequences) truncate_encoding(e, 0, params.stride, params.left);
        return;
    }
    const std::size_t total = first.size() + (second ? second->size() : 0);
    if (total <= max_length) return;
    const std::size_t to_remove = total - max_length;
    switch (params.strategy) {
        case TruncationStrategy::longest_first: {
            if (!second) {
                truncate_encoding(first, total - to_remove, params.stride, params.left);
                return;
            }
            // Only the longer side is cut when the shorter fits in half; otherwise the first
            // gets max/2 and the second the rest (what the reference 0.23 produces).
            std::size_t n1 = first.size();
            std::size_t n2 = second->size();
            const std::size_t shorter = std::min(n1, n2);
            if (shorter <= max_length / 2) {
                if (n1 > n2) {
                    n1 = max_length - n2;
                } else {
                    n2 = max_length - n1;
                }
            } else {
                n1 = max_length / 2;
                n2 = n1 + max_length % 2;
            }
            truncate_encoding(first, n1, params.stride, params.left);
            truncate_encoding(*second, n2, params.stride, params.left);
            return;
        }
        case TruncationStrategy::only_first:
        case TruncationStrategy::only_second: {
            Encoding* target = params.strategy == TruncationStrategy::only_first ? &first : second;
            if (target == nullptr) {
                throw Error(ErrorCode::invalid_argument,
                            "truncation: strategy only_second needs a pair of sequences");
            }
            if (target->size() <= to_remove) {
                throw Error(ErrorCode::invalid_argument,
                            "truncation: the sequence to truncate has " + std::to_string(target->size()) +
                                " tokens, too few to remove " + std::to_string(to_remove));
            }
            truncate_encoding(*target, target->size() - to_remove, params.stride, params.left);
            return;
        }
    }
}

void pad_encoding(Encoding& e, std::size_t target, const PaddingParams& params) {
    if (e.size() >= target) return;
    const std::size_t count = target - e.size();
    const auto at = [&](auto& vec) { return params.left ? vec.begin() : vec.end(); };
    e.ids.insert(at(e.ids), count, params.pad_id);
    e.type_ids.insert(at(e.type_ids), count, params.pad_type_id);
    e.tokens.insert(at(e.tokens), count, params.pad_token);
    e.offsets.insert(at(e.offsets), count, {0u, 0u});
    e.attention_mask.insert(at(e.attention_mask), count, std::uint8_t{0});
    e.special_tokens_mask.insert(at(e.special_tokens_mask), count, std::uint8_t{1});
    for (auto& overflow : e.overflowing) pad_encoding(overflow, target, params);
}

std::size_t padded_length(std::size_t longest, const PaddingParams& params) {
    std::size_t target = params.fixed_length.value_or(longest);
    if (params.pad_to_multiple_of > 0 && target % params.pad_to_multiple_of != 0) {
        target += params.pad_to_multiple_of - target % params.pad_to_multiple_of;
    }
    return target;
}

std::size_t longest_of(const Encoding& e) {
    std::size_t longest = e.size();
    for (const auto& overflow : e.overflowing) longest = std::max(longest, overflow.size());
    return longest;
}

}  // namespace

Tokenizer Tokenizer::from_file(const std::filesystem::path& tokenizer_json) {
    std::ifstream in(tokenizer_json, std::ios::binary);
    if (!in) {
        std::error_code ec;
        const bool exists = std::filesystem::exists(tokenizer_json, ec);
        throw Error(exists ? ErrorCode::io : ErrorCode::not_found,
                    tokenizer_json.string() + (exists ? ": cannot be read" : ": no such file"));
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return from_json(buffer.str(), tokenizer_json.string());
}

Tokenizer Tokenizer::from_json(std::string_view json, std::string_view origin_for_errors) {
    Tokenizer tokenizer;
    tokenizer.pipeline_ = Pipeline::parse(json, origin_for_errors, tokenizer.truncation_, tokenizer.padding_);
    return tokenizer;
}

Encoding Tokenizer::encode_impl(std::string_view text, const std::string_view* pair, bool add_special_tokens) const {
    core::utf8::require_valid(text, "text");
    if (pair) core::utf8::require_valid(*pair, "pair");
    std::vector<Encoding> sequences;
    sequences.reserve(2);
    sequences.push_back(pipeline_->encode_sequence(text, 0));
    if (pair) sequences.push_back(pipeline_->encode_sequence(*pair, 1));
    if (truncation_) {
        const std::size_t added = add_special_tokens ? pipeline_->added_special_tokens(pair != nullptr) : 0;
        const std::size_t max_length = truncation_->max_length > added ? truncation_->max_length - added : 0;
        truncate_sequences(sequences, *truncation_, added > 0 ? max_length : truncation_->max_length);
    }
    // Overflowing windows are post-processed on their own, as the reference does for a single
    // sequence; for pairs each window of one side is combined with the other side whole.
    std::vector<Encoding> overflow;
    for (std::size_t side = 0; side < sequences.size(); ++side) {
        for (auto& window : sequences[side].overflowing) {
            std::vector<Encoding> parts;
            for (std::size_t k = 0; k < sequences.size(); ++k) {
                if (k == side) {
                    parts.push_back(std::move(window));
                } else {
                    Encoding other = sequences[k];
                    other.overflowing.clear();
                    parts.push_back(std::move(other));
                }
            }
            overflow.push_back(pipeline_->post_process(parts, add_special_tokens));
        }
        sequences[side].overflowing.clear();
    }
    Encoding result = pipeline_->post_process(sequences, add_special_tokens);
    result.overflowing = std::move(overflow);
    if (padding_) pad_encoding(result, padded_length(longest_of(result), *padding_), *padding_);
    return result;
}

Encoding Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
    return encode_impl(text, nullptr, add_special_tokens);
}

Encoding Tokenizer::encode_pair(std::string_view text, std::string_view pair, bool add_special_tokens) const {
    return encode_impl(text, &pair, add_special_tokens);
}

namespace {

template <typename EncodeOne>
std::vector<Encoding> run_batch(std::size_t count, std::size_t thread_count, const std::optional<PaddingParams>& padding,
                                EncodeOne encode_one) {
    std::vector<Encoding> out(count);
    const std::size_t threads = thread_count == 0 ? core::ThreadPool::available_cores() : thread_count;
    if (threads <= 1 || count < 2) {
        for (std::size_t idx = 0; idx < count; ++idx) out[idx] = encode_one(idx);
    } else {
        core::ThreadPool pool(std::min(threads, count));
        // Small chunks balance texts of very different lengths.
        std::atomic<std::size_t> next{0};
        const std::size_t block = std::max<std::size_t>(1, std::min<std::size_t>(64, count / (threads * 8) + 1));
        pool.parallel_for(pool.thread_count(), [&](std::size_t, std::size_t) {
            while (true) {
                const std::size_t begin = next.fetch_add(block);
                if (begin >= count) break;
                const std::size_t end = std::min(count, begin + block);
                for (std::size_t idx = begin; idx < end; ++idx) out[idx] = encode_one(idx);
            }
        });
    }
    if (padding) {
        std::size_t longest = 0;
        for (const auto& e : out) longest = std::max(longest, longest_of(e));
        const std::size_t target = padded_length(longest, *padding);
        for (auto& e : out) pad_encoding(e, target, *padding);
    }
    return out;
}

}  // namespace

std::vector<Encoding> Tokenizer::encode_batch(std::span<const std::string> texts, bool add_special_tokens,
                                              std::size_t thread_count) const {
    Tokenizer unpadded = *this;
    unpadded.padding_.reset();
    return run_batch(texts.size(), thread_count, padding_,
                     [&](std::size_t idx) { return unpadded.encode(texts[idx], add_special_tokens); });
}

std::vector<Encoding> Tokenizer::encode_pair_batch(std::span<const std::string> texts, std::span<const std::string> pairs,
                                                   bool add_special_tokens, std::size_t thread_count) const {
    if (texts.size() != pairs.size()) {
        throw Error(ErrorCode::invalid_argument, "encode_pair_batch: " + std::to_string(texts.size()) +
                                                     " texts but " + std::to_string(pairs.size()) + " pairs");
    }
    Tokenizer unpadded = *this;
    unpadded.padding_.reset();
    return run_batch(texts.size(), thread_count, padding_, [&](std::size_t idx) {
        return unpadded.encode_pair(texts[idx], pairs[idx], add_special_tokens);
    });
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skip_special_tokens) const {
    return pipeline_->decode(ids, skip_special_tokens);
}

void Tokenizer::set_truncation(std::optional<TruncationParams> params) { truncation_ = std::move(params); }
void Tokenizer::set_padding(std::optional<PaddingParams> params) { padding_ = std::move(params); }

std::size_t Tokenizer::vocab_size() const { return pipeline_->vocab_size(); }

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
    return pipeline_->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(std::int32_t id) const {
    const std::string* token = pipeline_->id_to_token(id);
    if (token == nullptr) return std::nullopt;
    return *token;
}

std::size_t Tokenizer::added_special_token_count(bool pair) const { return pipeline_->added_special_tokens(pair); }

}  // namespace tessera
