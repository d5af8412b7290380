// TextEmbedder: tokenizer + encoder + pooling + normalisation + prompts, with packed batching.
//
// embed() sorts the inputs by length, packs them into batches of at most max_batch_tokens tokens
// (no padding: the encoder runs sequences back to back), pools each sequence and scatters the
// vectors back to input order. Because nothing is padded and attention stays inside each
// sequence, a text's vector does not depend on what it was batched with.
#include <utf8proc.h>

#include <algorithm>
#include <future>
#include <numeric>

#include "core/thread_pool.hpp"
#include "core/utf8.hpp"
#include "engine/pooling.hpp"
#include "formats/model_config.hpp"
#include "formats/safetensors.hpp"
#include "formats/sentence_transformers.hpp"
#include "models/registry.hpp"
#include "models/sequence_chunks.hpp"
#include "tessera/embedder.hpp"
#include "tessera/tokenizer.hpp"

namespace tessera {

namespace {

std::string precision_name(Precision precision) {
    switch (precision) {
        case Precision::fp32: return "fp32";
        case Precision::bf16: return "bf16";
        case Precision::int8: return "int8";
    }
    return "fp32";
}

// Python's str.lower() per code point, which sentence-transformers applies when
// sentence_bert_config.json says do_lower_case.
std::string lowercase(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        const char32_t cp = core::utf8::decode_next(text, pos);
        core::utf8::append(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
    return out;
}

using engine::PooledRows;

// What to ask the encoder for (TextEncoder::encode's output_positions) when the pooling reads `rows`.
std::vector<std::size_t> output_positions(const models::TokenBatch& batch, PooledRows rows) {
    switch (rows) {
        case PooledRows::every_token: return {};
        case PooledRows::first_token: return models::first_token_positions(batch.sequences);
        case PooledRows::last_token: return models::last_token_positions(batch.sequences);
    }
    return {};
}

// tokenizer_config.json model_max_length, when it is a sane number (HF writes 1e30 for "none").
std::optional<std::size_t> tokenizer_model_max_length(const std::filesystem::path& model_dir) {
    const auto path = model_dir / "tokenizer_config.json";
    if (!std::filesystem::exists(path)) return std::nullopt;
    try {
        const auto config = formats::read_json_file(path);
        const auto found = config.find("model_max_length");
        if (found != config.end() && found->is_number() && found->get<double>() >= 1 &&
            found->get<double>() < 1e7) {
            return static_cast<std::size_t>(found->get<double>());
        }
    } catch (const Error&) {
        // A malformed tokenizer_config.json only loses this hint; tokenizer.json is what we run.
    }
    return std::nullopt;
}

class TextEmbedderImpl final : public TextEmbedder {
public:
    TextEmbedderImpl(const std::filesystem::path& model_dir, const EmbedderOptions& options)
        : options_(options), pool_(options.thread_count) {
        if (!std::filesystem::is_directory(model_dir)) {
            throw Error(ErrorCode::not_found, model_dir.string() + ": not a model directory");
        }
        if (options.max_batch_tokens == 0) {
            throw Error(ErrorCode::invalid_argument, "max_batch_tokens: must be positive");
        }
        const auto config = formats::read_model_config(model_dir / "config.json");
        st_ = formats::read_sentence_transformers_config(model_dir);
        const auto tokenizer_path = model_dir / "tokenizer.json";
        if (!std::filesystem::exists(tokenizer_path)) {
            throw Error(ErrorCode::not_found, tokenizer_path.string() + ": missing (only tokenizer.json is supported)");
        }
        // Unknown model types fail here, before the weights are touched.
        if (models::find_model(config.model_type) == nullptr) {
            (void)models::build_model(config, nullptr, {});
        }
        // Parsing tokenizer.json and packing the weights are the two halves of load time and
        // independent: the tokenizer parses on its own thread while the pool packs the layers.
        auto tokenizer = std::async(std::launch::async, [&tokenizer_path] { return Tokenizer::from_file(tokenizer_path); });
        weights_ = formats::WeightStore::open_model_dir(model_dir);
        model_ = models::build_model(config, weights_, {.precision = options.precision, .pool = &pool_});
        encoder_ = dynamic_cast<const models::TextEncoder*>(model_.get());
        if (encoder_ == nullptr) {
            throw Error(ErrorCode::unsupported, (model_dir / "config.json").string() + ": model_type: '" +
                                                    config.model_type + "' is not a text encoder");
        }
        tokenizer_ = tokenizer.get();
        tokenizer_.set_padding(std::nullopt);

        std::size_t max_length = encoder_->max_tokens();
        if (st_.max_seq_length) {
            max_length = std::min(max_length, *st_.max_seq_length);
        } else if (const auto tokenizer_limit = tokenizer_model_max_length(model_dir)) {
            max_length = std::min(max_length, *tokenizer_limit);
        }
        if (options.max_seq_length) {
            if (*options.max_seq_length == 0) throw Error(ErrorCode::invalid_argument, "max_seq_length: must be positive");
            max_length = std::min(max_length, *options.max_seq_length);
        }
        const std::size_t special_count = tokenizer_.added_special_token_count(false);
        if (max_length <= special_count) {
            throw Error(ErrorCode::invalid_argument, "max_seq_length " + std::to_string(max_length) +
                                                         " leaves no room for text after " +
                                                         std::to_string(special_count) + " special tokens");
        }
        max_seq_length_ = max_length;

        info_.model_type = config.model_type;
        info_.architecture = encoder_->architecture();
        info_.hidden_dim = encoder_->hidden_dim();
        info_.output_dim = engine::pooled_dim(st_.pooling_modes, encoder_->hidden_dim());
        info_.layer_count = encoder_->layer_count();
        info_.head_count = encoder_->head_count();
        info_.ffn_dim = encoder_->ffn_dim();
        info_.vocab_size = encoder_->vocab_size();
        info_.max_seq_length = max_seq_length_;
        for (const auto mode : st_.pooling_modes) {
            info_.pooling += (info_.pooling.empty() ? "" : "+") + formats::pooling_mode_name(mode);
        }
        info_.normalize = st_.normalize;
        info_.prompts = st_.prompts;
        info_.query_prompt_name = st_.prompts.contains("query") ? "query" : "";
        for (const char* name : {"passage", "document", "corpus"}) {
            if (st_.prompts.contains(name)) {
                info_.passage_prompt_name = name;
                break;
            }
        }
        info_.defaults_used = st_.defaults_used;
        if (!st_.max_seq_length) {
            info_.defaults_used.push_back("max_seq_length = " + std::to_string(max_seq_length_) +
                                          " (from the model's position limit / tokenizer_config.json)");
        }
        info_.model_dir = model_dir;
        info_.precision = precision_name(options.precision);
        info_.weight_bytes = weights_->data_bytes();
    }

    Matrix embed(std::span<const std::string> texts, const EmbedOptions& options) override {
        const auto tokenized = tokenize(texts, options);
        return embed_tokenized(tokenized, options);
    }

    std::vector<TokenizedText> tokenize(std::span<const std::string> texts, const EmbedOptions& options) const override {
        const std::string prefix = prompt_for(options);
        std::vector<std::string> prepared;
        prepared.reserve(texts.size());
        for (std::size_t idx = 0; idx < texts.size(); ++idx) {
            if (const auto bad = core::utf8::find_invalid(texts[idx])) {
                throw Error(ErrorCode::invalid_argument,
                            "text " + std::to_string(idx) + ": invalid UTF-8 at byte " + std::to_string(*bad));
            }
            std::string text = prefix + texts[idx];
            prepared.push_back(st_.do_lower_case ? lowercase(text) : std::move(text));
        }
        Tokenizer tokenizer = tokenizer_;
        if (options.truncate) {
            tokenizer.set_truncation(TruncationParams{
                .max_length = max_seq_length_, .left = options.truncation_side == TruncationSide::left});
        } else {
            tokenizer.set_truncation(std::nullopt);
        }
        const auto encodings = tokenizer.encode_batch(prepared, true, pool_.thread_count());
        std::size_t prompt_tokens = 0;
        if (!st_.include_prompt && !prefix.empty()) {
            // As sentence-transformers' _get_prompt_length: the prompt's ids minus a trailing
            // special token.
            const Encoding prompt = tokenizer_.encode(st_.do_lower_case ? lowercase(prefix) : prefix);
            prompt_tokens = prompt.size();
            if (prompt_tokens > 0 && prompt.special_tokens_mask.back() != 0) --prompt_tokens;
        }
        std::vector<TokenizedText> result(encodings.size());
        for (std::size_t idx = 0; idx < encodings.size(); ++idx) {
            if (!options.truncate && encodings[idx].size() > max_seq_length_) {
                throw Error(ErrorCode::invalid_argument,
                            "text " + std::to_string(idx) + ": " + std::to_string(encodings[idx].size()) +
                                " tokens, more than max_seq_length " + std::to_string(max_seq_length_) +
                                " (truncation is off)");
            }
            result[idx].ids = encodings[idx].ids;
            const bool any_type = std::any_of(encodings[idx].type_ids.begin(), encodings[idx].type_ids.end(),
                                              [](std::int32_t type_id) { return type_id != 0; });
            if (any_type) result[idx].type_ids = encodings[idx].type_ids;
            result[idx].prompt_token_count = prompt_tokens;
        }
        return result;
    }

    Matrix embed_tokenized(std::span<const TokenizedText> inputs, const EmbedOptions& options) override {
        const std::size_t pooled_size = info_.output_dim;
        if (options.dimensions > pooled_size) {
            throw Error(ErrorCode::invalid_argument, "dimensions: " + std::to_string(options.dimensions) +
                                                         " is more than the model's " + std::to_string(pooled_size));
        }
        const std::size_t out_dim = options.dimensions == 0 ? pooled_size : options.dimensions;
        Matrix result(inputs.size(), out_dim);
        std::vector<float> pooled(pooled_size);
        run_batches(inputs, options, engine::pooled_rows(st_.pooling_modes),
                    [&](std::size_t input_idx, const float* hidden, std::size_t token_count) {
            engine::pool_sequence(hidden, token_count, encoder_->hidden_dim(), st_.pooling_modes,
                                  st_.include_prompt ? 0 : inputs[input_idx].prompt_token_count, pooled.data());
            engine::finish_embedding(pooled, options.dimensions, options.normalize, result.row(input_idx));
        });
        return result;
    }

    std::vector<TokenStates> token_states(std::span<const std::string> texts, const EmbedOptions& options) override {
        const auto inputs = tokenize(texts, options);
        std::vector<TokenStates> states(inputs.size());
        const std::size_t hidden_dim = encoder_->hidden_dim();
        run_batches(inputs, options, PooledRows::every_token,
                    [&](std::size_t input_idx, const float* hidden, std::size_t token_count) {
            states[input_idx].ids = inputs[input_idx].ids;
            states[input_idx].hidden = Matrix(token_count, hidden_dim);
            std::copy_n(hidden, token_count * hidden_dim, states[input_idx].hidden.data().begin());
        });
        return states;
    }

    const ModelInfo& info() const override { return info_; }
    const Tokenizer& tokenizer() const override { return tokenizer_; }

private:
    std::string prompt_for(const EmbedOptions& options) const {
        if (options.prefix) return *options.prefix;
        if (options.prompt_name) {
            const auto found = st_.prompts.find(*options.prompt_name);
            if (found == st_.prompts.end()) {
                std::string known;
                for (const auto& [name, text] : st_.prompts) known += (known.empty() ? "" : ", ") + name;
                throw Error(ErrorCode::invalid_argument, "prompt_name: unknown prompt '" + *options.prompt_name +
                                                             "' (this model has: " + (known.empty() ? "none" : known) + ")");
            }
            return found->second;
        }
        switch (options.kind) {
            case InputKind::query:
                return info_.query_prompt_name.empty() ? "" : st_.prompts.at(info_.query_prompt_name);
            case InputKind::passage:
                return info_.passage_prompt_name.empty() ? "" : st_.prompts.at(info_.passage_prompt_name);
            case InputKind::none:
                return st_.default_prompt_name.empty() ? "" : st_.prompts.at(st_.default_prompt_name);
        }
        return "";
    }

    void validate(std::span<const TokenizedText> inputs) const {
        const std::size_t vocab = encoder_->vocab_size();
        const std::size_t type_vocab = std::max<std::size_t>(encoder_->type_vocab_size(), 1);
        for (std::size_t idx = 0; idx < inputs.size(); ++idx) {
            const auto& input = inputs[idx];
            const std::string where = "input " + std::to_string(idx);
            if (input.ids.empty()) throw Error(ErrorCode::invalid_argument, where + ": no token ids");
            if (input.ids.size() > max_seq_length_) {
                throw Error(ErrorCode::invalid_argument, where + ": " + std::to_string(input.ids.size()) +
                                                             " tokens, more than max_seq_length " +
                                                             std::to_string(max_seq_length_));
            }
            if (!input.type_ids.empty() && input.type_ids.size() != input.ids.size()) {
                throw Error(ErrorCode::invalid_argument, where + ": " + std::to_string(input.type_ids.size()) +
                                                             " type ids for " + std::to_string(input.ids.size()) + " ids");
            }
            for (std::size_t pos = 0; pos < input.ids.size(); ++pos) {
                if (input.ids[pos] < 0 || static_cast<std::size_t>(input.ids[pos]) >= vocab) {
                    throw Error(ErrorCode::invalid_argument, where + ": token id " + std::to_string(input.ids[pos]) +
                                                                 " at position " + std::to_string(pos) +
                                                                 " is outside the vocabulary (size " +
                                                                 std::to_string(vocab) + ")");
                }
                if (!input.type_ids.empty() &&
                    (input.type_ids[pos] < 0 || static_cast<std::size_t>(input.type_ids[pos]) >= type_vocab)) {
                    throw Error(ErrorCode::invalid_argument, where + ": token type id " +
                                                                 std::to_string(input.type_ids[pos]) + " at position " +
                                                                 std::to_string(pos) + " is outside [0, " +
                                                                 std::to_string(type_vocab) + ")");
                }
            }
        }
    }

    // Runs every input through the encoder in packed batches; `consume(input_idx, hidden, count)`
    // sees each input's last hidden states once: all its tokens', or with `rows` the one row the
    // pooling reads (count 1).
    template <typename Consume>
    void run_batches(std::span<const TokenizedText> inputs, const EmbedOptions& options, PooledRows rows,
                     Consume&& consume) {
        validate(inputs);
        std::vector<std::size_t> order(inputs.size());
        std::iota(order.begin(), order.end(), 0);
        // Longest first, so the big batches come early and similar lengths share a batch.
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return inputs[a].ids.size() > inputs[b].ids.size();
        });
        std::vector<float> hidden;
        std::size_t next = 0;
        while (next < order.size()) {
            models::TokenBatch batch;
            std::vector<std::size_t> members;
            while (next < order.size()) {
                const auto& input = inputs[order[next]];
                const bool budget_full = !members.empty() &&
                                         batch.token_count() + input.ids.size() > options_.max_batch_tokens;
                const bool count_full = options.batch_size > 0 && members.size() >= options.batch_size;
                if (budget_full || count_full) break;
                batch.add(input.ids, input.type_ids);
                members.push_back(order[next]);
                ++next;
            }
            const auto chunk_ends =
                models::plan_sequence_chunks(batch.sequences, pool_.thread_count(), encoder_->layer_weight_bytes());
            if (chunk_ends.empty()) {
                const auto positions = output_positions(batch, rows);
                encoder_->encode(batch, positions, hidden, &pool_);
                consume_batch(batch, positions, hidden, members, consume);
            } else {
                encode_in_chunks(inputs, std::span<const std::size_t>(members), chunk_ends, rows, consume);
            }
        }
    }

    // Hands each member of an encoded batch to `consume`: its rows of `hidden`, all of them, or
    // the one at `positions` (encode's compact output).
    template <typename Consume>
    void consume_batch(const models::TokenBatch& batch, std::span<const std::size_t> positions,
                       const std::vector<float>& hidden, std::span<const std::size_t> members, Consume& consume) const {
        const std::size_t hidden_dim = encoder_->hidden_dim();
        for (std::size_t member_idx = 0; member_idx < members.size(); ++member_idx) {
            const auto& sequence = batch.sequences[member_idx];
            if (positions.empty()) {
                consume(members[member_idx], hidden.data() + sequence.first_row * hidden_dim, sequence.length);
            } else {
                consume(members[member_idx], hidden.data() + member_idx * hidden_dim, std::size_t{1});
            }
        }
    }

    // The inter-op path of models/sequence_chunks.hpp: each pool thread takes the next chunk
    // (longest first, as the members are sorted) and runs it through the encoder on its own core;
    // `consume` then sees the results in member order on this thread.
    template <typename Consume>
    void encode_in_chunks(std::span<const TokenizedText> inputs, std::span<const std::size_t> members,
                          std::span<const std::size_t> chunk_ends, PooledRows rows, Consume&& consume) {
        std::vector<models::TokenBatch> chunks(chunk_ends.size());
        std::vector<std::vector<std::size_t>> positions(chunk_ends.size());
        std::vector<std::vector<float>> hidden(chunk_ends.size());
        std::size_t begin = 0;
        for (std::size_t chunk_idx = 0; chunk_idx < chunk_ends.size(); ++chunk_idx) {
            for (std::size_t member_idx = begin; member_idx < chunk_ends[chunk_idx]; ++member_idx) {
                chunks[chunk_idx].add(inputs[members[member_idx]].ids, inputs[members[member_idx]].type_ids);
            }
            positions[chunk_idx] = output_positions(chunks[chunk_idx], rows);
            begin = chunk_ends[chunk_idx];
        }
        models::run_chunks(chunk_ends, pool_, [&](std::size_t chunk_idx, std::size_t, std::size_t) {
            encoder_->encode(chunks[chunk_idx], positions[chunk_idx], hidden[chunk_idx], nullptr);
        });
        begin = 0;
        for (std::size_t chunk_idx = 0; chunk_idx < chunk_ends.size(); ++chunk_idx) {
            consume_batch(chunks[chunk_idx], positions[chunk_idx], hidden[chunk_idx],
                          members.subspan(begin, chunk_ends[chunk_idx] - begin), consume);
            begin = chunk_ends[chunk_idx];
        }
    }

    EmbedderOptions options_;
    mutable core::ThreadPool pool_;
    formats::SentenceTransformersConfig st_;
    std::shared_ptr<formats::WeightStore> weights_;
    std::unique_ptr<models::Model> model_;
    const models::TextEncoder* encoder_ = nullptr;
    Tokenizer tokenizer_;
    std::size_t max_seq_length_ = 0;
    ModelInfo info_;
};

}  // namespace

std::unique_ptr<TextEmbedder> TextEmbedder::open(const std::filesystem::path& model_dir, const EmbedderOptions& options) {
    try {
        return std::make_unique<TextEmbedderImpl>(model_dir, options);
    } catch (const Error& err) {
        throw err.with_context("loading model '" + model_dir.string() + "'");
    }
}

}  // namespace tessera
