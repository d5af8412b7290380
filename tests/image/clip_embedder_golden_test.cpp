// tessera::ImageEmbedder end to end on the golden CLIP model: texts -> CLIP BPE -> text tower
// and image files -> decode -> CLIPImageProcessor -> vision tower, compared with the PyTorch
// float64 reference (normalised embeddings, atol 1e-5 as the golden README suggests). Also: a
// batch with broken items still embeds the good ones, in place, identically to alone.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tessera/embedder.hpp"
#include "tessera/tokenizer.hpp"

namespace tessera {
namespace {

using Json = nlohmann::json;
const std::filesystem::path kModel = std::filesystem::path(TESSERA_SHARED_DIR) / "data/golden/clip-tiny-random";

std::vector<Json> read_jsonl(const std::filesystem::path& path) {
    std::vector<Json> rows;
    std::ifstream file(path);
    std::string line;
    while (std::getline(file, line)) {
        if (!line.empty()) rows.push_back(Json::parse(line));
    }
    return rows;
}

ImageEmbedder& embedder() {
    static std::unique_ptr<ImageEmbedder> instance = ImageEmbedder::open(kModel, {.thread_count = 2});
    return *instance;
}

TEST(ClipEmbedderGolden, TextsMatchReference) {
    const auto rows = read_jsonl(kModel / "expected/texts.jsonl");
    ASSERT_EQ(rows.size(), 19u);
    std::vector<std::string> texts;
    for (const auto& row : rows) texts.push_back(row["text"]);
    // Ids first, so a mismatch is located in the tokenizer rather than the model.
    for (std::size_t idx = 0; idx < rows.size(); ++idx) {
        Tokenizer tokenizer = embedder().tokenizer();
        EXPECT_EQ(tokenizer.encode(texts[idx]).ids, rows[idx]["input_ids"].get<std::vector<std::int32_t>>()) << texts[idx];
    }
    const Matrix vectors = embedder().embed_texts(texts);
    ASSERT_EQ(vectors.cols(), 32u);
    for (std::size_t idx = 0; idx < rows.size(); ++idx) {
        for (std::size_t d = 0; d < 32; ++d) {
            EXPECT_NEAR(vectors.row(idx)[d], rows[idx]["text_embeds"][d].get<double>(), 1e-5) << texts[idx] << " dim " << d;
        }
    }
}

TEST(ClipEmbedderGolden, ImageFilesMatchReference) {
    const auto rows = read_jsonl(kModel / "expected/images.jsonl");
    ASSERT_EQ(rows.size(), 16u);
    std::vector<ImageSource> sources;
    for (const auto& row : rows) sources.push_back(ImageSource::from_path((kModel / row["image"].get<std::string>()).string()));
    const ImageBatchResult result = embedder().embed_images(sources);
    for (std::size_t idx = 0; idx < rows.size(); ++idx) {
        ASSERT_FALSE(result.errors[idx].has_value()) << result.errors[idx]->what();
        for (std::size_t d = 0; d < 32; ++d) {
            EXPECT_NEAR(result.embeddings.row(idx)[d], rows[idx]["image_embeds"][d].get<double>(), 1e-5)
                << rows[idx]["image"] << " dim " << d;
        }
    }
}

TEST(ClipEmbedderGolden, FailingItemsDoNotFailTheBatch) {
    const auto rows = read_jsonl(kModel / "expected/images.jsonl");
    const std::string good = (kModel / rows[0]["image"].get<std::string>()).string();
    std::vector<ImageSource> sources = {
        ImageSource::from_path("/nonexistent/cat.jpg"),
        ImageSource::from_path(good),
        ImageSource::from_bytes({}),
        ImageSource::from_bytes({'h', 'e', 'l', 'l', 'o'}),
        ImageSource::from_url("http://127.0.0.1:1/unreachable.jpg"),
    };
    const ImageBatchResult result = embedder().embed_images(sources);
    ASSERT_EQ(result.errors.size(), 5u);
    EXPECT_EQ(result.errors[0]->code(), ErrorCode::not_found);
    EXPECT_NE(std::string(result.errors[0]->what()).find("image 0"), std::string::npos) << result.errors[0]->what();
    EXPECT_FALSE(result.errors[1].has_value());
    EXPECT_EQ(result.errors[2]->code(), ErrorCode::invalid_argument);
    EXPECT_EQ(result.errors[3]->code(), ErrorCode::invalid_argument);
    EXPECT_EQ(result.errors[4]->code(), ErrorCode::unavailable);
    for (std::size_t d = 0; d < 32; ++d) {
        EXPECT_NEAR(result.embeddings.row(1)[d], rows[0]["image_embeds"][d].get<double>(), 1e-5);
        EXPECT_EQ(result.embeddings.row(0)[d], 0.0F);
    }
}

TEST(ClipEmbedderGolden, InfoAndLogitScale) {
    const ModelInfo& info = embedder().info();
    EXPECT_EQ(info.model_type, "clip");
    EXPECT_EQ(info.output_dim, 32u);
    EXPECT_EQ(info.max_seq_length, 77u);
    EXPECT_NEAR(embedder().logit_scale(), 100.0F, 1e-3);
}

TEST(ClipEmbedderGolden, RefusesTextOnlyModels) {
    const auto bert = std::filesystem::path(TESSERA_SHARED_DIR) / "data/golden/bert-tiny-random";
    try {
        (void)ImageEmbedder::open(bert);
        FAIL() << "a BERT model opened as an image model";
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::unsupported);
        EXPECT_NE(std::string(err.what()).find("bert"), std::string::npos) << err.what();
    }
}

}  // namespace
}  // namespace tessera
