#include "store/filter.hpp"

#include <gtest/gtest.h>

namespace tessera {
namespace {

using nlohmann::json;

struct Case {
    const char* filter;
    const char* payload;
    bool expected;
};

// Hand-checked cases of Qdrant's semantics: one line per case.
const Case kCases[] = {
    {R"({"must":[{"key":"city","match":{"value":"London"}}]})", R"({"city":"London"})", true},
    {R"({"must":[{"key":"city","match":{"value":"London"}}]})", R"({"city":"Paris"})", false},
    {R"({"must":[{"key":"city","match":{"value":"London"}}]})", R"({"city":["Paris","London"]})", true},
    {R"({"must":[{"key":"n","match":{"value":3}}]})", R"({"n":3})", true},
    {R"({"must":[{"key":"n","match":{"value":3}}]})", R"({"n":"3"})", false},
    {R"({"must":[{"key":"b","match":{"value":true}}]})", R"({"b":true})", true},
    {R"({"must":[{"key":"c","match":{"any":["a","b"]}}]})", R"({"c":"b"})", true},
    {R"({"must":[{"key":"c","match":{"any":["a","b"]}}]})", R"({"c":"z"})", false},
    {R"({"must":[{"key":"c","match":{"except":["a","b"]}}]})", R"({"c":"z"})", true},
    {R"({"must":[{"key":"c","match":{"except":["a","b"]}}]})", R"({"c":"a"})", false},
    {R"({"must":[{"key":"c","match":{"except":["a"]}}]})", R"({})", false},
    {R"({"must":[{"key":"t","match":{"text":"ell"}}]})", R"({"t":"hello"})", true},
    {R"({"must":[{"key":"p","range":{"gte":1,"lt":2}}]})", R"({"p":1})", true},
    {R"({"must":[{"key":"p","range":{"gte":1,"lt":2}}]})", R"({"p":2})", false},
    {R"({"must":[{"key":"p","range":{"gt":1.5}}]})", R"({"p":[0,3]})", true},
    {R"({"must":[{"key":"p","range":{"gt":1.5}}]})", R"({"p":"9"})", false},
    {R"({"must":[{"is_empty":{"key":"e"}}]})", R"({})", true},
    {R"({"must":[{"is_empty":{"key":"e"}}]})", R"({"e":[]})", true},
    {R"({"must":[{"is_empty":{"key":"e"}}]})", R"({"e":null})", true},
    {R"({"must":[{"is_empty":{"key":"e"}}]})", R"({"e":[1]})", false},
    {R"({"must":[{"is_null":{"key":"e"}}]})", R"({"e":null})", true},
    {R"({"must":[{"is_null":{"key":"e"}}]})", R"({})", false},
    {R"({"must":[{"is_null":{"key":"e"}}]})", R"({"e":1})", false},
    {R"({"must":[{"key":"a.b","match":{"value":1}}]})", R"({"a":{"b":1}})", true},
    {R"({"must":[{"key":"a.b","match":{"value":1}}]})", R"({"a":[{"b":2},{"b":1}]})", true},
    {R"({"must":[{"key":"a[].b","match":{"value":1}}]})", R"({"a":[{"b":2},{"b":1}]})", true},
    {R"({"must":[{"key":"a[0].b","match":{"value":1}}]})", R"({"a":[{"b":2},{"b":1}]})", false},
    {R"({"must":[{"key":"a[1].b","match":{"value":1}}]})", R"({"a":[{"b":2},{"b":1}]})", true},
    {R"({"should":[{"key":"x","match":{"value":1}},{"key":"y","match":{"value":1}}]})", R"({"y":1})", true},
    {R"({"should":[{"key":"x","match":{"value":1}},{"key":"y","match":{"value":1}}]})", R"({"y":2})", false},
    {R"({"must_not":[{"key":"x","match":{"value":1}}]})", R"({"x":1})", false},
    {R"({"must_not":[{"key":"x","match":{"value":1}}]})", R"({})", true},
    {R"({"must":[{"must_not":[{"key":"x","match":{"value":1}}]}]})", R"({"x":2})", true},
    {R"({"must":[{"key":"v","values_count":{"gte":2}}]})", R"({"v":[1,2]})", true},
    {R"({"must":[{"key":"v","values_count":{"gte":2}}]})", R"({"v":[1]})", false},
    {R"({"must":[{"nested":{"key":"d","filter":{"must":[{"key":"a","match":{"value":1}},{"key":"b","match":{"value":2}}]}}}]})",
     R"({"d":[{"a":1,"b":3},{"a":2,"b":2}]})", false},
    {R"({"must":[{"nested":{"key":"d","filter":{"must":[{"key":"a","match":{"value":1}},{"key":"b","match":{"value":2}}]}}}]})",
     R"({"d":[{"a":1,"b":2}]})", true},
    {R"({"min_should":{"conditions":[{"key":"a","match":{"value":1}},{"key":"b","match":{"value":1}},{"key":"c","match":{"value":1}}],"min_count":2}})",
     R"({"a":1,"c":1})", true},
    {R"({"min_should":{"conditions":[{"key":"a","match":{"value":1}},{"key":"b","match":{"value":1}}],"min_count":2}})",
     R"({"a":1})", false},
    {R"({})", R"({})", true},
};

TEST(Filter, QdrantSemanticsCases) {
    for (const Case& c : kCases) {
        const Filter filter = Filter::from_json(json::parse(c.filter));
        EXPECT_EQ(filter.matches(PointId(1), json::parse(c.payload)), c.expected) << c.filter << " on " << c.payload;
    }
}

TEST(Filter, HasIdMatchesNumbersAndUuids) {
    const Filter filter = Filter::from_json(json::parse(R"({"must":[{"has_id":[1, "550e8400-e29b-41d4-a716-446655440000"]}]})"));
    EXPECT_TRUE(filter.matches(PointId(1), json::object()));
    EXPECT_FALSE(filter.matches(PointId(2), json::object()));
    EXPECT_TRUE(filter.matches(PointId::parse("550E8400E29B41D4A716446655440000"), json::object()));
}

TEST(Filter, MalformedFiltersNameTheField) {
    const std::pair<const char*, const char*> cases[] = {
        {R"([1,2])", "filter: expected an object"},
        {R"({"must":{"key":"a"}})", "filter.must: condition on 'a' needs match, range or values_count"},
        {R"({"must":[{"key":"a","range":{"gt":"x"}}]})", "filter.must[0].range.gt: expected a number"},
        {R"({"must":[{"key":"a","match":{"value":[1]}}]})", "filter.must[0].match.value: expected a string, integer or bool"},
        {R"({"must":[{"key":"a","match":{}}]})", "filter.must[0].match: expected one of"},
        {R"({"musts":[]})", "filter.musts: unknown clause"},
        {R"({"must":[{"match":{"value":1}}]})", "filter.must[0].key: missing"},
        {R"({"must":[{"key":"a..b","match":{"value":1}}]})", "empty path segment"},
        {R"({"must":[{"has_id":[-1]}]})", "filter.must[0].has_id[0]"},
        {R"({"must":[{"key":"a","range":{"between":1}}]})", "filter.must[0].range.between: unknown bound"},
    };
    for (const auto& [text, message] : cases) {
        try {
            (void)Filter::from_json(json::parse(text));
            ADD_FAILURE() << "accepted " << text;
        } catch (const Error& err) {
            EXPECT_EQ(err.code(), ErrorCode::invalid_argument);
            EXPECT_NE(std::string(err.what()).find(message), std::string::npos) << err.what();
        }
    }
}

TEST(Filter, DeeplyNestedFilterIsRefused) {
    json filter = json::object();
    for (int level = 0; level < 100; ++level) filter = json{{"must", json::array({filter})}};
    EXPECT_THROW((void)Filter::from_json(filter), Error);
}

TEST(Filter, RoundTripsThroughJson) {
    const json source = json::parse(R"({"must":[{"key":"a","match":{"any":[1,2]}}],"must_not":[{"has_id":[3]}]})");
    EXPECT_EQ(Filter::from_json(source).to_json(), source);
    EXPECT_TRUE(Filter().empty());
    EXPECT_FALSE(Filter::from_json(source).empty());
}

TEST(Filter, JsonDepthStopsEarly) {
    json deep = 1;
    for (int level = 0; level < 10000; ++level) deep = json{{"a", std::move(deep)}};
    EXPECT_GT(store::json_depth(deep, 64), 64u);
    EXPECT_EQ(store::json_depth(json{{"a", {{"b", 1}}}}, 64), 3u);
}

}  // namespace
}  // namespace tessera
