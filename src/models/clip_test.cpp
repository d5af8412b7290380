// CLIP against ../shared/data/golden/clip-tiny-random/expected (PyTorch float64 reference):
// text tower from token ids (padded rows: only the valid prefix is fed, the causal mask makes
// padding irrelevant), vision tower from the stored pixel tensors, projections, logit scale and
// logits. Tolerances are the golden README's: hidden states / features 1e-4, embeddings 1e-5,
// logits 1e-3. Also: every tower in a batch equals the tower alone, and bad input is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "kernels/ops.hpp"
#include "models/clip.hpp"
#include "models/registry.hpp"
#include "models/sequence_chunks.hpp"

namespace tessera::models {
namespace {

using Json = nlohmann::json;
const std::filesystem::path kDir = std::filesystem::path(TESSERA_SHARED_DIR) / "data/golden/clip-tiny-random";

Json load(const std::string& name) {
    std::ifstream file(kDir / "expected" / name);
    return Json::parse(file);
}

struct Fixture {
    std::unique_ptr<Model> model;
    ClipModel* clip = nullptr;
    core::ThreadPool pool{2};
    Fixture() {
        auto config = formats::read_model_config(kDir / "config.json");
        model = build_model(config, formats::WeightStore::open_model_dir(kDir), {});
        clip = dynamic_cast<ClipModel*>(model.get());
    }
};

Fixture& fixture() {
    static Fixture instance;
    return instance;
}

void expect_rows_near(const std::vector<float>& actual, std::size_t row, std::size_t dim, const Json& expected, double tolerance,
                      const std::string& what) {
    ASSERT_EQ(expected.size(), dim) << what;
    double worst = 0;
    for (std::size_t d = 0; d < dim; ++d) worst = std::max(worst, std::abs(actual[row * dim + d] - expected[d].get<double>()));
    EXPECT_LE(worst, tolerance) << what << " row " << row;
}

std::vector<float> normalized(std::vector<float> rows, std::size_t dim) {
    for (std::size_t offset = 0; offset < rows.size(); offset += dim) kernels::l2_normalize(rows.data() + offset, dim);
    return rows;
}

TEST(ClipGolden, RegisteredAndConfigured) {
    ClipModel* clip = fixture().clip;
    ASSERT_NE(clip, nullptr);
    EXPECT_TRUE(clip->has_text());
    EXPECT_TRUE(clip->has_vision());
    EXPECT_EQ(clip->output_dim(), 32u);
    EXPECT_EQ(clip->text_config().hidden_dim, 64u);
    EXPECT_EQ(clip->vision_config().token_count(), 50u);
    // The tensor (ln 100), not config.json's logit_scale_init_value (2.6592).
    EXPECT_NEAR(clip->logit_scale(), load("logits.json")["logit_scale_exp"].get<double>(), 1e-3);
}

TEST(ClipGolden, TextTowerFromTokenIds) {
    const Json inputs = load("text_inputs.json");
    const Json outputs = load("text_outputs.json");
    TokenBatch batch;
    for (std::size_t seq = 0; seq < inputs["lengths"].size(); ++seq) {
        const std::size_t length = inputs["lengths"][seq];
        std::vector<std::int32_t> ids;
        for (std::size_t pos = 0; pos < length; ++pos) ids.push_back(inputs["input_ids"][seq][pos]);
        batch.add(ids);
    }
    const ClipOutputs out = fixture().clip->run_text(batch, &fixture().pool);
    for (std::size_t seq = 0; seq < batch.sequences.size(); ++seq) {
        for (std::size_t pos = 0; pos < batch.sequences[seq].length; ++pos) {
            expect_rows_near(out.last_hidden, batch.sequences[seq].first_row + pos, 64,
                             outputs["last_hidden_state"][seq][pos], 1e-4, "last_hidden_state");
        }
        expect_rows_near(out.pooled, seq, 64, outputs["pooler_output"][seq], 1e-4, "pooler_output");
        expect_rows_near(out.features, seq, 32, outputs["text_features"][seq], 1e-4, "text_features");
    }
    const auto embeds = normalized(out.features, 32);
    for (std::size_t seq = 0; seq < 4; ++seq) expect_rows_near(embeds, seq, 32, outputs["text_embeds"][seq], 1e-5, "text_embeds");
}

TEST(ClipGolden, TextBatchEqualsSingle) {
    const Json inputs = load("text_inputs.json");
    TokenBatch batch;
    std::vector<std::vector<std::int32_t>> all;
    for (std::size_t seq = 0; seq < 4; ++seq) {
        std::vector<std::int32_t> ids;
        for (std::size_t pos = 0; pos < inputs["lengths"][seq].get<std::size_t>(); ++pos) ids.push_back(inputs["input_ids"][seq][pos]);
        batch.add(ids);
        all.push_back(ids);
    }
    const ClipOutputs together = fixture().clip->run_text(batch, &fixture().pool);
    for (std::size_t seq = 0; seq < 4; ++seq) {
        TokenBatch alone;
        alone.add(all[seq]);
        const ClipOutputs single = fixture().clip->run_text(alone, nullptr);
        for (std::size_t d = 0; d < 32; ++d) EXPECT_NEAR(single.features[d], together.features[seq * 32 + d], 1e-5);
    }
}

TEST(ClipGolden, VisionTowerFromPixelValues) {
    const auto store = formats::WeightStore::open_file(kDir / "expected/images.safetensors");
    const auto pixels = store->floats("pixel_values", {3, 3, 224, 224});
    const Json outputs = load("vision_outputs.json");
    const ClipOutputs out = fixture().clip->run_vision(pixels, 3, &fixture().pool);
    for (std::size_t image = 0; image < 3; ++image) {
        for (std::size_t token = 0; token < 50; ++token) {
            expect_rows_near(out.last_hidden, image * 50 + token, 64, outputs["last_hidden_state"][image][token], 1e-4,
                             "last_hidden_state");
        }
        expect_rows_near(out.pooled, image, 64, outputs["pooler_output"][image], 1e-4, "pooler_output");
        expect_rows_near(out.features, image, 32, outputs["image_features"][image], 1e-4, "image_features");
    }
    const auto embeds = normalized(out.features, 32);
    for (std::size_t image = 0; image < 3; ++image) {
        expect_rows_near(embeds, image, 32, outputs["image_embeds"][image], 1e-5, "image_embeds");
    }
    // Logits: logit_scale * image . text.
    const Json text_inputs = load("text_inputs.json");
    TokenBatch batch;
    for (std::size_t seq = 0; seq < 4; ++seq) {
        std::vector<std::int32_t> ids;
        for (std::size_t pos = 0; pos < text_inputs["lengths"][seq].get<std::size_t>(); ++pos) ids.push_back(text_inputs["input_ids"][seq][pos]);
        batch.add(ids);
    }
    const auto text = normalized(fixture().clip->run_text(batch, nullptr).features, 32);
    const Json logits = load("logits.json")["logits_per_image"];
    for (std::size_t image = 0; image < 3; ++image) {
        for (std::size_t seq = 0; seq < 4; ++seq) {
            double dot = 0;
            for (std::size_t d = 0; d < 32; ++d) dot += embeds[image * 32 + d] * text[seq * 32 + d];
            EXPECT_NEAR(fixture().clip->logit_scale() * dot, logits[image][seq].get<double>(), 1e-3);
        }
    }
}

// Twelve images (the three golden ones, four times over) are enough for the tower to run them in
// chunks of whole images, one per core (models/sequence_chunks.hpp): every copy still matches.
TEST(ClipGolden, VisionBatchInChunksMatchesGolden) {
    const auto store = formats::WeightStore::open_file(kDir / "expected/images.safetensors");
    const auto pixels = store->floats("pixel_values", {3, 3, 224, 224});
    std::vector<float> repeated;
    for (int copy = 0; copy < 4; ++copy) repeated.insert(repeated.end(), pixels.begin(), pixels.end());
    ASSERT_FALSE(plan_sequence_chunks(std::vector<std::size_t>(12, 50), fixture().pool.thread_count(), 0).empty())
        << "twelve images must take the chunked path";
    const Json outputs = load("vision_outputs.json");
    const ClipOutputs out = fixture().clip->run_vision(repeated, 12, &fixture().pool);
    for (std::size_t image = 0; image < 12; ++image) {
        for (std::size_t token = 0; token < 50; token += 7) {
            expect_rows_near(out.last_hidden, image * 50 + token, 64, outputs["last_hidden_state"][image % 3][token], 1e-4,
                             "last_hidden_state");
        }
        expect_rows_near(out.features, image, 32, outputs["image_features"][image % 3], 1e-4, "image_features");
    }
}

// ClipStates::pooled_token runs each tower's last layer on the pooled token only: the same
// features, pooled rows and pooled token states as a full pass, bit for bit, for 3 images (one
// pass over the pool) and 12 (chunks of whole images), and for the texts.
TEST(ClipGolden, PooledTokenStatesEqualAFullPass) {
    const auto store = formats::WeightStore::open_file(kDir / "expected/images.safetensors");
    const auto pixels = store->floats("pixel_values", {3, 3, 224, 224});
    std::vector<float> repeated;
    for (int copy = 0; copy < 4; ++copy) repeated.insert(repeated.end(), pixels.begin(), pixels.end());
    auto expect_same = [](const ClipOutputs& full, const ClipOutputs& picked, const std::vector<std::size_t>& rows) {
        EXPECT_EQ(picked.features, full.features);
        EXPECT_EQ(picked.pooled, full.pooled);
        ASSERT_EQ(picked.last_hidden.size(), rows.size() * 64);
        for (std::size_t idx = 0; idx < rows.size(); ++idx) {
            for (std::size_t d = 0; d < 64; ++d) ASSERT_EQ(picked.last_hidden[idx * 64 + d], full.last_hidden[rows[idx] * 64 + d]);
        }
    };
    for (const std::size_t count : {std::size_t{3}, std::size_t{12}}) {
        const std::span<const float> images(repeated.data(), count * 3 * 224 * 224);
        std::vector<std::size_t> class_rows;
        for (std::size_t image = 0; image < count; ++image) class_rows.push_back(image * 50);
        expect_same(fixture().clip->run_vision(images, count, &fixture().pool),
                    fixture().clip->run_vision(images, count, &fixture().pool, ClipStates::pooled_token), class_rows);
    }
    const Json inputs = load("text_inputs.json");
    TokenBatch batch;
    std::vector<std::size_t> eos_rows;
    for (std::size_t seq = 0; seq < 4; ++seq) {
        std::vector<std::int32_t> ids;
        for (std::size_t pos = 0; pos < inputs["lengths"][seq].get<std::size_t>(); ++pos) ids.push_back(inputs["input_ids"][seq][pos]);
        const auto& config = fixture().clip->text_config();
        const auto eos = config.pool_at_argmax() ? std::max_element(ids.begin(), ids.end())
                                                 : std::find(ids.begin(), ids.end(), config.eos_token_id);
        ASSERT_NE(eos, ids.end());
        eos_rows.push_back(batch.token_count() + static_cast<std::size_t>(eos - ids.begin()));
        batch.add(ids);
    }
    expect_same(fixture().clip->run_text(batch, &fixture().pool),
                fixture().clip->run_text(batch, &fixture().pool, ClipStates::pooled_token), eos_rows);
}

// A tower without layers is not a model (and would have no last layer to prune).
TEST(ClipGolden, RejectsATowerWithoutLayers) {
    for (const char* tower : {"text_config", "vision_config"}) {
        auto config = formats::read_model_config(kDir / "config.json");
        config.raw[tower]["num_hidden_layers"] = 0;
        try {
            (void)build_model(config, formats::WeightStore::open_model_dir(kDir), {});
            FAIL() << tower;
        } catch (const Error& err) {
            EXPECT_EQ(err.code(), ErrorCode::corrupt) << err.what();
            EXPECT_NE(std::string(err.what()).find("num_hidden_layers"), std::string::npos) << err.what();
        }
    }
}

TEST(ClipGolden, RejectsBadInput) {
    TokenBatch too_long;
    too_long.add(std::vector<std::int32_t>(78, 320));
    EXPECT_THROW((void)fixture().clip->run_text(too_long, nullptr), Error);
    TokenBatch bad_id;
    bad_id.add(std::vector<std::int32_t>{49406, 49408});
    try {
        (void)fixture().clip->run_text(bad_id, nullptr);
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::invalid_argument);
        EXPECT_NE(std::string(err.what()).find("49408"), std::string::npos);
    }
    std::vector<float> wrong(3 * 224 * 223);
    EXPECT_THROW((void)fixture().clip->run_vision(wrong, 1, nullptr), Error);
}

TEST(ClipGolden, SingleTowerModelTypes) {
    // The same weights read as clip_vision_model / clip_text_model (top-level tower config).
    auto raw = formats::read_model_config(kDir / "config.json");
    formats::ModelConfig vision_config{raw.path, "clip_vision_model", raw.raw["vision_config"]};
    vision_config.raw["projection_dim"] = 32;
    auto vision = build_model(vision_config, formats::WeightStore::open_model_dir(kDir), {});
    auto* vision_clip = dynamic_cast<ClipModel*>(vision.get());
    ASSERT_NE(vision_clip, nullptr);
    EXPECT_FALSE(vision_clip->has_text());
    EXPECT_TRUE(vision_clip->has_vision());
    TokenBatch batch;
    batch.add(std::vector<std::int32_t>{49406, 49407});
    EXPECT_THROW((void)vision_clip->run_text(batch, nullptr), Error);

    formats::ModelConfig text_config{raw.path, "clip_text_model", raw.raw["text_config"]};
    text_config.raw["projection_dim"] = 32;
    auto text = build_model(text_config, formats::WeightStore::open_model_dir(kDir), {});
    auto* text_clip = dynamic_cast<ClipModel*>(text.get());
    ASSERT_NE(text_clip, nullptr);
    EXPECT_TRUE(text_clip->has_text());
    EXPECT_FALSE(text_clip->has_vision());
    const auto alone = text_clip->run_text(batch, nullptr);
    const auto both = fixture().clip->run_text(batch, nullptr);
    for (std::size_t d = 0; d < 32; ++d) EXPECT_FLOAT_EQ(alone.features[d], both.features[d]);
}

}  // namespace
}  // namespace tessera::models
