#include "tokenizers/pipeline.hpp"
#include "tokenizers/tokenizer_json.hpp"

#include <nlohmann/json.hpp>

#include "core/utf8.hpp"
#include "tokenizers/factories.hpp"

namespace tessera::tokenizers {

namespace utf8 = core::utf8;

std::unique_ptr<Model> make_wordpiece(const JsonReader& node);
std::unique_ptr<Model> make_bpe(const JsonReader& node);
std::unique_ptr<Model> make_unigram(const JsonReader& node);
std::unique_ptr<Model> make_word_level(const JsonReader& node);

std::unique_ptr<Model> make_model(const JsonReader& node) {
    node.require_object();
    std::string type;
    if (auto type_node = node.find("type")) {
        type = type_node->as_string();
    } else if (node.has("merges")) {
        type = "BPE";  // older files omit the model type
    } else if (node.has("vocab") && node.at("vocab").json().is_array()) {
        type = "Unigram";
    } else {
        type = "WordPiece";
    }
    if (type == "WordPiece") return make_wordpiece(node);
    if (type == "BPE") return make_bpe(node);
    if (type == "Unigram") return make_unigram(node);
    if (type == "WordLevel") return make_word_level(node);
    node.at("type").fail("unknown model type '" + type + "'", ErrorCode::unsupported);
}

namespace {

TruncationParams parse_truncation(const JsonReader& node) {
    TruncationParams params;
    params.max_length = static_cast<std::size_t>(node.at("max_length").as_int(0, INT32_MAX));
    if (auto strategy = node.find("strategy")) {
        const std::string name = strategy->as_string();
        if (name == "LongestFirst") {
            params.strategy = TruncationStrategy::longest_first;
        } else if (name == "OnlyFirst") {
            params.strategy = TruncationStrategy::only_first;
        } else if (name == "OnlySecond") {
            params.strategy = TruncationStrategy::only_second;
        } else {
            strategy->fail("unknown truncation strategy '" + name + "'");
        }
    }
    if (auto stride = node.find("stride")) params.stride = static_cast<std::size_t>(stride->as_int(0, INT32_MAX));
    if (auto direction = node.find("direction")) {
        const std::string name = direction->as_string();
        if (name != "Left" && name != "Right") direction->fail("expected \"Left\" or \"Right\", got '" + name + "'");
        params.left = name == "Left";
    }
    return params;
}

PaddingParams parse_padding(const JsonReader& node) {
    PaddingParams params;
    if (auto strategy = node.find("strategy")) {
        if (strategy->json().is_string()) {
            if (strategy->as_string() != "BatchLongest") {
                strategy->fail("expected \"BatchLongest\" or {\"Fixed\": n}, got " + strategy->describe());
            }
        } else {
            params.fixed_length = static_cast<std::size_t>(strategy->at("Fixed").as_int(0, INT32_MAX));
        }
    }
    if (auto direction = node.find("direction")) {
        const std::string name = direction->as_string();
        if (name != "Left" && name != "Right") direction->fail("expected \"Left\" or \"Right\", got '" + name + "'");
        params.left = name == "Left";
    }
    if (auto multiple = node.find("pad_to_multiple_of")) {
        params.pad_to_multiple_of = static_cast<std::size_t>(multiple->as_int(0, INT32_MAX));
    }
    if (auto id = node.find("pad_id")) params.pad_id = static_cast<std::int32_t>(id->as_int(0, INT32_MAX));
    if (auto id = node.find("pad_type_id")) params.pad_type_id = static_cast<std::int32_t>(id->as_int(0, INT32_MAX));
    params.pad_token = node.string_or("pad_token", "[PAD]");
    return params;
}

}  // namespace

std::shared_ptr<const Pipeline> Pipeline::parse(std::string_view json, std::string_view origin,
                                                std::optional<TruncationParams>& truncation,
                                                std::optional<PaddingParams>& padding) {
    const std::string origin_text(origin);
    const nlohmann::json document = parse_tokenizer_json(json, origin_text);
    const JsonReader root(document, "", origin_text);
    root.require_object();
    auto pipeline = std::make_shared<Pipeline>();
    if (auto node = root.find("normalizer")) pipeline->normalizer_ = make_normalizer(*node);
    if (auto node = root.find("pre_tokenizer")) pipeline->pre_tokenizer_ = make_pre_tokenizer(*node);
    pipeline->model_ = make_model(root.at("model"));
    if (auto node = root.find("post_processor")) pipeline->post_processor_ = make_post_processor(*node);
    if (auto node = root.find("decoder")) pipeline->decoder_ = make_decoder(*node);

    std::vector<AddedToken> added;
    if (auto list = root.find("added_tokens")) {
        list->require_array();
        for (std::size_t idx = 0; idx < list->size(); ++idx) {
            const JsonReader entry = list->at(idx);
            entry.require_object();
            AddedToken token;
            token.id = static_cast<std::int32_t>(entry.at("id").as_int(0, INT32_MAX));
            token.content = entry.at("content").as_string();
            if (token.content.empty()) entry.at("content").fail("an added token cannot be empty");
            if (auto bad = utf8::find_invalid(token.content)) {
                entry.at("content").fail("invalid UTF-8 at byte " + std::to_string(*bad));
            }
            token.special = entry.bool_or("special", false);
            token.single_word = entry.bool_or("single_word", false);
            token.lstrip = entry.bool_or("lstrip", false);
            token.rstrip = entry.bool_or("rstrip", false);
            token.normalized = entry.bool_or("normalized", !token.special);
            added.push_back(std::move(token));
        }
    }
    pipeline->added_ = AddedVocabulary(std::move(added), pipeline->normalizer_.get());

    truncation.reset();
    padding.reset();
    if (auto node = root.find("truncation")) truncation = parse_truncation(*node);
    if (auto node = root.find("padding")) padding = parse_padding(*node);
    return pipeline;
}

Encoding Pipeline::encode_sequence(std::string_view text, std::int32_t type_id) const {
    PreTokenized pre;
    // 1. Added tokens matched verbatim in the original text; 2. the rest normalized, then the
    // normalized added tokens matched in it (the reference's extract_and_normalize).
    {
        std::vector<Split> raw;
        added_.split(NormalizedString(text, 0), false, raw);
        for (auto& split : raw) {
            if (split.added_id >= 0) {
                pre.splits.push_back(std::move(split));
                continue;
            }
            if (normalizer_) normalizer_->normalize(split.normalized);
            if (split.normalized.empty()) continue;
            added_.split(std::move(split.normalized), true, pre.splits);
        }
    }
    if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(pre);

    thread_local std::vector<Token> tokens;
    Encoding encoding;
    encoding.ids.reserve(text.size() / 3 + 4);
    encoding.tokens.reserve(text.size() / 3 + 4);
    encoding.offsets.reserve(text.size() / 3 + 4);
    for (auto& split : pre.splits) {
        tokens.clear();
        const NormalizedString& normalized = split.normalized;
        if (split.added_id >= 0) {
            tokens.push_back({split.added_id, normalized.text(), 0, static_cast<std::uint32_t>(normalized.text().size())});
        } else {
            model_->tokenize(normalized.text(), tokens);
        }
        for (auto& token : tokens) {
            const Span span = normalized.original_span(token.start, token.end);
            encoding.ids.push_back(token.id);
            encoding.tokens.push_back(std::move(token.value));
            encoding.offsets.emplace_back(span.start, span.end);
        }
    }
    // Byte offsets -> code point offsets (the reference's char offsets).
    bool ascii = true;
    for (char c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            ascii = false;
            break;
        }
    }
    if (!ascii) {
        const auto index = utf8::byte_to_code_point_index(text);
        for (auto& [start, end] : encoding.offsets) {
            start = index[std::min<std::size_t>(start, text.size())];
            end = index[std::min<std::size_t>(end, text.size())];
        }
    }
    const std::size_t count = encoding.ids.size();
    encoding.type_ids.assign(count, type_id);
    encoding.attention_mask.assign(count, 1);
    encoding.special_tokens_mask.assign(count, 0);
    return encoding;
}

Encoding Pipeline::post_process(std::vector<Encoding>& sequences, bool add_special_tokens) const {
    if (post_processor_) post_processor_->process(sequences, add_special_tokens);
    return merge_encodings(sequences);
}

std::string Pipeline::decode(std::span<const std::int32_t> ids, bool skip_special_tokens) const {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (std::int32_t id : ids) {
        const AddedToken* added = added_.find_by_id(id);
        const std::string* token = added ? &added->content : model_->id_to_token(id);
        if (token == nullptr) continue;
        if (skip_special_tokens) {
            const AddedToken* as_added = added ? added : added_.find_by_content(*token);
            if (as_added != nullptr && as_added->special) continue;
        }
        tokens.push_back(*token);
    }
    if (!decoder_) {
        std::string joined;
        for (std::size_t idx = 0; idx < tokens.size(); ++idx) {
            if (idx > 0) joined += ' ';
            joined += tokens[idx];
        }
        return joined;
    }
    decoder_->decode_chain(tokens);
    std::string joined;
    for (const auto& token : tokens) joined += token;
    return joined;
}

std::optional<std::int32_t> Pipeline::token_to_id(std::string_view token) const {
    if (const AddedToken* added = added_.find_by_content(token)) return added->id;
    return model_->token_to_id(token);
}

const std::string* Pipeline::id_to_token(std::int32_t id) const {
    if (const AddedToken* added = added_.find_by_id(id)) return &added->content;
    return model_->id_to_token(id);
}

std::size_t Pipeline::vocab_size() const {
    std::size_t size = model_->vocab_size();
    for (const auto& token : added_.tokens()) {
        if (!model_->token_to_id(token.content)) ++size;
    }
    return size;
}

}  // namespace tessera::tokenizers
