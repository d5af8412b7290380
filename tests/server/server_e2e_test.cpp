// `tessera serve` end to end: the official npm clients (openai, ollama, @qdrant/js-client-rest)
// and raw HTTP against the real binary on loopback, with vectors compared to the library's
// (TextEmbedder / ImageEmbedder) output for the same inputs.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <iterator>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "server_process.hpp"
#include "tessera/embedder.hpp"
#include "tessera/tokenizer.hpp"

namespace tessera::server_test {
namespace {

namespace fs = std::filesystem;
constexpr double kTolerance = 1e-5;

const fs::path kClipModel = fs::path(TESSERA_SHARED_DIR) / "data/golden/clip-tiny-random";

std::vector<std::string> sample_texts() {
    return {"what is a tessera?",
            "A tessera is a small tile used in a mosaic.",
            "Embeddings turn text into vectors; similar texts get nearby vectors.",
            "naïve café — ünïcödé and emoji 🙂",
            "short",
            std::string(40, 'x') + " a long run of the same letters followed by more words to tokenize",
            "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog again."};
}

class ServerE2E : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new ServerProcess({"--model", "test=" + generated_model().string(), "--model",
                                     "clip=" + kClipModel.string(),
                                     "--max-concurrent-requests", "2000", "--http-threads", "256",
                                     "--max-batch-tokens", "4096"});
        embedder_ = TextEmbedder::open(generated_model()).release();
    }
    static void TearDownTestSuite() {
        EXPECT_EQ(server_->terminate(), 0) << server_->stderr_text().substr(0, 2000);
        delete server_;
        delete embedder_;
    }

    static Matrix reference(const std::vector<std::string>& texts, const EmbedOptions& options = {}) {
        return embedder_->embed(texts, options);
    }
    static void expect_same_vectors(const nlohmann::json& got, const Matrix& expected, const std::string& what) {
        ASSERT_TRUE(got.is_array()) << what;
        ASSERT_EQ(got.size(), expected.rows()) << what;
        for (std::size_t row = 0; row < expected.rows(); ++row) {
            EXPECT_LT(max_abs_diff(to_floats(got[row]), expected.row(row)), kTolerance) << what << " row " << row;
        }
    }
    static nlohmann::json post(const std::string& path, const nlohmann::json& body, int expected_status = 200) {
        auto client = server_->client();
        auto res = client.Post(path, body.dump(), "application/json");
        EXPECT_TRUE(res) << path << ": no response";
        if (!res) return nullptr;
        EXPECT_EQ(res->status, expected_status) << path << ": " << res->body.substr(0, 500);
        return nlohmann::json::parse(res->body);
    }

    static ServerProcess* server_;
    static TextEmbedder* embedder_;
};
ServerProcess* ServerE2E::server_ = nullptr;
TextEmbedder* ServerE2E::embedder_ = nullptr;

TEST_F(ServerE2E, OpenAiSdkDefaultBase64MatchesLibrary) {
    const auto texts = sample_texts();
    const auto out = run_node("openai_embed.mjs", {server_->url() + "/v1", "test", "default", write_json("openai.json", texts)});
    ASSERT_FALSE(out.is_null());
    expect_same_vectors(out["vectors"], reference(texts), "openai base64");
    EXPECT_EQ(out["model"], "test");
    std::size_t token_count = 0;
    for (const auto& tokenized : embedder_->tokenize(texts)) token_count += tokenized.ids.size();
    EXPECT_EQ(out["usage"]["prompt_tokens"], token_count);
    EXPECT_EQ(out["indexes"], nlohmann::json({0, 1, 2, 3, 4, 5, 6}));
}

TEST_F(ServerE2E, OpenAiSdkFloatMatchesLibrary) {
    const std::vector<std::string> texts = {"one text only"};
    const auto out = run_node("openai_embed.mjs", {server_->url() + "/v1", "test", "float", write_json("openai1.json", texts[0])});
    ASSERT_FALSE(out.is_null());
    expect_same_vectors(out["vectors"], reference(texts), "openai float");
}

TEST_F(ServerE2E, OllamaClientMatchesLibrary) {
    const auto texts = sample_texts();
    const auto out = run_node("ollama_embed.mjs", {server_->url(), "test", write_json("ollama.json", texts)});
    ASSERT_FALSE(out.is_null());
    const auto expected = reference(texts);
    expect_same_vectors(out["vectors"], expected, "ollama embed");
    EXPECT_LT(max_abs_diff(to_floats(out["legacy"]), expected.row(0)), kTolerance);
    EXPECT_GT(out["prompt_eval_count"].get<int>(), 0);
}

TEST_F(ServerE2E, QdrantClientCreateUpsertSearchScrollDelete) {
    const auto texts = sample_texts();
    const auto vectors = reference(texts);
    nlohmann::json points = nlohmann::json::array();
    for (std::size_t idx = 0; idx < texts.size(); ++idx) {
        const auto row = vectors.row(idx);
        points.push_back({{"id", idx + 1},
                          {"vector", std::vector<float>(row.begin(), row.end())},
                          {"payload", {{"text", texts[idx]}, {"tag", idx % 2 ? "odd" : "even"}}}});
    }
    const auto query = reference({"what is a mosaic tile?"});
    const auto query_row = query.row(0);
    const nlohmann::json data = {{"collection", "notes"},
                                 {"dim", vectors.cols()},
                                 {"points", points},
                                 {"query", std::vector<float>(query_row.begin(), query_row.end())},
                                 {"filter_tag", "odd"}};
    // Its own server: the store's shutdown is checked separately from the embedding routes'.
    ServerProcess qdrant_server({"--model", "test=" + generated_model().string(), "--store",
                                 scratch_dir("store").string()});
    const auto out = run_node("qdrant_flow.mjs", {qdrant_server.url(), write_json("qdrant.json", data)});
    EXPECT_EQ(qdrant_server.terminate(), 0) << "tessera serve --store did not exit cleanly on SIGTERM";
    ASSERT_FALSE(out.is_null());
    EXPECT_EQ(out["created"], true);
    EXPECT_EQ(out["exists"], true);
    EXPECT_NE(std::find(out["listed"].begin(), out["listed"].end(), "notes"), out["listed"].end());
    EXPECT_EQ(out["upsert"]["status"], "completed");
    EXPECT_EQ(out["info_points"], texts.size());

    // Brute force: cosine of unit vectors is the dot product.
    std::vector<std::pair<double, std::size_t>> scored;
    for (std::size_t idx = 0; idx < texts.size(); ++idx) {
        double dot = 0;
        for (std::size_t dim = 0; dim < vectors.cols(); ++dim) dot += double(vectors.row(idx)[dim]) * query_row[dim];
        scored.emplace_back(dot, idx + 1);
    }
    std::sort(scored.rbegin(), scored.rend());
    ASSERT_EQ(out["search"].size(), 3u);
    for (std::size_t rank = 0; rank < 3; ++rank) {
        EXPECT_EQ(out["search"][rank]["id"], scored[rank].second) << "rank " << rank;
        EXPECT_NEAR(out["search"][rank]["score"].get<double>(), scored[rank].first, 1e-4);
        EXPECT_EQ(out["query"][rank]["id"], scored[rank].second);
    }
    EXPECT_EQ(out["search"][0]["payload"]["text"], texts[scored[0].second - 1]);
    for (const auto& hit : out["search_filtered"]) EXPECT_EQ(hit["id"].get<int>() % 2, 0) << "odd index = even id";
    EXPECT_EQ(out["search_filtered"].size(), 3u);
    EXPECT_LT(max_abs_diff(to_floats(out["retrieved"][0]["vector"]), vectors.row(0)), 1e-5);
    EXPECT_EQ(out["scroll"]["points"].size(), texts.size());
    EXPECT_EQ(out["count"], texts.size());
    EXPECT_EQ(out["after_set_payload"]["reviewed"], true);
    EXPECT_EQ(out["after_set_payload"]["text"], texts[0]);
    EXPECT_EQ(out["count_after_delete"], texts.size() - 1);
    EXPECT_EQ(out["deleted"], true);
    EXPECT_EQ(out["exists_after_delete"], false);
}

// The same text gives the same vector alone or among 1,000 concurrent requests of mixed lengths.
TEST_F(ServerE2E, BatchingIsInvisible) {
    const std::string probe = "the probe sentence that must not change";
    std::mt19937 rng(5);
    std::vector<std::string> words = {"mosaic", "tile", "vector", "embedding", "server", "batch", "token",
                                      "glass", "stone", "colour", "pattern", "floor"};
    nlohmann::json requests = nlohmann::json::array();
    std::set<std::string> unique_texts = {probe};
    for (int request = 0; request < 1000; ++request) {
        nlohmann::json inputs = nlohmann::json::array();
        const int count = 1 + int(rng() % 4);
        for (int idx = 0; idx < count; ++idx) {
            if ((request + idx) % 20 == 0) {
                inputs.push_back(probe);
                continue;
            }
            std::string text;
            const int length = 1 + int(rng() % 120);  // 1..120 words: up to the 128-token limit
            for (int word = 0; word < length; ++word) text += (word ? " " : "") + words[rng() % words.size()];
            inputs.push_back(text);
            unique_texts.insert(text);
        }
        requests.push_back(inputs);
    }
    auto alone = post("/v1/embeddings", {{"model", "test"}, {"input", probe}});
    const auto alone_vector = to_floats(alone["data"][0]["embedding"]);
    const auto library_alone = reference({probe});
    EXPECT_LT(max_abs_diff(alone_vector, library_alone.row(0)), kTolerance);

    const auto out = run_node("concurrent.mjs", {server_->url(), "test", write_json("storm.json", requests)});
    ASSERT_FALSE(out.is_null());
    EXPECT_EQ(out["statuses"], nlohmann::json({{"200", 1000}}));
    std::vector<std::string> texts(unique_texts.begin(), unique_texts.end());
    std::map<std::string, std::size_t> row_of;
    for (std::size_t idx = 0; idx < texts.size(); ++idx) row_of[texts[idx]] = idx;
    const auto expected = reference(texts);
    std::size_t probe_seen = 0;
    double worst = 0;
    for (std::size_t request = 0; request < requests.size(); ++request) {
        const auto& vectors = out["results"][request];
        ASSERT_EQ(vectors.size(), requests[request].size());
        for (std::size_t idx = 0; idx < vectors.size(); ++idx) {
            const std::string text = requests[request][idx];
            const auto got = to_floats(vectors[idx]);
            worst = std::max(worst, max_abs_diff(got, expected.row(row_of[text])));
            if (text == probe) {
                ++probe_seen;
                EXPECT_LT(max_abs_diff(got, alone_vector), kTolerance) << "probe in request " << request;
            }
        }
    }
    EXPECT_GT(probe_seen, 40u);
    EXPECT_LT(worst, kTolerance);
    // The storm did share engine batches (otherwise this test proves nothing).
    auto metrics = server_->client().Get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->body.find("tessera_batch_size_bucket{model=\"test\",le=\"4\"} 0"), std::string::npos);
}

TEST_F(ServerE2E, TeiRoutesMatchLibrary) {
    const auto texts = sample_texts();
    expect_same_vectors(post("/embed", {{"inputs", texts}}), reference(texts), "tei embed");
    expect_same_vectors(post("/embed", {{"inputs", texts}, {"normalize", false}}),
                        reference(texts, EmbedOptions{.normalize = false}), "tei embed unnormalized");
    expect_same_vectors(post("/embed", {{"inputs", texts[0]}, {"prompt_name", "query"}}),
                        reference({texts[0]}, EmbedOptions{.prompt_name = "query"}), "tei prompt_name");
    expect_same_vectors(post("/embed", {{"inputs", texts}, {"dimensions", 16}}),
                        reference(texts, EmbedOptions{.dimensions = 16}), "tei dimensions");

    const auto tokens = post("/tokenize", {{"inputs", "Hello, world!"}});
    const auto encoding = embedder_->tokenizer().encode("Hello, world!");
    ASSERT_EQ(tokens[0].size(), encoding.ids.size());
    for (std::size_t idx = 0; idx < encoding.ids.size(); ++idx) EXPECT_EQ(tokens[0][idx]["id"], encoding.ids[idx]);
    EXPECT_EQ(tokens[0][0]["special"], true);
    EXPECT_EQ(tokens[0][1]["text"], "Hello");  // TEI quotes the input, not the normalised token
    EXPECT_EQ(tokens[0][1]["start"], 0);
    EXPECT_EQ(tokens[0][1]["stop"], 5);
    const auto decoded = post("/decode", {{"ids", encoding.ids}});
    EXPECT_EQ(decoded[0], embedder_->tokenizer().decode(encoding.ids));

    auto client = server_->client();
    auto info = client.Get("/info");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->status, 200);
    const auto info_json = nlohmann::json::parse(info->body);
    EXPECT_EQ(info_json["model_id"], "test");
    EXPECT_EQ(info_json["max_input_length"], embedder_->info().max_seq_length);
    auto health = client.Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    auto metrics = client.Get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_NE(metrics->body.find("tessera_http_requests_total{route=\"/embed\",status=\"200\"}"), std::string::npos);
    EXPECT_NE(metrics->body.find("tessera_http_request_duration_seconds_bucket{route=\"/embed\""), std::string::npos);
    EXPECT_NE(metrics->body.find("tessera_queue_depth{model=\"test\"}"), std::string::npos);
    EXPECT_NE(metrics->body.find("tessera_tokens_per_second{model=\"test\"}"), std::string::npos);
}

TEST_F(ServerE2E, OpenAiTokenIdsAndDimensionsMatchLibrary) {
    const auto tokenized = embedder_->tokenize(std::vector<std::string>{"token ids in, vector out"});
    const auto& ids = tokenized[0].ids;
    const auto expected = embedder_->embed_tokenized(tokenized);
    const auto single = post("/v1/embeddings", {{"model", "test"}, {"input", ids}, {"encoding_format", "float"}});
    expect_same_vectors(nlohmann::json::array({single["data"][0]["embedding"]}), expected, "token ids");
    const auto nested = post("/v1/embeddings", {{"model", "test"}, {"input", {ids, ids}}});
    EXPECT_EQ(nested["data"].size(), 2u);
    const auto texts = sample_texts();
    const auto dims = post("/v1/embeddings", {{"model", "test"}, {"input", texts}, {"dimensions", 16}});
    nlohmann::json vectors = nlohmann::json::array();
    for (const auto& item : dims["data"]) vectors.push_back(item["embedding"]);
    expect_same_vectors(vectors, reference(texts, EmbedOptions{.dimensions = 16}), "dimensions 16");
}

TEST_F(ServerE2E, ClipTextsAndImagesShareOneRequest) {
    auto clip = ImageEmbedder::open(kClipModel);
    const fs::path image_file = fs::path(TESSERA_SHARED_DIR) / "data/images/pillow_hopper.png";
    std::ifstream in(image_file, std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string base64;
    {
        static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::size_t idx = 0;
        for (; idx + 2 < bytes.size(); idx += 3) {
            const std::uint32_t group = (bytes[idx] << 16) | (bytes[idx + 1] << 8) | bytes[idx + 2];
            for (int shift = 18; shift >= 0; shift -= 6) base64 += kAlphabet[(group >> shift) & 63];
        }
        if (idx < bytes.size()) {
            std::uint32_t group = bytes[idx] << 16;
            if (idx + 1 < bytes.size()) group |= bytes[idx + 1] << 8;
            base64 += kAlphabet[(group >> 18) & 63];
            base64 += kAlphabet[(group >> 12) & 63];
            base64 += idx + 1 < bytes.size() ? kAlphabet[(group >> 6) & 63] : '=';
            base64 += '=';
        }
    }
    const auto out = post("/v1/embeddings", {{"model", "clip"},
                                             {"input", {"a photo of a cat", "data:image/png;base64," + base64,
                                                        {{"image", base64}}}},
                                             {"encoding_format", "float"}});
    ASSERT_EQ(out["data"].size(), 3u);
    const auto text_vectors = clip->embed_texts(std::vector<std::string>{"a photo of a cat"});
    const auto images = clip->embed_images(std::vector<ImageSource>{ImageSource::from_bytes(bytes)});
    ASSERT_FALSE(images.errors[0].has_value());
    EXPECT_LT(max_abs_diff(to_floats(out["data"][0]["embedding"]), text_vectors.row(0)), kTolerance);
    EXPECT_LT(max_abs_diff(to_floats(out["data"][1]["embedding"]), images.embeddings.row(0)), kTolerance);
    EXPECT_LT(max_abs_diff(to_floats(out["data"][2]["embedding"]), images.embeddings.row(0)), kTolerance);
    // URLs are off unless --allow-image-urls.
    const auto refused = post("/v1/embeddings", {{"model", "clip"}, {"input", {{{"image", "http://127.0.0.1:9/x.png"}}}}}, 400);
    EXPECT_NE(refused["error"]["message"].get<std::string>().find("--allow-image-urls"), std::string::npos);
}

TEST_F(ServerE2E, ModelsListsEveryServedModel) {
    auto client = server_->client();
    auto models = client.Get("/v1/models");
    ASSERT_TRUE(models);
    const auto body = nlohmann::json::parse(models->body);
    EXPECT_EQ(body["data"].size(), 2u);
    EXPECT_EQ(body["data"][0]["id"], "test");
    EXPECT_EQ(body["data"][1]["id"], "clip");
    auto tags = client.Get("/api/tags");
    ASSERT_TRUE(tags);
    EXPECT_EQ(nlohmann::json::parse(tags->body)["models"].size(), 2u);
    const auto show = post("/api/show", {{"model", "test"}});
    EXPECT_EQ(show["model_info"]["bert.embedding_length"], embedder_->info().output_dim);
}

TEST_F(ServerE2E, AccessLogIsOneJsonLinePerRequest) {
    (void)post("/embed", {{"inputs", "logged"}});
    // cpp-httplib logs a request after its response is sent, so the line may land a moment
    // after the client has its answer: read the log until it shows up (at most ~5 s).
    bool found = false;
    for (int attempt = 0; attempt < 250 && !found; ++attempt) {
        if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::istringstream log(server_->stderr_text());
        std::string line;
        while (std::getline(log, line)) {
            if (line.find("\"msg\":\"request\"") == std::string::npos) continue;
            if (!nlohmann::json::accept(line)) continue;  // a line still being written
            const auto entry = nlohmann::json::parse(line);
            EXPECT_TRUE(entry.contains("ts") && entry.contains("status") && entry.contains("duration_ms"));
            if (entry["path"] == "/embed" && entry["status"] == 200) found = true;
        }
    }
    EXPECT_TRUE(found);
}

// SIGTERM while requests are queued: they all finish with 200, then the process exits 0.
TEST(ServerShutdown, FinishesQueuedWorkOnSigterm) {
    ServerProcess server({"--model", "test=" + generated_model().string(), "-q", "--max-batch-tokens", "256"});
    std::vector<std::string> texts;
    for (int idx = 0; idx < 64; ++idx) texts.push_back("request text number " + std::to_string(idx) + " with more words");
    const nlohmann::json body = {{"input", texts}};
    std::vector<std::future<int>> requests;
    for (int request = 0; request < 8; ++request) {
        requests.push_back(std::async(std::launch::async, [&] {
            auto client = server.client();
            auto res = client.Post("/v1/embeddings", body.dump(), "application/json");
            return res ? res->status : -1;
        }));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(server.terminate(), 0) << server.stderr_text();
    int completed = 0;
    for (auto& request : requests) {
        const int status = request.get();
        EXPECT_TRUE(status == 200 || status == -1) << status;  // -1: not yet connected when the socket closed
        completed += status == 200;
    }
    EXPECT_GT(completed, 0);
    EXPECT_NE(server.stderr_text().find("shutting down"), std::string::npos);
}

}  // namespace
}  // namespace tessera::server_test
