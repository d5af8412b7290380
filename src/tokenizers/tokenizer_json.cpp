#include "tokenizers/tokenizer_json.hpp"

#include <vector>

#include "tessera/error.hpp"

namespace tessera::tokenizers {

namespace {

using Json = nlohmann::json;

// Builds the DOM from SAX events as nlohmann's own parser does (a stack of open containers,
// duplicate keys: the last one wins), except for the entries of model.vocab, see the header.
class TokenizerJsonBuilder final : public nlohmann::json_sax<Json> {
public:
    Json root;
    std::string error;

    bool null() override { return put(nullptr); }
    bool boolean(bool value) override { return put(value); }
    bool number_integer(number_integer_t value) override {
        if (packing_ && value >= 0 && value <= INT32_MAX) return pack(static_cast<std::int32_t>(value));
        return put(value);
    }
    bool number_unsigned(number_unsigned_t value) override {
        if (packing_ && value <= INT32_MAX) return pack(static_cast<std::int32_t>(value));
        return put(value);
    }
    bool number_float(number_float_t value, const string_t&) override { return put(value); }
    bool string(string_t& value) override { return put(std::move(value)); }
    bool binary(binary_t& value) override { return put(std::move(value)); }

    bool start_object(std::size_t) override {
        if (!packing_ && at_model_vocab()) {
            packing_ = true;
            packed_.assign(sizeof(std::uint32_t), 0);
            packed_count_ = 0;
            return true;
        }
        return open(Json::object());
    }
    bool key(string_t& key) override {
        (packing_ ? pending_key_ : stack_.back().key) = std::move(key);
        return true;
    }
    bool end_object() override {
        if (packing_) return put(Json::binary(take_packed()));
        stack_.pop_back();
        return true;
    }
    bool start_array(std::size_t) override { return open(Json::array()); }
    bool end_array() override {
        stack_.pop_back();
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& err) override {
        error = err.what();
        return false;
    }

private:
    struct Frame {
        Json* node;
        std::string key;  // objects: the key of the value that comes next
    };

    [[nodiscard]] bool at_model_vocab() const {
        return stack_.size() == 2 && stack_[0].key == "model" && stack_[1].node->is_object() &&
               stack_[1].key == "vocab";
    }

    // A value inside the packed vocab that is not an id: the entries so far become an ordinary
    // object again and the rest of the vocab is built as a DOM (so the reader reports the error).
    void unpack() {
        const PackedVocab packed = take_packed();
        Json vocab = Json::object();
        for_each_packed_vocab_entry(packed, [&](std::string_view token, std::int32_t id) { vocab[std::string(token)] = id; });
        (void)open(std::move(vocab));
        stack_.back().key = std::move(pending_key_);
    }

    // Ends packing: the buffer with its entry count written in front.
    PackedVocab take_packed() {
        packing_ = false;
        std::memcpy(packed_.data(), &packed_count_, sizeof(packed_count_));
        return std::move(packed_);
    }

    bool pack(std::int32_t id) {
        const auto length = static_cast<std::uint32_t>(pending_key_.size());
        const std::size_t at = packed_.size();
        packed_.resize(at + sizeof(length) + length + sizeof(id));
        std::memcpy(packed_.data() + at, &length, sizeof(length));
        std::memcpy(packed_.data() + at + sizeof(length), pending_key_.data(), length);
        std::memcpy(packed_.data() + at + sizeof(length) + length, &id, sizeof(id));
        ++packed_count_;
        return true;
    }

    // Places a value into the innermost open container; returns where it now lives.
    Json* place(Json&& value) {
        if (packing_) unpack();
        if (stack_.empty()) {
            root = std::move(value);
            return &root;
        }
        Frame& top = stack_.back();
        if (top.node->is_object()) {
            Json& slot = (*top.node)[top.key];
            slot = std::move(value);
            return &slot;
        }
        top.node->push_back(std::move(value));
        return &top.node->back();
    }
    bool put(Json&& value) {
        (void)place(std::move(value));
        return true;
    }
    bool open(Json&& container) {
        // Containers are only appended to while they are innermost, so pointers to the open
        // ones stay valid (map nodes never move; an array grows only when it is on top).
        stack_.push_back({place(std::move(container)), {}});
        return true;
    }

    std::vector<Frame> stack_;
    bool packing_ = false;
    PackedVocab packed_;
    std::uint32_t packed_count_ = 0;
    std::string pending_key_;
};

}  // namespace

Json parse_tokenizer_json(std::string_view text, const std::string& origin) {
    TokenizerJsonBuilder builder;
    if (!Json::sax_parse(text, &builder) || !builder.error.empty()) {
        throw Error(ErrorCode::corrupt, origin + ": not valid JSON: " +
                                            (builder.error.empty() ? std::string("incomplete document") : builder.error));
    }
    return std::move(builder.root);
}

}  // namespace tessera::tokenizers
