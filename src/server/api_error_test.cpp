// Error bodies in each API's shape, request-body field checks, base64 and the metrics text.
#include "server/api_error.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "server/metrics.hpp"
#include "server/request_json.hpp"

namespace tessera::server {
namespace {

TEST(ApiError, FamilyOfPath) {
    EXPECT_EQ(family_of_path("/v1/embeddings"), ApiFamily::openai);
    EXPECT_EQ(family_of_path("/embeddings"), ApiFamily::openai);
    EXPECT_EQ(family_of_path("/api/embed"), ApiFamily::ollama);
    EXPECT_EQ(family_of_path("/collections/a/points"), ApiFamily::qdrant);
    EXPECT_EQ(family_of_path("/embed"), ApiFamily::tei);
}

TEST(ApiError, OpenAiShape) {
    const auto reply = error_reply(ApiFamily::openai, RequestError(ErrorCode::invalid_argument, "input: empty array")
                                                          .with_param("input"));
    EXPECT_EQ(reply.status, 400);
    EXPECT_EQ(reply.body["error"]["message"], "input: empty array");
    EXPECT_EQ(reply.body["error"]["type"], "invalid_request_error");
    EXPECT_EQ(reply.body["error"]["param"], "input");
    EXPECT_EQ(reply.body["error"]["code"], "invalid_argument");
    const auto auth = error_reply(ApiFamily::openai, RequestError(ErrorCode::unauthenticated, "bad key")
                                                         .with_api_code("invalid_api_key"));
    EXPECT_EQ(auth.status, 401);
    EXPECT_EQ(auth.body["error"]["type"], "authentication_error");
    EXPECT_EQ(auth.body["error"]["code"], "invalid_api_key");
    EXPECT_TRUE(auth.body["error"]["param"].is_null());
}

TEST(ApiError, RateLimitCarriesRetryAfter) {
    const auto reply = error_reply(ApiFamily::tei, RequestError(ErrorCode::resource_exhausted, "busy")
                                                       .with_status(429)
                                                       .with_retry_after(1));
    EXPECT_EQ(reply.status, 429);
    EXPECT_EQ(reply.retry_after_s, 1);
    EXPECT_EQ(reply.body["error_type"], "Overloaded");
    EXPECT_EQ(reply.kind, "resource_exhausted");
}

TEST(ApiError, OllamaTeiQdrantShapes) {
    const RequestError err(ErrorCode::not_found, "model 'x' is not served here");
    EXPECT_EQ(error_reply(ApiFamily::ollama, err).body, (nlohmann::json{{"error", "model 'x' is not served here"}}));
    const auto tei = error_reply(ApiFamily::tei, err);
    EXPECT_EQ(tei.status, 404);
    EXPECT_EQ(tei.body["error_type"], "Validation");
    const auto qdrant = error_reply(ApiFamily::qdrant, err);
    EXPECT_EQ(qdrant.body["status"]["error"], "model 'x' is not served here");
    EXPECT_TRUE(qdrant.body["time"].is_number());
    EXPECT_EQ(error_reply(ApiFamily::tei, RequestError(ErrorCode::internal, "bug")).status, 500);
}

std::string error_message(const std::function<void()>& body) {
    try {
        body();
    } catch (const RequestError& err) {
        EXPECT_EQ(err.status(), 400);
        return err.what();
    }
    ADD_FAILURE() << "no RequestError";
    return "";
}

TEST(RequestJson, MalformedAndWrongTypes) {
    EXPECT_NE(error_message([] { (void)parse_json_body("{\"input\": [1,"); }).find("invalid JSON at byte"),
              std::string::npos);
    EXPECT_NE(error_message([] { (void)parse_json_body("[1,2]"); }).find("expected a JSON object, got array"),
              std::string::npos);
    EXPECT_NE(error_message([] { (void)parse_json_body(""); }).find("empty"), std::string::npos);
    const auto body = nlohmann::json::parse(R"({"model": 5, "dimensions": -3, "normalize": "yes", "n": null,
                                               "inputs": ["a", 7]})");
    EXPECT_NE(error_message([&] { (void)string_field(body, "model"); }).find("model: expected a string, got number"),
              std::string::npos);
    EXPECT_NE(error_message([&] { (void)size_field(body, "dimensions"); }).find("must not be negative"),
              std::string::npos);
    EXPECT_NE(error_message([&] { (void)bool_field(body, "normalize"); }).find("normalize: expected true or false"),
              std::string::npos);
    EXPECT_FALSE(string_field(body, "n").has_value());
    EXPECT_FALSE(size_field(body, "absent").has_value());
    EXPECT_NE(error_message([&] { (void)string_or_list_field(body["inputs"], "inputs"); }).find("inputs[1]"),
              std::string::npos);
    try {
        (void)size_field(body, "dimensions");
    } catch (const RequestError& err) {
        EXPECT_EQ(err.param(), "dimensions");
    }
}

TEST(RequestJson, Base64RoundTripsFloatBytes) {
    const std::vector<float> values = {1.0f, -2.5f, 3.25e-7f, 0.0f, 123456.0f};
    std::vector<std::uint8_t> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.data(), bytes.size());
    const std::string text = base64_encode(bytes);
    EXPECT_EQ(text.size(), 28u);
    EXPECT_EQ(base64_decode(text, "x"), bytes);
    EXPECT_EQ(base64_encode(std::vector<std::uint8_t>{'M', 'a'}), "TWE=");
    EXPECT_EQ(base64_decode("TWE=", "x"), (std::vector<std::uint8_t>{'M', 'a'}));
    EXPECT_EQ(base64_decode("TQ==", "x"), (std::vector<std::uint8_t>{'M'}));
    EXPECT_NE(error_message([] { (void)base64_decode("abc", "input[0]"); }).find("input[0]"), std::string::npos);
    EXPECT_NE(error_message([] { (void)base64_decode("ab!$", "img"); }).find("invalid base64"), std::string::npos);
}

TEST(Metrics, RendersPrometheusText) {
    Metrics metrics;
    metrics.observe_request("/v1/embeddings", 200, 0.004);
    metrics.observe_request("/v1/embeddings", 200, 0.2);
    metrics.observe_request("/v1/embeddings", 400, 0.001);
    metrics.observe_batch("m", BatchStats{.item_count = 3, .token_count = 40, .seconds = 0.01});
    metrics.count_error("invalid_argument");
    metrics.count_rejected();
    const std::string text = metrics.render({{"m", 7}}, 2);
    EXPECT_NE(text.find("tessera_http_requests_total{route=\"/v1/embeddings\",status=\"200\"} 2"), std::string::npos);
    EXPECT_NE(text.find("tessera_http_requests_total{route=\"/v1/embeddings\",status=\"400\"} 1"), std::string::npos);
    EXPECT_NE(text.find("tessera_http_request_duration_seconds_bucket{route=\"/v1/embeddings\",le=\"0.005\"} 2"),
              std::string::npos);
    EXPECT_NE(text.find("tessera_http_request_duration_seconds_bucket{route=\"/v1/embeddings\",le=\"+Inf\"} 3"),
              std::string::npos);
    EXPECT_NE(text.find("tessera_queue_depth{model=\"m\"} 7"), std::string::npos);
    EXPECT_NE(text.find("tessera_http_requests_in_flight 2"), std::string::npos);
    EXPECT_NE(text.find("tessera_batch_size_bucket{model=\"m\",le=\"4\"} 1"), std::string::npos);
    EXPECT_NE(text.find("tessera_embedded_tokens_total{model=\"m\"} 40"), std::string::npos);
    EXPECT_NE(text.find("tessera_tokens_per_second{model=\"m\"} 4000"), std::string::npos);
    EXPECT_NE(text.find("tessera_errors_total{kind=\"invalid_argument\"} 1"), std::string::npos);
    EXPECT_NE(text.find("tessera_http_rejected_total 1"), std::string::npos);
    EXPECT_NE(text.find("# TYPE tessera_http_request_duration_seconds histogram"), std::string::npos);
}

}  // namespace
}  // namespace tessera::server
