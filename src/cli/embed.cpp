// `tessera embed`: texts in, one vector per text out (JSON Lines on stdout, or a .npy file).
//
//   tessera embed --model models/minilm "The cat sits." "A kitten rests."
//   {"index":0,"embedding":[0.0123,...]}
//   tessera embed --model bge-small-en-v1.5 --query --dimensions 256 --input queries.jsonl --output q.npy
//   cat notes.txt | tessera embed --lines
#include <iostream>

#include "cli/command.hpp"
#include "cli/embed_image.hpp"
#include "cli/input.hpp"
#include "cli/model_option.hpp"
#include "core/progress.hpp"
#include "tessera/embedder.hpp"
#include "tessera/error.hpp"

namespace tessera::cli {

namespace {

struct EmbedCommandOptions {
    InputOptions inputs;
    std::string output;  // .npy path; empty: JSON Lines on stdout
    bool query = false;
    bool passage = false;
    std::optional<std::string> prefix;
    std::optional<std::string> prompt_name;
    std::size_t dimensions = 0;
    bool no_normalize = false;
    bool no_truncate = false;
    std::size_t batch_size = 0;
    std::size_t threads = 0;
    std::size_t max_batch_tokens = 16384;
    std::optional<std::size_t> max_seq_length;
    std::string precision = "fp32";
};

// Texts are embedded in chunks so JSON Lines stream out and progress can be shown.
constexpr std::size_t kChunkTexts = 256;
constexpr std::size_t kProgressThreshold = 1024;

Precision parse_precision(const std::string& name) {
    if (name == "fp32") return Precision::fp32;
    if (name == "bf16") return Precision::bf16;
    if (name == "int8") return Precision::int8;
    throw Error(ErrorCode::invalid_argument, "--precision: expected fp32, bf16 or int8, got '" + name + "'");
}

void run_text(const EmbedCommandOptions& options, const ModelOption& model) {
    const std::vector<InputRecord> records = read_inputs(options.inputs);
    if (records.empty()) {
        throw Error(ErrorCode::invalid_argument,
                    "no input texts (give TEXT arguments, --input FILE, or JSON Lines on stdin)");
    }
    EmbedderOptions embedder_options{.thread_count = options.threads,
                                     .precision = parse_precision(options.precision),
                                     .max_batch_tokens = options.max_batch_tokens,
                                     .max_seq_length = options.max_seq_length};
    auto embedder = TextEmbedder::open(model.resolve(), embedder_options);
    EmbedOptions embed_options{
        .kind = options.query ? InputKind::query : options.passage ? InputKind::passage : InputKind::none,
        .normalize = !options.no_normalize,
        .dimensions = options.dimensions,
        .batch_size = options.batch_size,
        .prefix = options.prefix,
        .prompt_name = options.prompt_name,
        .truncate = !options.no_truncate};

    core::ProgressBar progress("embed", records.size(), "texts",
                               core::ProgressOptions{.enabled = records.size() >= kProgressThreshold});
    Matrix all;
    for (std::size_t first = 0; first < records.size(); first += kChunkTexts) {
        const std::size_t count = std::min(kChunkTexts, records.size() - first);
        std::vector<std::string> texts;
        texts.reserve(count);
        for (std::size_t idx = first; idx < first + count; ++idx) texts.push_back(records[idx].text);
        Matrix vectors;
        try {
            vectors = embedder->embed(texts, embed_options);
        } catch (const Error& err) {
            throw err.with_context("inputs " + std::to_string(first) + ".." + std::to_string(first + count - 1));
        }
        if (options.output.empty()) {
            write_embeddings_jsonl(std::cout, vectors, first);
        } else {
            if (all.rows() == 0) all = Matrix(records.size(), vectors.cols());
            std::copy(vectors.data().begin(), vectors.data().end(),
                      all.data().begin() + static_cast<std::ptrdiff_t>(first * vectors.cols()));
        }
        progress.advance(count);
    }
    progress.finish();
    if (!options.output.empty()) {
        write_npy(options.output, all);
        std::cerr << "wrote " << all.rows() << " x " << all.cols() << " float32 to " << options.output << "\n";
    }
}

const bool registered = register_command({
    .name = "embed",
    .order = 10,
    .setup =
        [](CLI::App& app) {
            auto* cmd = app.add_subcommand("embed", "Embed texts: JSON Lines {\"index\",\"embedding\"} or a .npy file");
            auto options = std::make_shared<EmbedCommandOptions>();
            auto model = add_model_options(cmd, ModelKind::text);
            add_input_options(cmd, options->inputs);
            cmd->add_option("--output,-o", options->output, "Write a float32 .npy file instead of JSON Lines");
            auto* query = cmd->add_flag("--query", options->query, "Use the model's query prompt (e.g. \"query: \")");
            cmd->add_flag("--passage", options->passage, "Use the model's passage/document prompt")->excludes(query);
            cmd->add_option("--prefix", options->prefix, "Put this text before every input (overrides prompts)");
            cmd->add_option("--prompt-name", options->prompt_name, "A named prompt of config_sentence_transformers.json");
            cmd->add_option("--dimensions", options->dimensions, "Keep the first N dimensions (Matryoshka), then renormalise");
            cmd->add_flag("--no-normalize", options->no_normalize, "Do not L2-normalise the vectors");
            cmd->add_flag("--no-truncate", options->no_truncate, "Fail on texts longer than the model's limit");
            cmd->add_option("--batch-size", options->batch_size, "At most N texts per forward pass (default: by token budget)");
            cmd->add_option("--max-batch-tokens", options->max_batch_tokens, "Token budget of one packed batch")
                ->capture_default_str();
            cmd->add_option("--max-seq-length", options->max_seq_length, "Lower the model's token limit");
            cmd->add_option("--threads", options->threads, "Worker threads (default: all cores)");
            cmd->add_option("--precision", options->precision, "fp32 | bf16 | int8")->capture_default_str();
            auto images = std::make_shared<ImageEmbedOptions>();
            cmd->add_option("--image", images->images, "Embed images instead (CLIP): files, directories (recursive), http(s) URLs");
            cmd->callback([options, model, images] {
                if (images->images.empty()) return run_text(*options, *model);
                if (!options->inputs.texts.empty()) throw Error(ErrorCode::invalid_argument, "give TEXT arguments or --image, not both");
                images->output = options->output;
                images->threads = options->threads;
                images->precision = options->precision;
                model->kind = ModelKind::image;  // the default model becomes the default image model
                run_image_embed(*images, *model);
            });
        },
});

}  // namespace

}  // namespace tessera::cli
