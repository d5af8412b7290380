#include "model_writer.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>

#include "formats/model_config.hpp"
#include "tessera/error.hpp"

#ifndef TESSERA_SHARED_DIR
#define TESSERA_SHARED_DIR "../shared"
#endif

namespace tessera::tools {

namespace {

using nlohmann::json;
using formats::TensorToWrite;

// SplitMix64 stream + Box-Muller: portable and deterministic, unlike std::normal_distribution.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {}
    std::uint64_t next_u64() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return (static_cast<double>(next_u64() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        const double radius = std::sqrt(-2.0 * std::log(uniform()));
        const double angle = 2.0 * M_PI * uniform();
        spare_ = radius * std::sin(angle);
        has_spare_ = true;
        return radius * std::cos(angle);
    }

private:
    std::uint64_t state_;
    bool has_spare_ = false;
    double spare_ = 0;
};

// Collects tensors with the init rules of the golden models.
class TensorSink {
public:
    TensorSink(const ModelSpec& spec, Rng& rng) : spec_(spec), rng_(rng) {}

    void normal(const std::string& name, std::vector<std::size_t> shape, double mean, double stddev) {
        std::size_t count = 1;
        for (const auto dim : shape) count *= dim;
        TensorToWrite tensor{.name = name, .shape = std::move(shape), .dtype = spec_.dtype};
        tensor.values.resize(count);
        for (auto& value : tensor.values) value = static_cast<float>(mean + stddev * rng_.normal());
        tensors_.push_back(std::move(tensor));
    }
    void embedding(const std::string& name, std::size_t rows, std::size_t dim) { normal(name, {rows, dim}, 0, 0.02); }
    void linear(const std::string& name, std::size_t out_dim, std::size_t in_dim, bool bias = true) {
        normal(name + ".weight", {out_dim, in_dim}, 0, 1.0 / std::sqrt(static_cast<double>(in_dim)));
        if (bias) normal(name + ".bias", {out_dim}, 0, 0.02);
    }
    void layer_norm(const std::string& name, std::size_t dim) {
        normal(name + ".weight", {dim}, 1.0, 0.05);
        normal(name + ".bias", {dim}, 0, 0.02);
    }
    std::vector<TensorToWrite>& tensors() { return tensors_; }

private:
    const ModelSpec& spec_;
    Rng& rng_;
    std::vector<TensorToWrite> tensors_;
};

bool roberta_like(const std::string& architecture) {
    return architecture == "roberta" || architecture == "xlm-roberta";
}

json bert_config(const ModelSpec& spec, std::size_t vocab_size) {
    const bool roberta = roberta_like(spec.architecture);
    const std::size_t pad_id = roberta ? 1 : 0;
    json config = {
        {"architectures", {spec.architecture == "bert" ? "BertModel"
                           : spec.architecture == "roberta" ? "RobertaModel" : "XLMRobertaModel"}},
        {"attention_probs_dropout_prob", 0.1},
        {"hidden_act", spec.hidden_act},
        {"hidden_dropout_prob", 0.1},
        {"hidden_size", spec.hidden_dim},
        {"initializer_range", 0.02},
        {"intermediate_size", spec.ffn_dim},
        {"layer_norm_eps", roberta ? 1e-5 : 1e-12},
        {"max_position_embeddings", spec.max_tokens + (roberta ? pad_id + 1 : 0)},
        {"model_type", spec.architecture},
        {"num_attention_heads", spec.head_count},
        {"num_hidden_layers", spec.layer_count},
        {"pad_token_id", pad_id},
        {"position_embedding_type", "absolute"},
        {"torch_dtype", "float32"},
        {"transformers_version", "4.41.2"},
        {"type_vocab_size", roberta ? 1 : 2},
        {"vocab_size", vocab_size},
    };
    if (roberta) {
        config["bos_token_id"] = 0;
        config["eos_token_id"] = 2;
    }
    return config;
}

void bert_tensors(const ModelSpec& spec, std::size_t vocab_size, TensorSink& sink) {
    const bool roberta = roberta_like(spec.architecture);
    const std::size_t hidden = spec.hidden_dim;
    sink.embedding("embeddings.word_embeddings.weight", vocab_size, hidden);
    sink.embedding("embeddings.position_embeddings.weight", spec.max_tokens + (roberta ? 2 : 0), hidden);
    sink.embedding("embeddings.token_type_embeddings.weight", roberta ? 1 : 2, hidden);
    sink.layer_norm("embeddings.LayerNorm", hidden);
    for (std::size_t layer_idx = 0; layer_idx < spec.layer_count; ++layer_idx) {
        const std::string name = "encoder.layer." + std::to_string(layer_idx) + ".";
        sink.linear(name + "attention.self.query", hidden, hidden);
        sink.linear(name + "attention.self.key", hidden, hidden);
        sink.linear(name + "attention.self.value", hidden, hidden);
        sink.linear(name + "attention.output.dense", hidden, hidden);
        sink.layer_norm(name + "attention.output.LayerNorm", hidden);
        sink.linear(name + "intermediate.dense", spec.ffn_dim, hidden);
        sink.linear(name + "output.dense", hidden, spec.ffn_dim);
        sink.layer_norm(name + "output.LayerNorm", hidden);
    }
    sink.linear("pooler.dense", hidden, hidden);
}

json nomic_config(const ModelSpec& spec, std::size_t vocab_size) {
    return {
        {"activation_function", "swiglu"},
        {"architectures", {"NomicBertModel"}},
        {"auto_map", {{"AutoConfig", "nomic-ai/nomic-bert-2048--configuration_hf_nomic_bert.NomicBertConfig"},
                      {"AutoModel", "nomic-ai/nomic-bert-2048--modeling_hf_nomic_bert.NomicBertModel"}}},
        {"bos_token_id", nullptr},
        {"causal", false},
        {"eos_token_id", nullptr},
        {"layer_norm_epsilon", 1e-12},
        {"max_trained_positions", 2048},
        {"mlp_fc1_bias", false},
        {"mlp_fc2_bias", false},
        {"model_type", "nomic_bert"},
        {"n_embd", spec.hidden_dim},
        {"n_head", spec.head_count},
        {"n_inner", spec.ffn_dim},
        {"n_layer", spec.layer_count},
        {"n_positions", spec.max_tokens},
        {"pad_vocab_size_multiple", 64},
        {"prenorm", false},
        {"qkv_proj_bias", false},
        {"rotary_emb_base", 1000},
        {"rotary_emb_fraction", 1.0},
        {"rotary_emb_interleaved", false},
        {"rotary_scaling_factor", nullptr},
        {"torch_dtype", "float32"},
        {"type_vocab_size", 2},
        {"use_flash_attn", true},
        {"vocab_size", vocab_size},
    };
}

void nomic_tensors(const ModelSpec& spec, std::size_t vocab_size, TensorSink& sink) {
    const std::size_t hidden = spec.hidden_dim;
    sink.embedding("embeddings.word_embeddings.weight", vocab_size, hidden);
    sink.embedding("embeddings.token_type_embeddings.weight", 2, hidden);
    sink.layer_norm("emb_ln", hidden);
    for (std::size_t layer_idx = 0; layer_idx < spec.layer_count; ++layer_idx) {
        const std::string name = "encoder.layers." + std::to_string(layer_idx) + ".";
        sink.linear(name + "attn.Wqkv", 3 * hidden, hidden, false);
        sink.linear(name + "attn.out_proj", hidden, hidden, false);
        sink.layer_norm(name + "norm1", hidden);
        sink.linear(name + "mlp.fc11", spec.ffn_dim, hidden, false);
        sink.linear(name + "mlp.fc12", spec.ffn_dim, hidden, false);
        sink.linear(name + "mlp.fc2", hidden, spec.ffn_dim, false);
        sink.layer_norm(name + "norm2", hidden);
    }
}

// One entry per architecture: its config.json, its tensors, its default tokenizer and how it
// rounds the vocabulary (nomic pads to a multiple of 64).
struct ArchitectureWriter {
    std::string_view architecture;
    std::function<json(const ModelSpec&, std::size_t)> config;
    std::function<void(const ModelSpec&, std::size_t, TensorSink&)> tensors;
    std::string_view tokenizer_dir;  // under shared/data/tokenizers
    std::size_t vocab_multiple;
};

const std::vector<ArchitectureWriter>& writers() {
    static const std::vector<ArchitectureWriter> kWriters = {
        {"bert", bert_config, bert_tensors, "bert-base-uncased", 1},
        {"roberta", bert_config, bert_tensors, "bytelevel-bpe-roberta-style", 1},
        {"xlm-roberta", bert_config, bert_tensors, "unigram-xlmr-style", 1},
        {"nomic_bert", nomic_config, nomic_tensors, "bert-base-uncased", 64},
    };
    return kWriters;
}

const ArchitectureWriter& writer_for(std::string_view architecture) {
    for (const auto& writer : writers()) {
        if (writer.architecture == architecture) return writer;
    }
    std::string known;
    for (const auto& writer : writers()) known += (known.empty() ? "" : ", ") + std::string(writer.architecture);
    throw Error(ErrorCode::invalid_argument,
                "architecture: unknown '" + std::string(architecture) + "' (supported: " + known + ")");
}

std::filesystem::path shared_dir() {
    if (const char* env = std::getenv("TESSERA_SHARED_DIR"); env != nullptr && *env != '\0') return env;
    return TESSERA_SHARED_DIR;
}

void write_json(const std::filesystem::path& path, const json& value) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorCode::io, path.string() + ": cannot create");
    out << value.dump(2) << "\n";
    if (!out) throw Error(ErrorCode::io, path.string() + ": write failed");
}

// The tokenizer's id space: the largest id of the model vocabulary or added tokens, plus one.
std::size_t tokenizer_vocab_size(const std::filesystem::path& tokenizer_json) {
    const json tokenizer = formats::read_json_file(tokenizer_json);
    std::size_t size = 0;
    const auto& vocab = tokenizer.at("model").at("vocab");
    if (vocab.is_array()) {
        size = vocab.size();
    } else {
        for (const auto& [token, id] : vocab.items()) size = std::max(size, id.get<std::size_t>() + 1);
    }
    if (tokenizer.contains("added_tokens")) {
        for (const auto& added : tokenizer["added_tokens"]) size = std::max(size, added.at("id").get<std::size_t>() + 1);
    }
    return size;
}

json pooling_config(const ModelSpec& spec) {
    const std::string& mode = spec.pooling;
    if (mode != "cls" && mode != "mean" && mode != "max" && mode != "last_token" && mode != "mean_sqrt_len" &&
        mode != "weighted_mean") {
        throw Error(ErrorCode::invalid_argument, "pooling: unknown mode '" + mode + "'");
    }
    return {
        {"word_embedding_dimension", spec.hidden_dim},
        {"pooling_mode_cls_token", mode == "cls"},
        {"pooling_mode_mean_tokens", mode == "mean"},
        {"pooling_mode_max_tokens", mode == "max"},
        {"pooling_mode_mean_sqrt_len_tokens", mode == "mean_sqrt_len"},
        {"pooling_mode_weightedmean_tokens", mode == "weighted_mean"},
        {"pooling_mode_lasttoken", mode == "last_token"},
        {"include_prompt", spec.include_prompt},
    };
}

// The shared data files are read-only; the copies must stay rewritable by a second run.
void copy_writable(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::filesystem::remove(to);
    std::filesystem::copy_file(from, to);
    std::filesystem::permissions(to, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::add);
}

std::string shard_name(std::size_t shard_idx, std::size_t shard_count) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", shard_idx + 1, shard_count);
    return name;
}

}  // namespace

std::vector<std::string> supported_architectures() {
    std::vector<std::string> names;
    for (const auto& writer : writers()) names.emplace_back(writer.architecture);
    return names;
}

ModelSpec spec_for_shape(std::string_view shape, std::string_view architecture) {
    ModelSpec spec;
    spec.architecture = std::string(writer_for(architecture).architecture);
    if (architecture == "nomic_bert") spec.max_tokens = 2048;
    if (shape == "tiny") {
        spec.hidden_dim = 32, spec.layer_count = 2, spec.head_count = 2, spec.ffn_dim = 64;
    } else if (shape == "minilm-l6") {
        spec.hidden_dim = 384, spec.layer_count = 6, spec.head_count = 12, spec.ffn_dim = 1536;
        spec.max_seq_length = 256;
    } else if (shape == "bge-base") {
        spec.hidden_dim = 768, spec.layer_count = 12, spec.head_count = 12, spec.ffn_dim = 3072;
        spec.pooling = "cls";
        spec.prompts = {{"query", "Represent this sentence for searching relevant passages: "}};
    } else {
        throw Error(ErrorCode::invalid_argument,
                    "shape: unknown '" + std::string(shape) + "' (tiny, minilm-l6 or bge-base)");
    }
    return spec;
}

std::filesystem::path default_tokenizer(std::string_view architecture) {
    return shared_dir() / "data" / "tokenizers" / std::string(writer_for(architecture).tokenizer_dir);
}

void write_model(const std::filesystem::path& model_dir, const ModelSpec& spec) {
    const ArchitectureWriter& writer = writer_for(spec.architecture);
    if (spec.hidden_dim == 0 || spec.layer_count == 0 || spec.head_count == 0 || spec.ffn_dim == 0 ||
        spec.max_tokens == 0) {
        throw Error(ErrorCode::invalid_argument, "model spec: sizes must be positive");
    }
    if (spec.hidden_dim % spec.head_count != 0 || (spec.hidden_dim / spec.head_count) % 2 != 0) {
        throw Error(ErrorCode::invalid_argument, "model spec: hidden " + std::to_string(spec.hidden_dim) +
                                                     " must split into heads of an even size (heads " +
                                                     std::to_string(spec.head_count) + ")");
    }
    if (spec.shard_count == 0) throw Error(ErrorCode::invalid_argument, "model spec: shard count must be positive");
    if (spec.dtype != formats::DType::f32 && spec.dtype != formats::DType::f16 && spec.dtype != formats::DType::bf16) {
        throw Error(ErrorCode::invalid_argument, "model spec: dtype must be F32, F16 or BF16");
    }
    std::filesystem::path tokenizer_source = spec.tokenizer.empty() ? default_tokenizer(spec.architecture) : spec.tokenizer;
    std::filesystem::path tokenizer_dir = tokenizer_source;
    if (std::filesystem::is_directory(tokenizer_source)) {
        tokenizer_source /= "tokenizer.json";
    } else {
        tokenizer_dir = tokenizer_source.parent_path();
    }
    if (!std::filesystem::exists(tokenizer_source)) {
        throw Error(ErrorCode::not_found, tokenizer_source.string() + ": tokenizer not found (set TESSERA_SHARED_DIR?)");
    }
    std::size_t vocab_size = spec.vocab_size.value_or(tokenizer_vocab_size(tokenizer_source));
    vocab_size = (vocab_size + writer.vocab_multiple - 1) / writer.vocab_multiple * writer.vocab_multiple;

    std::filesystem::create_directories(model_dir);
    Rng rng(spec.seed);
    TensorSink sink(spec, rng);
    writer.tensors(spec, vocab_size, sink);
    auto& tensors = sink.tensors();
    std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });

    json config = writer.config(spec, vocab_size);
    config["torch_dtype"] = spec.dtype == formats::DType::f32   ? "float32"
                            : spec.dtype == formats::DType::f16 ? "float16"
                                                                : "bfloat16";
    write_json(model_dir / "config.json", config);
    if (spec.shard_count == 1) {
        formats::write_safetensors(model_dir / "model.safetensors", tensors);
    } else {
        std::vector<std::vector<TensorToWrite>> shards(spec.shard_count);
        json weight_map = json::object();
        std::size_t total_bytes = 0;
        for (std::size_t tensor_idx = 0; tensor_idx < tensors.size(); ++tensor_idx) {
            // Contiguous runs of names per shard, as transformers' save_pretrained splits.
            const std::size_t shard_idx = tensor_idx * spec.shard_count / tensors.size();
            weight_map[tensors[tensor_idx].name] = shard_name(shard_idx, spec.shard_count);
            total_bytes += tensors[tensor_idx].values.size() * formats::dtype_size_bytes(spec.dtype);
            shards[shard_idx].push_back(std::move(tensors[tensor_idx]));
        }
        for (std::size_t shard_idx = 0; shard_idx < spec.shard_count; ++shard_idx) {
            formats::write_safetensors(model_dir / shard_name(shard_idx, spec.shard_count), shards[shard_idx]);
        }
        write_json(model_dir / "model.safetensors.index.json",
                   {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}});
    }

    copy_writable(tokenizer_source, model_dir / "tokenizer.json");
    for (const char* extra : {"tokenizer_config.json", "special_tokens_map.json", "vocab.txt"}) {
        if (std::filesystem::exists(tokenizer_dir / extra)) copy_writable(tokenizer_dir / extra, model_dir / extra);
    }

    if (!spec.sentence_transformers_files) return;
    json modules = json::array({
        {{"idx", 0}, {"name", "0"}, {"path", ""}, {"type", "sentence_transformers.models.Transformer"}},
        {{"idx", 1}, {"name", "1"}, {"path", "1_Pooling"}, {"type", "sentence_transformers.models.Pooling"}},
    });
    if (spec.normalize) {
        modules.push_back(
            {{"idx", 2}, {"name", "2"}, {"path", "2_Normalize"}, {"type", "sentence_transformers.models.Normalize"}});
    }
    write_json(model_dir / "modules.json", modules);
    std::filesystem::create_directories(model_dir / "1_Pooling");
    write_json(model_dir / "1_Pooling" / "config.json", pooling_config(spec));
    write_json(model_dir / "sentence_bert_config.json",
               {{"max_seq_length", spec.max_seq_length.value_or(spec.max_tokens)}, {"do_lower_case", false}});
    json prompts = json::object();
    for (const auto& [name, text] : spec.prompts) prompts[name] = text;
    write_json(model_dir / "config_sentence_transformers.json",
               {{"__version__", {{"sentence_transformers", "3.0.1"}, {"transformers", "4.41.2"}, {"pytorch", "2.3.0"}}},
                {"prompts", prompts},
                {"default_prompt_name", spec.default_prompt_name.empty() ? json(nullptr) : json(spec.default_prompt_name)},
                {"similarity_fn_name", "cosine"}});
}

}  // namespace tessera::tools
