#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "tessera/hub.hpp"

namespace tessera {
namespace {

TEST(Registry, HoldsEveryModelTheIssueNames) {
    for (const char* repo_id :
         {"sentence-transformers/all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L12-v2",
          "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", "BAAI/bge-small-en-v1.5",
          "BAAI/bge-base-en-v1.5", "BAAI/bge-large-en-v1.5", "BAAI/bge-m3", "intfloat/e5-small-v2",
          "intfloat/e5-base-v2", "intfloat/e5-large-v2", "intfloat/multilingual-e5-small",
          "intfloat/multilingual-e5-base", "intfloat/multilingual-e5-large", "thenlper/gte-small",
          "thenlper/gte-base", "mixedbread-ai/mxbai-embed-large-v1", "Snowflake/snowflake-arctic-embed-s",
          "Snowflake/snowflake-arctic-embed-m", "nomic-ai/nomic-embed-text-v1.5",
          "openai/clip-vit-base-patch32", "openai/clip-vit-base-patch16", "openai/clip-vit-large-patch14"}) {
        const KnownModel* model = find_known_model(repo_id);
        ASSERT_NE(model, nullptr) << repo_id;
        EXPECT_EQ(model->repo_id, repo_id);
    }
}

TEST(Registry, EveryEntryIsFilledIn) {
    for (const auto& model : known_models()) {
        EXPECT_GT(model.dimensions, 0u) << model.repo_id;
        EXPECT_GT(model.max_tokens, 0u) << model.repo_id;
        EXPECT_GT(model.size_mb, 0.0) << model.repo_id;
        EXPECT_FALSE(model.license.empty()) << model.repo_id;
        EXPECT_FALSE(model.pooling.empty()) << model.repo_id;
        EXPECT_FALSE(model.architecture.empty()) << model.repo_id;
        EXPECT_TRUE(model.modality == "text" || model.modality == "image+text") << model.repo_id;
    }
}

TEST(Registry, FastEmbedAndOllamaAliases) {
    struct Case {
        const char* alias;
        const char* repo_id;
    };
    for (const Case& c : {Case{"all-minilm", "sentence-transformers/all-MiniLM-L6-v2"},
                          Case{"all-minilm:l12-v2", "sentence-transformers/all-MiniLM-L12-v2"},
                          Case{"bge-m3", "BAAI/bge-m3"},
                          Case{"nomic-embed-text", "nomic-ai/nomic-embed-text-v1.5"},
                          Case{"nomic-embed-text:latest", "nomic-ai/nomic-embed-text-v1.5"},
                          Case{"mxbai-embed-large", "mixedbread-ai/mxbai-embed-large-v1"},
                          Case{"Qdrant/clip-ViT-B-32-vision", "openai/clip-vit-base-patch32"},
                          Case{"qdrant/CLIP-vit-b-32-TEXT", "openai/clip-vit-base-patch32"},
                          Case{"bge-small-en-v1.5", "BAAI/bge-small-en-v1.5"},
                          Case{"snowflake-arctic-embed:s", "Snowflake/snowflake-arctic-embed-s"}}) {
        const KnownModel* model = find_known_model(c.alias);
        ASSERT_NE(model, nullptr) << c.alias;
        EXPECT_EQ(model->repo_id, c.repo_id) << c.alias;
    }
    EXPECT_EQ(find_known_model("gpt-9"), nullptr);
}

TEST(Registry, NoNameMeansTwoModels) {
    std::set<std::string> seen;
    for (const auto& model : known_models()) {
        std::string lower_id;
        for (char c : model.repo_id) lower_id.push_back(static_cast<char>(std::tolower(c)));
        EXPECT_TRUE(seen.insert(lower_id).second) << model.repo_id;
        for (const auto& alias : model.aliases) {
            std::string lower;
            for (char c : alias) lower.push_back(static_cast<char>(std::tolower(c)));
            EXPECT_TRUE(seen.insert(lower).second) << alias;
            EXPECT_EQ(find_known_model(alias), &model) << alias;
        }
    }
}

TEST(Registry, FactsFromTheModelCards) {
    const KnownModel* e5 = find_known_model("intfloat/e5-base-v2");
    ASSERT_NE(e5, nullptr);
    EXPECT_EQ(e5->query_prefix, "query: ");
    EXPECT_EQ(e5->passage_prefix, "passage: ");
    EXPECT_EQ(e5->dimensions, 768u);
    const KnownModel* bge = find_known_model(default_text_model());
    ASSERT_NE(bge, nullptr);
    EXPECT_EQ(bge->pooling, "cls");
    EXPECT_EQ(bge->dimensions, 384u);
    EXPECT_EQ(bge->query_prefix, "Represent this sentence for searching relevant passages: ");
    const KnownModel* clip = find_known_model(default_image_model());
    ASSERT_NE(clip, nullptr);
    EXPECT_EQ(clip->modality, "image+text");
    EXPECT_EQ(clip->dimensions, 512u);
    EXPECT_EQ(find_known_model("bge-m3")->max_tokens, 8192u);
    EXPECT_EQ(find_known_model("nomic-embed-text")->architecture, "nomic_bert");
}

}  // namespace
}  // namespace tessera
