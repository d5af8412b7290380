// tessera-make-model: writes a random-weight model directory in the Hugging Face layout.
//
//   tessera-make-model --arch bert --shape minilm-l6 --seed 7 /tmp/random-minilm
//   tessera-make-model --arch nomic_bert --hidden 64 --layers 2 --heads 4 --ffn 128 out/
#include <CLI/CLI.hpp>

#include <cctype>
#include <iostream>

#include "model_writer.hpp"
#include "tessera/error.hpp"

int main(int argc, char** argv) {
    CLI::App app{"tessera-make-model: random-weight test models in the real Hugging Face layout "
                 "(the numbers they produce carry no meaning)"};
    std::string output_dir;
    std::string architecture = "bert";
    std::string shape = "tiny";
    std::optional<std::size_t> hidden_dim, layer_count, head_count, ffn_dim, vocab_size, max_tokens, max_seq_length;
    std::optional<std::string> pooling;
    std::string dtype = "F32";
    std::string hidden_act;
    std::size_t shard_count = 1;
    std::uint64_t seed = 1;
    bool no_normalize = false;
    bool no_st = false;
    bool exclude_prompt = false;
    std::vector<std::string> prompts;
    std::string default_prompt;
    std::string tokenizer;
    app.add_option("OUTPUT_DIR", output_dir, "Model directory to write")->required();
    app.add_option("--arch", architecture, "bert | roberta | xlm-roberta | nomic_bert")->capture_default_str();
    app.add_option("--shape", shape, "tiny | minilm-l6 | bge-base")->capture_default_str();
    app.add_option("--hidden", hidden_dim, "Hidden size (overrides the shape)");
    app.add_option("--layers", layer_count, "Number of layers");
    app.add_option("--heads", head_count, "Attention heads");
    app.add_option("--ffn", ffn_dim, "Feed-forward (intermediate) size");
    app.add_option("--vocab", vocab_size, "Vocabulary size (default: the tokenizer's)");
    app.add_option("--max-tokens", max_tokens, "Position limit (usable tokens)");
    app.add_option("--max-seq-length", max_seq_length, "sentence_bert_config.json max_seq_length");
    app.add_option("--pooling", pooling, "cls | mean | max | last_token | mean_sqrt_len | weighted_mean");
    app.add_option("--hidden-act", hidden_act, "BERT hidden_act (gelu, gelu_new, relu, ...)");
    app.add_option("--dtype", dtype, "F32 | F16 | BF16")->capture_default_str();
    app.add_option("--shards", shard_count, "Split the weights into N shards with an index.json")->capture_default_str();
    app.add_option("--seed", seed, "Random seed")->capture_default_str();
    app.add_option("--prompt", prompts, "A prompt NAME=TEXT for config_sentence_transformers.json (repeatable)");
    app.add_option("--default-prompt", default_prompt, "default_prompt_name");
    app.add_option("--tokenizer", tokenizer, "tokenizer.json or its directory (default: per architecture)");
    app.add_flag("--no-normalize", no_normalize, "Leave out the Normalize module");
    app.add_flag("--exclude-prompt", exclude_prompt, "Pooling include_prompt: false");
    app.add_flag("--no-sentence-transformers", no_st, "Write only config, weights and tokenizer");
    CLI11_PARSE(app, argc, argv);
    try {
        tessera::tools::ModelSpec spec = tessera::tools::spec_for_shape(shape, architecture);
        if (hidden_dim) spec.hidden_dim = *hidden_dim;
        if (layer_count) spec.layer_count = *layer_count;
        if (head_count) spec.head_count = *head_count;
        if (ffn_dim) spec.ffn_dim = *ffn_dim;
        if (vocab_size) spec.vocab_size = *vocab_size;
        if (max_tokens) spec.max_tokens = *max_tokens;
        if (max_seq_length) spec.max_seq_length = *max_seq_length;
        if (pooling) spec.pooling = *pooling;
        if (!hidden_act.empty()) spec.hidden_act = hidden_act;
        for (auto& ch : dtype) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        const auto dtype_value = tessera::formats::dtype_from_name(dtype);
        spec.dtype = dtype_value;
        spec.shard_count = shard_count;
        spec.seed = seed;
        spec.normalize = !no_normalize;
        spec.include_prompt = !exclude_prompt;
        spec.sentence_transformers_files = !no_st;
        spec.tokenizer = tokenizer;
        for (const auto& prompt : prompts) {
            const auto equals = prompt.find('=');
            if (equals == std::string::npos) {
                throw tessera::Error(tessera::ErrorCode::invalid_argument, "--prompt: expected NAME=TEXT, got '" + prompt + "'");
            }
            spec.prompts[prompt.substr(0, equals)] = prompt.substr(equals + 1);
        }
        spec.default_prompt_name = default_prompt;
        tessera::tools::write_model(output_dir, spec);
        std::cout << output_dir << "\n";
        std::cerr << "wrote a RANDOM-weight " << spec.architecture << " model (" << spec.hidden_dim << "-d, "
                  << spec.layer_count << " layers) to " << output_dir << "\n";
    } catch (const tessera::Error& err) {
        std::cerr << "tessera-make-model: error: " << err.what() << "\n";
        return tessera::exit_code(err.code());
    }
    return 0;
}
