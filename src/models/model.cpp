#include "models/model.hpp"

#include <algorithm>

#include "tessera/error.hpp"

namespace tessera::models {

void TokenBatch::add(std::span<const std::int32_t> sequence_ids, std::span<const std::int32_t> sequence_type_ids) {
    sequences.push_back({.first_row = ids.size(), .length = sequence_ids.size()});
    ids.insert(ids.end(), sequence_ids.begin(), sequence_ids.end());
    if (sequence_type_ids.empty()) {
        type_ids.insert(type_ids.end(), sequence_ids.size(), 0);
    } else {
        type_ids.insert(type_ids.end(), sequence_type_ids.begin(), sequence_type_ids.end());
    }
}

std::vector<float> rows_at_positions(const float* rows, std::size_t dim, std::span<const kernels::SequenceSpan> sequences,
                                     std::span<const std::size_t> positions) {
    std::vector<float> picked(positions.size() * dim);
    for (std::size_t seq_idx = 0; seq_idx < positions.size(); ++seq_idx) {
        std::copy_n(rows + (sequences[seq_idx].first_row + positions[seq_idx]) * dim, dim, picked.data() + seq_idx * dim);
    }
    return picked;
}

std::vector<std::size_t> first_token_positions(std::span<const kernels::SequenceSpan> sequences) {
    return std::vector<std::size_t>(sequences.size(), 0);
}

std::vector<std::size_t> last_token_positions(std::span<const kernels::SequenceSpan> sequences) {
    std::vector<std::size_t> positions;
    for (const auto& sequence : sequences) positions.push_back(sequence.length == 0 ? 0 : sequence.length - 1);
    return positions;
}

void TextEncoder::check_batch(const TokenBatch& batch, std::span<const std::size_t> output_positions) const {
    if (batch.type_ids.size() != batch.ids.size()) {
        throw Error(ErrorCode::invalid_argument, "token batch: " + std::to_string(batch.type_ids.size()) +
                                                     " type ids for " + std::to_string(batch.ids.size()) + " ids");
    }
    std::size_t covered = 0;
    for (std::size_t seq_idx = 0; seq_idx < batch.sequences.size(); ++seq_idx) {
        const auto& sequence = batch.sequences[seq_idx];
        if (sequence.length == 0) {
            throw Error(ErrorCode::invalid_argument, "sequence " + std::to_string(seq_idx) + " is empty");
        }
        if (sequence.length > max_tokens()) {
            throw Error(ErrorCode::invalid_argument,
                        "sequence " + std::to_string(seq_idx) + " has " + std::to_string(sequence.length) +
                            " tokens, more than the model's maximum of " + std::to_string(max_tokens()));
        }
        if (sequence.first_row != covered) {
            throw Error(ErrorCode::invalid_argument, "token batch: sequences are not packed back to back");
        }
        covered += sequence.length;
    }
    if (covered != batch.ids.size()) {
        throw Error(ErrorCode::invalid_argument, "token batch: sequences cover " + std::to_string(covered) +
                                                     " of " + std::to_string(batch.ids.size()) + " tokens");
    }
    for (std::size_t token_idx = 0; token_idx < batch.ids.size(); ++token_idx) {
        const auto id = batch.ids[token_idx];
        if (id < 0 || static_cast<std::size_t>(id) >= vocab_size()) {
            throw Error(ErrorCode::invalid_argument, "token id " + std::to_string(id) + " at position " +
                                                         std::to_string(token_idx) + " is outside the vocabulary of " +
                                                         std::to_string(vocab_size()));
        }
        const auto type_id = batch.type_ids[token_idx];
        const std::size_t type_limit = std::max<std::size_t>(type_vocab_size(), 1);
        if (type_id < 0 || static_cast<std::size_t>(type_id) >= type_limit) {
            throw Error(ErrorCode::invalid_argument, "token type id " + std::to_string(type_id) + " at position " +
                                                         std::to_string(token_idx) + " is outside [0, " +
                                                         std::to_string(type_limit) + ")");
        }
    }
    if (!output_positions.empty() && output_positions.size() != batch.sequences.size()) {
        throw Error(ErrorCode::invalid_argument, "token batch: " + std::to_string(output_positions.size()) +
                                                     " output positions for " +
                                                     std::to_string(batch.sequences.size()) + " sequences");
    }
    for (std::size_t seq_idx = 0; seq_idx < output_positions.size(); ++seq_idx) {
        if (output_positions[seq_idx] >= batch.sequences[seq_idx].length) {
            throw Error(ErrorCode::invalid_argument, "token batch: output position " +
                                                         std::to_string(output_positions[seq_idx]) + " is outside sequence " +
                                                         std::to_string(seq_idx) + " of " +
                                                         std::to_string(batch.sequences[seq_idx].length) + " tokens");
        }
    }
}

WeightReader::WeightReader(std::shared_ptr<const formats::WeightStore> store, std::string_view probe_name)
    : store_(std::move(store)) {
    if (store_->contains(probe_name)) return;
    for (const char* prefix : {"bert.", "roberta.", "model.", "encoder.", "new.", "nomic_bert."}) {
        if (store_->contains(std::string(prefix) + std::string(probe_name))) {
            prefix_ = prefix;
            return;
        }
    }
}

bool WeightReader::contains(const std::string& name) const { return store_->contains(prefix_ + name); }

std::span<const float> WeightReader::floats(const std::string& name, std::vector<std::size_t> shape) const {
    return store_->floats(prefix_ + name, shape);
}

void WeightReader::release(const std::string& name) const { store_->release(prefix_ + name); }

const float* WeightReader::optional(const std::string& name, std::vector<std::size_t> shape) const {
    if (!contains(name)) return nullptr;
    return floats(name, std::move(shape)).data();
}

}  // namespace tessera::models
