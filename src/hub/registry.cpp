// The known-model registry: one row per model; facts from the model cards and
// ../shared/docs/model-formats.md section 8. Sizes are the approximate safetensors download.
#include <algorithm>
#include <cctype>

#include "tessera/hub.hpp"

namespace tessera {

namespace {

constexpr const char* kBgeQuery = "Represent this sentence for searching relevant passages: ";

std::vector<KnownModel> build_registry() {
    auto text = [](std::string repo_id, std::vector<std::string> aliases, std::string arch,
                   std::size_t dims, std::size_t max_tokens, std::string pooling,
                   std::string query_prefix, std::string passage_prefix, double size_mb,
                   std::string license) {
        return KnownModel{.repo_id = std::move(repo_id), .aliases = std::move(aliases),
                          .architecture = std::move(arch), .modality = "text",
                          .dimensions = dims, .max_tokens = max_tokens,
                          .pooling = std::move(pooling), .query_prefix = std::move(query_prefix),
                          .passage_prefix = std::move(passage_prefix), .size_mb = size_mb,
                          .license = std::move(license)};
    };
    auto clip = [](std::string repo_id, std::vector<std::string> aliases, std::size_t dims,
                   double size_mb) {
        return KnownModel{.repo_id = std::move(repo_id), .aliases = std::move(aliases),
                          .architecture = "clip", .modality = "image+text", .dimensions = dims,
                          .max_tokens = 77, .pooling = "eos/cls+projection", .query_prefix = "",
                          .passage_prefix = "", .size_mb = size_mb, .license = "mit"};
    };
    return {
        text("sentence-transformers/all-MiniLM-L6-v2",
             {"all-minilm", "all-minilm:latest", "all-minilm:l6-v2", "all-minilm:22m",
              "qdrant/all-MiniLM-L6-v2-onnx"},
             "bert", 384, 256, "mean", "", "", 90.9, "apache-2.0"),
        text("sentence-transformers/all-MiniLM-L12-v2",
             {"all-minilm:l12-v2", "all-minilm:33m"}, "bert", 384, 256, "mean", "", "", 133,
             "apache-2.0"),
        text("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
             {"qdrant/paraphrase-multilingual-MiniLM-L12-v2-onnx-Q"}, "bert", 384, 128, "mean", "",
             "", 471, "apache-2.0"),
        text("BAAI/bge-small-en-v1.5", {"qdrant/bge-small-en-v1.5-onnx-q", "bge-small"}, "bert",
             384, 512, "cls", kBgeQuery, "", 133, "mit"),
        text("BAAI/bge-base-en-v1.5", {"qdrant/bge-base-en-v1.5-onnx-q", "bge-base"}, "bert", 768,
             512, "cls", kBgeQuery, "", 438, "mit"),
        text("BAAI/bge-large-en-v1.5",
             {"qdrant/bge-large-en-v1.5-onnx", "bge-large", "bge-large:latest", "bge-large:335m"},
             "bert", 1024, 512, "cls", kBgeQuery, "", 1340, "mit"),
        text("BAAI/bge-m3", {"bge-m3:latest", "bge-m3:567m"}, "xlm-roberta", 1024, 8192, "cls",
             "", "", 2270, "mit"),
        text("intfloat/e5-small-v2", {}, "bert", 384, 512, "mean", "query: ", "passage: ", 133,
             "mit"),
        text("intfloat/e5-base-v2", {}, "bert", 768, 512, "mean", "query: ", "passage: ", 438,
             "mit"),
        text("intfloat/e5-large-v2", {}, "bert", 1024, 512, "mean", "query: ", "passage: ", 1340,
             "mit"),
        text("intfloat/multilingual-e5-small", {}, "bert", 384, 512, "mean", "query: ",
             "passage: ", 471, "mit"),
        text("intfloat/multilingual-e5-base", {}, "xlm-roberta", 768, 512, "mean", "query: ",
             "passage: ", 1110, "mit"),
        text("intfloat/multilingual-e5-large", {"qdrant/multilingual-e5-large-onnx"},
             "xlm-roberta", 1024, 512, "mean", "query: ", "passage: ", 2240, "mit"),
        text("thenlper/gte-small", {}, "bert", 384, 512, "mean", "", "", 66.8, "mit"),
        text("thenlper/gte-base", {}, "bert", 768, 512, "mean", "", "", 219, "mit"),
        text("mixedbread-ai/mxbai-embed-large-v1",
             {"mxbai-embed-large", "mxbai-embed-large:latest", "mxbai-embed-large:335m"}, "bert",
             1024, 512, "cls", kBgeQuery, "", 670, "apache-2.0"),
        text("Snowflake/snowflake-arctic-embed-s", {"snowflake-arctic-embed:s",
             "snowflake-arctic-embed:33m"}, "bert", 384, 512, "cls", kBgeQuery, "", 133,
             "apache-2.0"),
        text("Snowflake/snowflake-arctic-embed-m", {"snowflake-arctic-embed:m",
             "snowflake-arctic-embed:110m"}, "bert", 768, 512, "cls", kBgeQuery, "", 436,
             "apache-2.0"),
        text("nomic-ai/nomic-embed-text-v1.5",
             {"nomic-embed-text", "nomic-embed-text:latest", "nomic-embed-text:v1.5",
              "nomic-embed-text-v1.5"},
             "nomic_bert", 768, 8192, "mean", "search_query: ", "search_document: ", 547,
             "apache-2.0"),
        clip("openai/clip-vit-base-patch32",
             {"Qdrant/clip-ViT-B-32-vision", "Qdrant/clip-ViT-B-32-text", "clip-ViT-B-32",
              "ViT-B-32"},
             512, 605),
        clip("openai/clip-vit-base-patch16", {"clip-ViT-B-16", "ViT-B-16"}, 512, 599),
        clip("openai/clip-vit-large-patch14", {"clip-ViT-L-14", "ViT-L-14"}, 768, 1710),
    };
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view short_name(std::string_view repo_id) {
    auto slash = repo_id.find('/');
    return slash == std::string_view::npos ? repo_id : repo_id.substr(slash + 1);
}

}  // namespace

const std::vector<KnownModel>& known_models() {
    static const std::vector<KnownModel> registry = build_registry();
    return registry;
}

const KnownModel* find_known_model(std::string_view name_or_alias) {
    // Exact repo ids and aliases first, then the short name ("bge-small-en-v1.5"), so an alias
    // can never shadow another model's repo id.
    for (const auto& model : known_models()) {
        if (equal_ignoring_case(model.repo_id, name_or_alias)) return &model;
    }
    for (const auto& model : known_models()) {
        for (const auto& alias : model.aliases) {
            if (equal_ignoring_case(alias, name_or_alias)) return &model;
        }
    }
    for (const auto& model : known_models()) {
        if (equal_ignoring_case(short_name(model.repo_id), name_or_alias)) return &model;
    }
    return nullptr;
}

}  // namespace tessera
