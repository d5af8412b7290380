// `tessera info`: what a model is — architecture, dimensions, layers, max length, pooling, prompts.
//
//   tessera info --model models/minilm
//   model         models/minilm
//   architecture  BERT encoder (model_type bert)
//   dimensions    384
//   ...
//   tessera info --model models/minilm --json
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/model_option.hpp"
#include "tessera/embedder.hpp"

namespace tessera::cli {

namespace {

std::string megabytes(std::size_t bytes) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / 1e6 << " MB";
    return text.str();
}

nlohmann::json info_json(const ModelInfo& info) {
    return {{"model_dir", info.model_dir.string()},
            {"model_type", info.model_type},
            {"architecture", info.architecture},
            {"dimensions", info.output_dim},
            {"hidden_dim", info.hidden_dim},
            {"layers", info.layer_count},
            {"heads", info.head_count},
            {"ffn_dim", info.ffn_dim},
            {"vocab_size", info.vocab_size},
            {"max_seq_length", info.max_seq_length},
            {"pooling", info.pooling},
            {"normalize", info.normalize},
            {"prompts", info.prompts},
            {"query_prompt_name", info.query_prompt_name},
            {"passage_prompt_name", info.passage_prompt_name},
            {"precision", info.precision},
            {"weight_bytes", info.weight_bytes},
            {"defaults_used", info.defaults_used}};
}

void print_text(const ModelInfo& info, std::ostream& out) {
    auto line = [&](const char* key, const std::string& value) { out << std::left << std::setw(16) << key << value << "\n"; };
    line("model", info.model_dir.string());
    line("architecture", info.architecture + " (model_type " + info.model_type + ")");
    line("dimensions", std::to_string(info.output_dim) +
                           (info.output_dim != info.hidden_dim ? " (hidden " + std::to_string(info.hidden_dim) + ")" : ""));
    line("layers", std::to_string(info.layer_count) + " x " + std::to_string(info.head_count) + " heads, ffn " +
                       std::to_string(info.ffn_dim));
    line("vocabulary", std::to_string(info.vocab_size));
    line("max length", std::to_string(info.max_seq_length) + " tokens (special tokens included)");
    line("pooling", info.pooling + (info.normalize ? ", L2-normalised" : ", not normalised"));
    auto prompt = [&](const std::string& name) {
        return name.empty() ? std::string("(none)") : "\"" + info.prompts.at(name) + "\" (prompt '" + name + "')";
    };
    line("query prefix", prompt(info.query_prompt_name));
    line("passage prefix", prompt(info.passage_prompt_name));
    for (const auto& [name, text] : info.prompts) {
        if (name != info.query_prompt_name && name != info.passage_prompt_name) line("prompt", name + " = \"" + text + "\"");
    }
    line("precision", info.precision);
    line("weights", megabytes(info.weight_bytes));
    for (const auto& note : info.defaults_used) line("default", note);
}

const bool registered = register_command({
    .name = "info",
    .order = 12,
    .setup =
        [](CLI::App& app) {
            auto* cmd = app.add_subcommand("info", "Show a text model's architecture, dimensions, pooling and prompts");
            auto model = add_model_options(cmd, ModelKind::text);
            auto as_json = std::make_shared<bool>(false);
            cmd->add_flag("--json", *as_json, "Print one JSON object");
            cmd->callback([model, as_json] {
                auto embedder = TextEmbedder::open(model->resolve());
                if (*as_json) {
                    std::cout << info_json(embedder->info()).dump() << "\n";
                } else {
                    print_text(embedder->info(), std::cout);
                }
            });
        },
});

}  // namespace

}  // namespace tessera::cli
