// `tessera tokenize`: print the token ids, tokens, type ids and offsets of texts, one JSON line
// per input in input order, exactly as the model's tokenizer.json tokenizes them.
//
//   tessera tokenize --model models/minilm "Hello, world!"
//   {"index":0,"ids":[101,7592,1010,2088,999,102],"tokens":["[CLS]","hello",...],...}
//   echo '{"text":"a question","pair":"a passage"}' | tessera tokenize --model models/minilm
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/input.hpp"
#include "cli/model_option.hpp"
#include "tessera/error.hpp"
#include "tessera/tokenizer.hpp"

namespace tessera::cli {

namespace {

struct TokenizeOptions {
    InputOptions inputs;
    std::size_t max_length = 0;  // 0: the model's (sentence_bert_config.json) or the file's own
    bool no_truncation = false;
    bool no_padding = false;
    bool no_special_tokens = false;
    bool decode = false;
};

// sentence-transformers' max_seq_length, the limit the model was trained with.
std::optional<std::size_t> model_max_length(const std::filesystem::path& dir) {
    std::ifstream in(dir / "sentence_bert_config.json");
    if (!in) return std::nullopt;
    const auto config = nlohmann::json::parse(in, nullptr, false);
    if (config.is_discarded() || !config.is_object() || !config.contains("max_seq_length") ||
        !config["max_seq_length"].is_number_unsigned()) {
        return std::nullopt;
    }
    return config["max_seq_length"].get<std::size_t>();
}

void run(const TokenizeOptions& options, const ModelOption& model) {
    // A local path is used as is (it may hold nothing but tokenizer.json); names go through the
    // registry / cache like every other model-using command.
    const std::filesystem::path dir =
        !model.model.empty() && std::filesystem::exists(model.model) ? std::filesystem::path(model.model) : model.resolve();
    const std::filesystem::path file = std::filesystem::is_directory(dir) ? dir / "tokenizer.json" : dir;
    Tokenizer tokenizer = Tokenizer::from_file(file);
    // The file's own truncation/padding apply unless the model config (or a flag) says otherwise.
    if (auto limit = model_max_length(dir)) {
        TruncationParams params = tokenizer.truncation().value_or(TruncationParams{});
        params.max_length = *limit;
        tokenizer.set_truncation(params);
        tokenizer.set_padding(std::nullopt);
    }
    if (options.max_length > 0) {
        TruncationParams params = tokenizer.truncation().value_or(TruncationParams{});
        params.max_length = options.max_length;
        tokenizer.set_truncation(params);
    }
    if (options.no_truncation) tokenizer.set_truncation(std::nullopt);
    if (options.no_padding) tokenizer.set_padding(std::nullopt);

    const std::vector<InputRecord> records = read_inputs(options.inputs);
    const bool add_special = !options.no_special_tokens;
    bool any_pair = false;
    for (const auto& record : records) any_pair = any_pair || record.pair.has_value();
    std::vector<Encoding> encodings;
    if (!any_pair) {
        std::vector<std::string> texts;
        texts.reserve(records.size());
        for (const auto& record : records) texts.push_back(record.text);
        encodings = tokenizer.encode_batch(texts, add_special);
    } else {
        // Mixed singles and pairs: each is encoded on its own (padding to a fixed length still
        // applies; batch-longest padding pads each to itself).
        for (const auto& record : records) {
            encodings.push_back(record.pair ? tokenizer.encode_pair(record.text, *record.pair, add_special)
                                            : tokenizer.encode(record.text, add_special));
        }
    }
    for (std::size_t idx = 0; idx < encodings.size(); ++idx) {
        const Encoding& e = encodings[idx];
        nlohmann::json line;
        line["index"] = idx;
        line["ids"] = e.ids;
        line["tokens"] = e.tokens;
        line["type_ids"] = e.type_ids;
        nlohmann::json offsets = nlohmann::json::array();
        for (const auto& [start, end] : e.offsets) offsets.push_back({start, end});
        line["offsets"] = std::move(offsets);
        if (tokenizer.padding()) line["attention_mask"] = e.attention_mask;
        if (options.decode) line["decoded"] = tokenizer.decode(e.ids, true);
        std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
    std::cout.flush();
}

const bool registered = register_command({
    .name = "tokenize",
    .order = 30,
    .setup =
        [](CLI::App& app) {
            auto options = std::make_shared<TokenizeOptions>();
            auto* cmd = app.add_subcommand(
                "tokenize", "Print token ids, tokens, type ids and offsets (code points) of texts as JSON Lines");
            auto model = add_model_options(cmd, ModelKind::text);
            add_input_options(cmd, options->inputs);
            cmd->add_option("--max-length", options->max_length,
                            "Truncate to this many tokens, special tokens included");
            cmd->add_flag("--no-truncation", options->no_truncation, "Ignore any truncation setting");
            cmd->add_flag("--no-padding", options->no_padding, "Ignore the padding block of tokenizer.json");
            cmd->add_flag("--no-special-tokens", options->no_special_tokens,
                          "Do not add the post-processor's special tokens ([CLS], <s>, ...)");
            cmd->add_flag("--decode", options->decode, "Also print the decoded text (special tokens skipped)");
            cmd->callback([options, model] { run(*options, *model); });
        },
});

}  // namespace

}  // namespace tessera::cli
