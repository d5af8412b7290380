// TextEmbedder behaviour on generated models: batch equals single, pooling modes against the
// token states, Matryoshka, prompts, truncation, sentence-transformers defaults, and every kind
// of bad input the issue lists (each a clear tessera::Error, never a crash).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "models/sequence_chunks.hpp"
#include "model_writer.hpp"
#include "tessera/embedder.hpp"
#include "tessera/tokenizer.hpp"

namespace tessera {
namespace {

using ::testing::HasSubstr;

std::filesystem::path temp_root() { return std::filesystem::path(::testing::TempDir()) / "tessera_text_embedder"; }

std::filesystem::path make_model(const std::string& name, tools::ModelSpec spec) {
    const auto dir = temp_root() / name;
    if (!std::filesystem::exists(dir / "config.json")) tools::write_model(dir, spec);
    return dir;
}

tools::ModelSpec tiny(const std::string& arch) {
    auto spec = tools::spec_for_shape("tiny", arch);
    spec.max_seq_length = 64;
    return spec;
}

const std::vector<std::string>& mixed_texts() {
    static const std::vector<std::string> texts = {
        "",
        "short",
        "A somewhat longer sentence about cats, dogs and the weather in early spring.",
        "Ünïcödé àccents and 中文 characters mixed with emoji 🙂 and numbers 12345.",
        std::string(300, 'x') + " a very long word followed by many words " + std::string(40, 'y'),
        "two words",
    };
    return texts;
}

double max_abs_diff(std::span<const float> a, std::span<const float> b) {
    EXPECT_EQ(a.size(), b.size());
    double worst = 0;
    for (std::size_t idx = 0; idx < std::min(a.size(), b.size()); ++idx) worst = std::max(worst, std::fabs(double(a[idx]) - b[idx]));
    return worst;
}

double norm(std::span<const float> row) {
    double sum = 0;
    for (const float value : row) sum += double(value) * value;
    return std::sqrt(sum);
}

template <typename Fn>
void expect_error(Fn&& fn, ErrorCode code, std::vector<std::string> fragments) {
    try {
        fn();
        FAIL() << "no error";
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), code) << err.what();
        for (const auto& fragment : fragments) EXPECT_THAT(err.what(), HasSubstr(fragment));
    }
}

// 48 texts of 3..25 tokens: a batch that two threads run as chunks of whole sequences.
std::vector<std::string> chunked_texts() {
    std::vector<std::string> texts;
    for (std::size_t idx = 0; idx < 48; ++idx) {
        std::string text = "text " + std::to_string(idx);
        for (std::size_t word = 0; word < (idx * 7) % 23; ++word) text += " word" + std::to_string(word);
        texts.push_back(text);
    }
    return texts;
}

bool takes_chunked_path(TextEmbedder& embedder, const std::vector<std::string>& texts) {
    std::vector<std::size_t> lengths;
    for (const auto& input : embedder.tokenize(texts)) lengths.push_back(input.ids.size());
    std::sort(lengths.rbegin(), lengths.rend());
    return !models::plan_sequence_chunks(lengths, 2, 0).empty();
}

class BatchEqualsSingle : public ::testing::TestWithParam<std::string> {};

TEST_P(BatchEqualsSingle, MixedLengths) {
    const auto dir = make_model("batch_" + GetParam(), tiny(GetParam()));
    auto embedder = TextEmbedder::open(dir, {.thread_count = 2, .max_batch_tokens = 64});
    const Matrix together = embedder->embed(mixed_texts());
    ASSERT_EQ(together.rows(), mixed_texts().size());
    for (std::size_t idx = 0; idx < mixed_texts().size(); ++idx) {
        const std::vector<std::string> one = {mixed_texts()[idx]};
        const Matrix alone = embedder->embed(one);
        EXPECT_LT(max_abs_diff(together.row(idx), alone.row(0)), 2e-6) << GetParam() << " text " << idx;
        EXPECT_NEAR(norm(together.row(idx)), 1.0, 1e-5);
    }
    // And with a batch-size cap instead of the token budget.
    const Matrix capped = embedder->embed(mixed_texts(), {.batch_size = 2});
    for (std::size_t idx = 0; idx < mixed_texts().size(); ++idx) {
        EXPECT_LT(max_abs_diff(together.row(idx), capped.row(idx)), 2e-6);
    }
}

// A batch of many sequences runs as chunks of whole sequences, one per core, with single-threaded
// kernels (models/sequence_chunks.hpp); one text alone runs with every kernel split over the
// threads. Both give the same vectors, in input order.
TEST_P(BatchEqualsSingle, ChunkedBatchMatchesIntraOpSingles) {
    const auto dir = make_model("batch_" + GetParam(), tiny(GetParam()));
    auto embedder = TextEmbedder::open(dir, {.thread_count = 2});
    const std::vector<std::string> texts = chunked_texts();
    ASSERT_TRUE(takes_chunked_path(*embedder, texts)) << "the batch must take the chunked path";

    const Matrix together = embedder->embed(texts);
    ASSERT_EQ(together.rows(), texts.size());
    for (std::size_t idx = 0; idx < texts.size(); ++idx) {
        const Matrix alone = embedder->embed(std::span<const std::string>(&texts[idx], 1));
        EXPECT_LT(max_abs_diff(together.row(idx), alone.row(0)), 2e-6) << GetParam() << " text " << idx;
    }
}

INSTANTIATE_TEST_SUITE_P(Architectures, BatchEqualsSingle,
                         ::testing::Values("bert", "roberta", "xlm-roberta", "nomic_bert"),
                         [](const auto& info) {
                             std::string name = info.param;
                             for (auto& ch : name) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                             return name;
                         });

// Pooling in double from the token states, as sentence-transformers defines each mode.
std::vector<double> reference_pool(const Matrix& hidden, const std::string& mode, std::size_t skip = 0) {
    const std::size_t rows = hidden.rows(), cols = hidden.cols();
    std::vector<double> out(cols, 0.0);
    if (mode == "cls") {
        for (std::size_t d = 0; d < cols; ++d) out[d] = hidden.row(0)[d];
    } else if (mode == "last_token") {
        for (std::size_t d = 0; d < cols; ++d) out[d] = hidden.row(rows - 1)[d];
    } else if (mode == "max") {
        std::fill(out.begin(), out.end(), -1e300);
        for (std::size_t t = skip; t < rows; ++t)
            for (std::size_t d = 0; d < cols; ++d) out[d] = std::max(out[d], double(hidden.row(t)[d]));
    } else {
        double total = 0;
        for (std::size_t t = skip; t < rows; ++t) {
            const double weight = mode == "weighted_mean" ? double(t + 1) : 1.0;
            for (std::size_t d = 0; d < cols; ++d) out[d] += weight * hidden.row(t)[d];
            total += weight;
        }
        const double divisor = mode == "mean_sqrt_len" ? std::sqrt(total) : total;
        for (double& value : out) value /= divisor;
    }
    return out;
}

class PoolingModes : public ::testing::TestWithParam<std::string> {};

TEST_P(PoolingModes, MatchTokenStates) {
    auto spec = tiny("bert");
    spec.pooling = GetParam();
    const auto dir = make_model("pool_" + GetParam(), spec);
    auto embedder = TextEmbedder::open(dir, {.thread_count = 1});
    EXPECT_EQ(embedder->info().pooling, GetParam());
    const auto states = embedder->token_states(mixed_texts());
    const Matrix raw = embedder->embed(mixed_texts(), {.normalize = false});
    for (std::size_t idx = 0; idx < mixed_texts().size(); ++idx) {
        ASSERT_EQ(states[idx].hidden.rows(), states[idx].ids.size());
        const auto expected = reference_pool(states[idx].hidden, GetParam());
        double worst = 0;
        for (std::size_t d = 0; d < expected.size(); ++d) worst = std::max(worst, std::fabs(expected[d] - raw.row(idx)[d]));
        EXPECT_LT(worst, 1e-5) << GetParam() << " text " << idx;
    }
}

// CLS and last-token pooling run the last layer on the pooled rows only (models::TextEncoder::
// encode's output_positions), here through the chunked path of a 48-text batch on two threads
// and the intra-op path of one text: the same vectors as pooling the full token states.
TEST_P(PoolingModes, ChunkedAndSingleMatchTokenStates) {
    auto spec = tiny("bert");
    spec.pooling = GetParam();
    const auto dir = make_model("pool_" + GetParam(), spec);
    auto embedder = TextEmbedder::open(dir, {.thread_count = 2});
    const std::vector<std::string> texts = chunked_texts();
    ASSERT_TRUE(takes_chunked_path(*embedder, texts));
    const auto states = embedder->token_states(texts);
    const Matrix raw = embedder->embed(texts, {.normalize = false});
    for (std::size_t idx = 0; idx < texts.size(); ++idx) {
        const Matrix alone = embedder->embed(std::span<const std::string>(&texts[idx], 1), {.normalize = false});
        const auto expected = reference_pool(states[idx].hidden, GetParam());
        double worst = 0;
        for (std::size_t d = 0; d < expected.size(); ++d) {
            worst = std::max({worst, std::fabs(expected[d] - raw.row(idx)[d]), std::fabs(expected[d] - alone.row(0)[d])});
        }
        EXPECT_LT(worst, 1e-5) << GetParam() << " text " << idx;
    }
}

INSTANTIATE_TEST_SUITE_P(Modes, PoolingModes,
                         ::testing::Values("cls", "mean", "max", "last_token", "mean_sqrt_len", "weighted_mean"));

class EmbedderTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto spec = tiny("bert");
        spec.prompts = {{"query", "query: "}, {"passage", "passage: "}, {"clustering", "cluster: "}};
        prompt_dir_ = make_model("prompts", spec);
        embedder_ = TextEmbedder::open(prompt_dir_, {.thread_count = 2});
    }
    static void TearDownTestSuite() { embedder_.reset(); }
    static inline std::filesystem::path prompt_dir_;
    static inline std::unique_ptr<TextEmbedder> embedder_;
};

TEST_F(EmbedderTest, InfoReportsTheModel) {
    const ModelInfo& info = embedder_->info();
    EXPECT_EQ(info.model_type, "bert");
    EXPECT_EQ(info.architecture, "BERT encoder");
    EXPECT_EQ(info.hidden_dim, 32u);
    EXPECT_EQ(info.output_dim, 32u);
    EXPECT_EQ(info.layer_count, 2u);
    EXPECT_EQ(info.head_count, 2u);
    EXPECT_EQ(info.max_seq_length, 64u);
    EXPECT_EQ(info.pooling, "mean");
    EXPECT_TRUE(info.normalize);
    EXPECT_EQ(info.query_prompt_name, "query");
    EXPECT_EQ(info.passage_prompt_name, "passage");
    EXPECT_EQ(info.precision, "fp32");
    EXPECT_GT(info.weight_bytes, 30522u * 32u * 4u);
    EXPECT_TRUE(info.defaults_used.empty());
}

TEST_F(EmbedderTest, PromptsFromConfigAndCaller) {
    const std::vector<std::string> text = {"what is a tessera?"};
    const std::vector<std::string> query_text = {"query: what is a tessera?"};
    const std::vector<std::string> passage_text = {"passage: what is a tessera?"};
    const Matrix as_query = embedder_->embed(text, {.kind = InputKind::query});
    EXPECT_LT(max_abs_diff(as_query.row(0), embedder_->embed(query_text).row(0)), 1e-7);
    const Matrix as_passage = embedder_->embed(text, {.kind = InputKind::passage});
    EXPECT_LT(max_abs_diff(as_passage.row(0), embedder_->embed(passage_text).row(0)), 1e-7);
    EXPECT_GT(max_abs_diff(as_query.row(0), as_passage.row(0)), 1e-3);
    const Matrix custom = embedder_->embed(text, {.kind = InputKind::query, .prefix = std::string("passage: ")});
    EXPECT_LT(max_abs_diff(custom.row(0), as_passage.row(0)), 1e-7);
    const Matrix named = embedder_->embed(text, {.prompt_name = std::string("clustering")});
    const std::vector<std::string> cluster_text = {"cluster: what is a tessera?"};
    EXPECT_LT(max_abs_diff(named.row(0), embedder_->embed(cluster_text).row(0)), 1e-7);
    expect_error([&] { (void)embedder_->embed(text, {.prompt_name = std::string("nope")}); }, ErrorCode::invalid_argument,
                 {"prompt_name", "'nope'", "clustering"});
    const auto tokenized = embedder_->tokenize(text, {.kind = InputKind::query});
    EXPECT_EQ(tokenized[0].ids, embedder_->tokenizer().encode("query: what is a tessera?").ids);
}

TEST_F(EmbedderTest, DocumentPromptCountsAsPassageAndDefaultPromptApplies) {
    auto spec = tiny("bert");
    spec.prompts = {{"query", "search_query: "}, {"document", "search_document: "}};
    spec.default_prompt_name = "document";
    auto embedder = TextEmbedder::open(make_model("document_prompt", spec), {.thread_count = 1});
    EXPECT_EQ(embedder->info().passage_prompt_name, "document");
    const std::vector<std::string> text = {"hello"};
    const std::vector<std::string> prefixed = {"search_document: hello"};
    const Matrix passage = embedder->embed(text, {.kind = InputKind::passage});
    const Matrix plain = embedder->embed(text);  // default_prompt_name
    const Matrix explicit_text = embedder->embed(prefixed, {.prefix = std::string()});
    EXPECT_LT(max_abs_diff(passage.row(0), explicit_text.row(0)), 1e-7);
    EXPECT_LT(max_abs_diff(plain.row(0), explicit_text.row(0)), 1e-7);
}

TEST_F(EmbedderTest, MatryoshkaTruncatesThenRenormalises) {
    const Matrix raw = embedder_->embed(mixed_texts(), {.normalize = false});
    const Matrix cut = embedder_->embed(mixed_texts(), {.dimensions = 8});
    ASSERT_EQ(cut.cols(), 8u);
    for (std::size_t idx = 0; idx < mixed_texts().size(); ++idx) {
        const double head_norm = norm(raw.row(idx).subspan(0, 8));
        for (std::size_t d = 0; d < 8; ++d) EXPECT_NEAR(cut.row(idx)[d], raw.row(idx)[d] / head_norm, 1e-6);
        EXPECT_NEAR(norm(cut.row(idx)), 1.0, 1e-6);
    }
    const Matrix unnormalized = embedder_->embed(mixed_texts(), {.normalize = false, .dimensions = 8});
    EXPECT_LT(max_abs_diff(unnormalized.row(2), raw.row(2).subspan(0, 8)), 1e-7);
    expect_error([&] { (void)embedder_->embed(mixed_texts(), {.dimensions = 33}); }, ErrorCode::invalid_argument,
                 {"dimensions", "33"});
}

TEST_F(EmbedderTest, TruncatesToMaxSeqLength) {
    std::string long_text;
    for (int word = 0; word < 200; ++word) long_text += "word" + std::to_string(word % 10) + " ";
    const std::vector<std::string> texts = {long_text};
    const auto right = embedder_->tokenize(texts);
    ASSERT_EQ(right[0].ids.size(), 64u);
    EXPECT_EQ(right[0].ids.front(), 101);
    EXPECT_EQ(right[0].ids.back(), 102);
    const auto left = embedder_->tokenize(texts, {.truncation_side = TruncationSide::left});
    ASSERT_EQ(left[0].ids.size(), 64u);
    EXPECT_EQ(left[0].ids.front(), 101);
    EXPECT_NE(left[0].ids, right[0].ids);
    EXPECT_EQ(embedder_->embed(texts).rows(), 1u);
    expect_error([&] { (void)embedder_->embed(texts, {.truncate = false}); }, ErrorCode::invalid_argument,
                 {"text 0", "max_seq_length 64", "truncation is off"});
}

// Speed of the 1 MB case is measured in bench/tokenizers (linear time), not asserted here.
TEST_F(EmbedderTest, OneMegabyteTextIsTruncated) {
    std::string huge;
    while (huge.size() < (1u << 20)) huge += "tessera embeds text locally, quickly and offline. ";
    const std::vector<std::string> texts = {huge, "short"};
    const Matrix vectors = embedder_->embed(texts);
    EXPECT_EQ(vectors.rows(), 2u);
    EXPECT_NEAR(norm(vectors.row(0)), 1.0, 1e-5);
    EXPECT_EQ(embedder_->tokenize(texts)[0].ids.size(), 64u);
}

TEST_F(EmbedderTest, RejectsInvalidUtf8NamingTheText) {
    const std::vector<std::string> texts = {"fine", std::string("bad \xC3\x28 byte")};
    expect_error([&] { (void)embedder_->embed(texts); }, ErrorCode::invalid_argument, {"text 1", "invalid UTF-8", "byte 4"});
}

TEST_F(EmbedderTest, EmptyInputs) {
    const Matrix none = embedder_->embed(std::vector<std::string>{});
    EXPECT_EQ(none.rows(), 0u);
    // The empty string is a valid text: [CLS] [SEP].
    const std::vector<std::string> empty_text = {""};
    EXPECT_EQ(embedder_->tokenize(empty_text)[0].ids, (std::vector<std::int32_t>{101, 102}));
    EXPECT_EQ(embedder_->embed(empty_text).rows(), 1u);
    const std::vector<TokenizedText> no_ids = {TokenizedText{}};
    expect_error([&] { (void)embedder_->embed_tokenized(no_ids); }, ErrorCode::invalid_argument, {"input 0", "no token ids"});
}

TEST_F(EmbedderTest, EmbedTokenizedValidatesIds) {
    const std::vector<TokenizedText> bad_id = {{.ids = {101, 2000, 102}}, {.ids = {101, 99999, 102}}};
    expect_error([&] { (void)embedder_->embed_tokenized(bad_id); }, ErrorCode::invalid_argument,
                 {"input 1", "token id 99999", "position 1"});
    const std::vector<TokenizedText> too_long = {{.ids = std::vector<std::int32_t>(65, 1000)}};
    expect_error([&] { (void)embedder_->embed_tokenized(too_long); }, ErrorCode::invalid_argument,
                 {"input 0", "65 tokens", "max_seq_length 64"});
    const std::vector<TokenizedText> bad_types = {{.ids = {101, 102}, .type_ids = {0}}};
    expect_error([&] { (void)embedder_->embed_tokenized(bad_types); }, ErrorCode::invalid_argument, {"type ids"});
    // Pairs with segment ids run (BERT has two token types).
    const std::vector<TokenizedText> pair = {{.ids = {101, 2000, 102, 3000, 102}, .type_ids = {0, 0, 0, 1, 1}}};
    EXPECT_EQ(embedder_->embed_tokenized(pair).rows(), 1u);
}

TEST_F(EmbedderTest, TokenStatesMatchTheEncoder) {
    const auto states = embedder_->token_states(mixed_texts());
    ASSERT_EQ(states.size(), mixed_texts().size());
    const auto tokenized = embedder_->tokenize(mixed_texts());
    for (std::size_t idx = 0; idx < states.size(); ++idx) {
        EXPECT_EQ(states[idx].ids, tokenized[idx].ids);
        EXPECT_EQ(states[idx].hidden.cols(), 32u);
    }
    // Mean of the token states, normalised, is the embedding.
    const Matrix vectors = embedder_->embed(mixed_texts());
    const auto pooled = reference_pool(states[2].hidden, "mean");
    double sum = 0;
    for (double value : pooled) sum += value * value;
    for (std::size_t d = 0; d < 32; ++d) EXPECT_NEAR(vectors.row(2)[d], pooled[d] / std::sqrt(sum), 1e-5);
}

TEST_F(EmbedderTest, MaxSeqLengthOptionLowersTheLimit) {
    auto embedder = TextEmbedder::open(prompt_dir_, {.thread_count = 1, .max_seq_length = 16});
    EXPECT_EQ(embedder->info().max_seq_length, 16u);
    const std::vector<std::string> texts = {std::string(500, 'a') + " b c d e f g h i j k l m n o p q r s t"};
    EXPECT_EQ(embedder->tokenize(texts)[0].ids.size(), 16u);
    auto raised = TextEmbedder::open(prompt_dir_, {.thread_count = 1, .max_seq_length = 100000});
    EXPECT_EQ(raised->info().max_seq_length, 64u);  // never above the model's own limit
}

TEST(EmbedderDefaults, NoSentenceTransformersFiles) {
    auto spec = tiny("bert");
    spec.sentence_transformers_files = false;
    auto embedder = TextEmbedder::open(make_model("no_st", spec), {.thread_count = 1});
    const ModelInfo& info = embedder->info();
    EXPECT_EQ(info.pooling, "mean");
    EXPECT_TRUE(info.normalize);
    EXPECT_EQ(info.max_seq_length, 512u);  // tokenizer_config.json model_max_length 512
    EXPECT_GE(info.defaults_used.size(), 3u);
    const Matrix vectors = embedder->embed(mixed_texts());
    EXPECT_NEAR(norm(vectors.row(1)), 1.0, 1e-5);
}

TEST(EmbedderDefaults, ExcludePromptSkipsPromptTokensInPooling) {
    auto spec = tiny("bert");
    spec.prompts = {{"query", "query: "}};
    spec.include_prompt = false;
    auto embedder = TextEmbedder::open(make_model("exclude_prompt", spec), {.thread_count = 1});
    const std::vector<std::string> text = {"hello world"};
    const auto tokenized = embedder->tokenize(text, {.kind = InputKind::query});
    // "query: " -> [CLS] query : (the trailing [SEP] is not counted), as sentence-transformers.
    EXPECT_EQ(tokenized[0].prompt_token_count, 3u);
    const auto states = embedder->token_states(text, {.kind = InputKind::query});
    const Matrix raw = embedder->embed(text, {.kind = InputKind::query, .normalize = false});
    const auto expected = reference_pool(states[0].hidden, "mean", 3);
    for (std::size_t d = 0; d < expected.size(); ++d) EXPECT_NEAR(raw.row(0)[d], expected[d], 1e-5);
}

TEST(EmbedderDefaults, NonNormalizingModelStillNormalisesOnRequest) {
    auto spec = tiny("bert");
    spec.normalize = false;
    auto embedder = TextEmbedder::open(make_model("no_normalize", spec), {.thread_count = 1});
    EXPECT_FALSE(embedder->info().normalize);
    EXPECT_NEAR(norm(embedder->embed(mixed_texts()).row(2)), 1.0, 1e-5);
    EXPECT_GT(std::fabs(norm(embedder->embed(mixed_texts(), {.normalize = false}).row(2)) - 1.0), 1e-3);
}

TEST(EmbedderDefaults, ReducedPrecisionStaysClose) {
    const auto dir = make_model("precision", tiny("bert"));
    auto fp32 = TextEmbedder::open(dir, {.thread_count = 1});
    for (const Precision precision : {Precision::bf16, Precision::int8}) {
        auto reduced = TextEmbedder::open(dir, {.thread_count = 1, .precision = precision});
        const Matrix a = fp32->embed(mixed_texts());
        const Matrix b = reduced->embed(mixed_texts());
        for (std::size_t idx = 0; idx < mixed_texts().size(); ++idx) {
            double dot = 0;
            for (std::size_t d = 0; d < a.cols(); ++d) dot += double(a.row(idx)[d]) * b.row(idx)[d];
            EXPECT_GT(dot, 0.99) << "precision " << static_cast<int>(precision) << " text " << idx;
        }
    }
}

class BadModelDirs : public ::testing::Test {
protected:
    std::filesystem::path fresh(const std::string& name, const tools::ModelSpec& spec = tiny("bert")) {
        const auto dir = temp_root() / ("bad_" + name);
        std::filesystem::remove_all(dir);
        tools::write_model(dir, spec);
        return dir;
    }
    static void replace(const std::filesystem::path& path, const std::string& from, const std::string& to) {
        std::ifstream in(path);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto pos = text.find(from);
        ASSERT_NE(pos, std::string::npos) << from;
        text.replace(pos, from.size(), to);
        std::ofstream(path, std::ios::trunc) << text;
    }
};

TEST_F(BadModelDirs, UnknownModelType) {
    const auto dir = fresh("unknown_type");
    replace(dir / "config.json", "\"model_type\": \"bert\"", "\"model_type\": \"gpt9\"");
    expect_error([&] { (void)TextEmbedder::open(dir); }, ErrorCode::unsupported,
                 {"config.json", "model_type: unknown 'gpt9'", "nomic_bert"});
}

TEST_F(BadModelDirs, MalformedConfigJson) {
    const auto dir = fresh("malformed_config");
    replace(dir / "config.json", "\"hidden_size\": 32,", "\"hidden_size\": 32,,");
    expect_error([&] { (void)TextEmbedder::open(dir); }, ErrorCode::corrupt, {"config.json", "malformed JSON", "loading model"});
    const auto wrong = fresh("wrong_field");
    replace(wrong / "config.json", "\"hidden_size\": 32", "\"hidden_size\": \"big\"");
    expect_error([&] { (void)TextEmbedder::open(wrong); }, ErrorCode::corrupt, {"config.json", "hidden_size", "'big'"});
}

TEST_F(BadModelDirs, ShapeMismatchBetweenConfigAndWeights) {
    const auto dir = fresh("shape_mismatch");
    replace(dir / "config.json", "\"intermediate_size\": 64", "\"intermediate_size\": 96");
    expect_error([&] { (void)TextEmbedder::open(dir); }, ErrorCode::corrupt,
                 {"model.safetensors", "encoder.layer.0.intermediate.dense.weight", "[64, 32]", "expected [96, 32]"});
}

TEST_F(BadModelDirs, MissingTensor) {
    auto spec = tiny("bert");
    spec.shard_count = 2;
    const auto dir = fresh("missing_tensor", spec);
    replace(dir / "model.safetensors.index.json", "\"encoder.layer.1.output.dense.weight\"", "\"renamed.weight\"");
    expect_error([&] { (void)TextEmbedder::open(dir); }, ErrorCode::corrupt, {"renamed.weight", "not found in shard"});
    // A tensor absent from every file.
    const auto single = fresh("missing_tensor_single");
    replace(single / "config.json", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
    expect_error([&] { (void)TextEmbedder::open(single); }, ErrorCode::not_found,
                 {"missing tensor 'encoder.layer.2.attention.self.query.weight'"});
}

TEST_F(BadModelDirs, TruncatedWeights) {
    const auto dir = fresh("truncated");
    std::filesystem::resize_file(dir / "model.safetensors", std::filesystem::file_size(dir / "model.safetensors") / 2);
    expect_error([&] { (void)TextEmbedder::open(dir); }, ErrorCode::corrupt, {"model.safetensors", "past the end"});
}

TEST_F(BadModelDirs, MissingFiles) {
    expect_error([&] { (void)TextEmbedder::open(temp_root() / "does-not-exist"); }, ErrorCode::not_found,
                 {"does-not-exist"});
    const auto dir = fresh("no_tokenizer");
    std::filesystem::remove(dir / "tokenizer.json");
    expect_error([&] { (void)TextEmbedder::open(dir); }, ErrorCode::not_found, {"tokenizer.json"});
    const auto no_weights = fresh("no_weights");
    std::filesystem::remove(no_weights / "model.safetensors");
    expect_error([&] { (void)TextEmbedder::open(no_weights); }, ErrorCode::not_found, {"model.safetensors"});
}

TEST_F(BadModelDirs, BadPoolingConfig) {
    const auto dir = fresh("bad_pooling");
    replace(dir / "1_Pooling/config.json", "\"pooling_mode_mean_tokens\": true", "\"pooling_mode_mean_tokens\": false");
    expect_error([&] { (void)TextEmbedder::open(dir); }, ErrorCode::corrupt, {"1_Pooling/config.json", "no pooling mode"});
}

}  // namespace
}  // namespace tessera
