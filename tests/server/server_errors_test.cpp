// Bad input against the real server: each case gets its documented status and error body (in the
// called API's shape), and the server keeps serving afterwards.
#include <gtest/gtest.h>

#include <future>

#include "server_process.hpp"

namespace tessera::server_test {
namespace {

struct Reply {
    int status = -1;
    nlohmann::json body;
    std::string retry_after;
};

class ServerErrors : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new ServerProcess({"--model", "test=" + generated_model().string(), "-q", "--payload-limit", "64K",
                                     "--max-client-batch-size", "256", "--store",
                                     scratch_dir("errors-store").string()});
    }
    static void TearDownTestSuite() {
        EXPECT_TRUE(server_->running()) << "the server died:\n" << server_->stderr_text();
        EXPECT_EQ(server_->terminate(), 0);
        delete server_;
    }
    static Reply send(const std::string& path, const std::string& body,
                      const httplib::Headers& headers = {}, ServerProcess* server = nullptr) {
        auto client = (server ? server : server_)->client();
        auto res = client.Post(path, headers, body, "application/json");
        Reply reply;
        if (!res) return reply;
        reply.status = res->status;
        reply.body = nlohmann::json::parse(res->body, nullptr, false);
        reply.retry_after = res->get_header_value("Retry-After");
        return reply;
    }
    static void expect_openai_error(const Reply& reply, int status, const std::string& fragment,
                                    const std::string& param = "") {
        EXPECT_EQ(reply.status, status) << reply.body.dump();
        ASSERT_TRUE(reply.body.contains("error")) << reply.body.dump();
        const auto& error = reply.body["error"];
        EXPECT_NE(error["message"].get<std::string>().find(fragment), std::string::npos) << error.dump();
        EXPECT_TRUE(error.contains("type") && error.contains("param") && error.contains("code")) << error.dump();
        if (!param.empty()) {
            EXPECT_EQ(error["param"], param) << error.dump();
        }
    }
    static ServerProcess* server_;
};
ServerProcess* ServerErrors::server_ = nullptr;

TEST_F(ServerErrors, MalformedJsonInEachApiShape) {
    expect_openai_error(send("/v1/embeddings", "{\"input\": [\"a\","), 400, "invalid JSON");
    const auto ollama = send("/api/embed", "{nope");
    EXPECT_EQ(ollama.status, 400);
    EXPECT_TRUE(ollama.body["error"].is_string()) << ollama.body.dump();
    const auto tei = send("/embed", "[1");
    EXPECT_EQ(tei.status, 400);
    EXPECT_EQ(tei.body["error_type"], "Validation");
    const auto qdrant = send("/collections/x/points/search", "{");
    EXPECT_EQ(qdrant.status, 400);
    EXPECT_TRUE(qdrant.body["status"]["error"].is_string()) << qdrant.body.dump();
}

TEST_F(ServerErrors, WrongTypesEmptyInputsAndEmptyStrings) {
    expect_openai_error(send("/v1/embeddings", R"({"input": 5})"), 400, "expected a string or an array", "input");
    expect_openai_error(send("/v1/embeddings", R"({"input": []})"), 400, "empty array", "input");
    expect_openai_error(send("/v1/embeddings", R"({"input": ""})"), 400, "empty string", "input");
    expect_openai_error(send("/v1/embeddings", R"({"input": ["ok", ""]})"), 400, "input[1]: empty string", "input");
    expect_openai_error(send("/v1/embeddings", R"({})"), 400, "input: missing", "input");
    expect_openai_error(send("/v1/embeddings", R"({"input": "a", "encoding_format": "int8"})"), 400,
                        "encoding_format", "encoding_format");
    expect_openai_error(send("/v1/embeddings", R"({"input": "a", "dimensions": 100000})"), 400, "dimensions",
                        "dimensions");
    expect_openai_error(send("/v1/embeddings", R"({"input": "a", "dimensions": "8"})"), 400, "dimensions");
    const auto ollama = send("/api/embed", R"({"model": "test", "input": []})");
    EXPECT_EQ(ollama.status, 400);
    const auto tei = send("/embed", R"({"inputs": [1, 2]})");
    EXPECT_EQ(tei.status, 400);
    EXPECT_NE(tei.body["error"].get<std::string>().find("inputs[0]"), std::string::npos);
}

TEST_F(ServerErrors, BodyOverThePayloadLimitIs413) {
    const std::string big_text(70 * 1024, 'a');
    const auto reply = send("/v1/embeddings", nlohmann::json({{"input", big_text}}).dump());
    expect_openai_error(reply, 413, "payload limit");
}

TEST_F(ServerErrors, TenThousandInputsIs413) {
    const nlohmann::json inputs(10'000, "x");
    expect_openai_error(send("/v1/embeddings", nlohmann::json({{"input", inputs}}).dump()), 413,
                        "--max-client-batch-size", "input");
    const auto tei = send("/embed", nlohmann::json({{"inputs", inputs}}).dump());
    EXPECT_EQ(tei.status, 413);
}

TEST_F(ServerErrors, TokenIdOutOfRangeIs400) {
    expect_openai_error(send("/v1/embeddings", R"({"input": [101, 99999999, 102]})"), 400, "outside the vocabulary",
                        "input");
    expect_openai_error(send("/v1/embeddings", R"({"input": [[101, 102], [101, -1]]})"), 400, "input[1]", "input");
    expect_openai_error(send("/v1/embeddings", R"({"input": [[]]})"), 400, "empty token list");
    const auto decode = send("/decode", R"({"ids": [101, 99999999]})");
    EXPECT_EQ(decode.status, 400);
}

TEST_F(ServerErrors, UnknownModelIs404WithModelNotFound) {
    const auto reply = send("/v1/embeddings", R"({"model": "text-embedding-3-small", "input": "a"})");
    expect_openai_error(reply, 404, "text-embedding-3-small", "model");
    EXPECT_EQ(reply.body["error"]["code"], "model_not_found");
    const auto ollama = send("/api/embed", R"({"model": "nomic-embed-text", "input": "a"})");
    EXPECT_EQ(ollama.status, 404);
    EXPECT_NE(ollama.body["error"].get<std::string>().find("served: 'test'"), std::string::npos);
    // Ollama's ":latest" tag names the same model.
    EXPECT_EQ(send("/api/embed", R"({"model": "test:latest", "input": "a"})").status, 200);
}

TEST_F(ServerErrors, OverlongInputWithTruncateFalse) {
    std::string text;
    for (int word = 0; word < 700; ++word) text += "word ";  // beyond the 512-token limit
    const auto ollama = send("/api/embed", nlohmann::json({{"model", "test"}, {"input", text}, {"truncate", false}}).dump());
    EXPECT_EQ(ollama.status, 400) << ollama.body.dump();
    EXPECT_EQ(send("/api/embed", nlohmann::json({{"model", "test"}, {"input", text}}).dump()).status, 200);
    EXPECT_EQ(send("/embed", nlohmann::json({{"inputs", text}, {"truncate", false}}).dump()).status, 400);
}

TEST_F(ServerErrors, UnknownRoutesSparseAndQdrantMisses) {
    auto client = server_->client();
    auto missing = client.Get("/v1/nothing");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    EXPECT_TRUE(nlohmann::json::parse(missing->body).contains("error"));
    const auto sparse = send("/embed_sparse", R"({"inputs": "a"})");
    EXPECT_EQ(sparse.status, 422);
    EXPECT_NE(sparse.body["error"].get<std::string>().find("sparse"), std::string::npos);
    auto no_collection = client.Get("/collections/none");
    ASSERT_TRUE(no_collection);
    EXPECT_EQ(no_collection->status, 404);
    EXPECT_NE(nlohmann::json::parse(no_collection->body)["status"]["error"].get<std::string>().find("none"),
              std::string::npos);
    auto bad_config = client.Put("/collections/bad", R"({"vectors": {"size": 0, "distance": "Cosine"}})",
                                 "application/json");
    ASSERT_TRUE(bad_config);
    EXPECT_EQ(bad_config->status, 400);
}

TEST_F(ServerErrors, ServerKeepsServingAfterBadInput) {
    for (int round = 0; round < 20; ++round) (void)send("/v1/embeddings", "{garbage");
    const auto good = send("/v1/embeddings", R"({"input": "still alive"})");
    EXPECT_EQ(good.status, 200);
    EXPECT_EQ(good.body["data"].size(), 1u);
    EXPECT_TRUE(server_->running());
}

TEST(ServerAuth, MissingOrWrongKeyIs401HealthStaysOpen) {
    ServerProcess server({"--model", "test=" + generated_model().string(), "-q", "--api-key", "s3cret"});
    auto client = server.client();
    auto no_key = client.Post("/v1/embeddings", R"({"input": "a"})", "application/json");
    ASSERT_TRUE(no_key);
    EXPECT_EQ(no_key->status, 401);
    const auto body = nlohmann::json::parse(no_key->body);
    EXPECT_EQ(body["error"]["code"], "invalid_api_key");
    EXPECT_EQ(body["error"]["type"], "authentication_error");
    auto wrong = client.Post("/v1/embeddings", {{"Authorization", "Bearer nope"}}, R"({"input": "a"})", "application/json");
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401);
    EXPECT_NE(wrong->body.find("invalid API key"), std::string::npos);
    auto metrics = client.Get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->status, 401);
    auto health = client.Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    auto right = client.Post("/v1/embeddings", {{"Authorization", "Bearer s3cret"}}, R"({"input": "a"})", "application/json");
    ASSERT_TRUE(right);
    EXPECT_EQ(right->status, 200);
    auto ollama_style = client.Post("/api/embed", {{"Authorization", "Bearer s3cret"}},
                                    R"({"model": "test", "input": "a"})", "application/json");
    ASSERT_TRUE(ollama_style);
    EXPECT_EQ(ollama_style->status, 200);
}

TEST(ServerLimits, ExcessConcurrentRequestsGet429WithRetryAfter) {
    ServerProcess server({"--model", "test=" + generated_model().string(), "-q", "--max-concurrent-requests", "1",
                          "--max-batch-tokens", "128"});
    std::vector<std::string> texts(200, "a long enough text to keep the engine busy for a little while");
    const std::string body = nlohmann::json({{"input", texts}}).dump();
    std::vector<std::future<std::pair<int, std::string>>> requests;
    for (int request = 0; request < 8; ++request) {
        requests.push_back(std::async(std::launch::async, [&] {
            auto client = server.client();
            auto res = client.Post("/v1/embeddings", body, "application/json");
            if (!res) return std::pair<int, std::string>{-1, ""};
            return std::pair<int, std::string>{res->status, res->get_header_value("Retry-After")};
        }));
    }
    int ok = 0, limited = 0;
    for (auto& request : requests) {
        const auto [status, retry_after] = request.get();
        if (status == 200) ++ok;
        if (status == 429) {
            ++limited;
            EXPECT_EQ(retry_after, "1");
        }
        EXPECT_TRUE(status == 200 || status == 429) << status;
    }
    EXPECT_GE(ok, 1);
    EXPECT_GE(limited, 1);
    // Recovery: once the burst is over, requests are served again.
    auto client = server.client();
    auto after = client.Post("/v1/embeddings", R"({"input": "after the burst"})", "application/json");
    ASSERT_TRUE(after);
    EXPECT_EQ(after->status, 200);
}

TEST(ServerLimits, RequestTimeoutIs504) {
    ServerProcess server({"--model", "test=" + generated_model().string(), "-q", "--request-timeout", "1",
                          "--max-batch-tokens", "64"});
    std::vector<std::string> texts(256, "many texts that cannot all be embedded within one millisecond");
    auto client = server.client();
    auto res = client.Post("/v1/embeddings", nlohmann::json({{"input", texts}}).dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 504) << res->body;
    EXPECT_NE(res->body.find("timed out"), std::string::npos);
    auto health = client.Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace tessera::server_test
