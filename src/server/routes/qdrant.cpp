// A Qdrant-compatible REST subset over the embedded store (tessera/store.hpp): collections
// (create, get, exists, list, delete, payload indexes) and points (upsert, get, retrieve,
// delete, set/overwrite/delete/clear payload, scroll, count, search, search/batch, query).
// Enough for the official clients (@qdrant/js-client-rest, qdrant-client); the JSON bodies are
// parsed by the store's own from_json functions, which follow Qdrant's REST API.
// https://api.qdrant.tech/api-reference
#include <chrono>
#include <map>
#include <mutex>

#include "server/api_error.hpp"
#include "server/request_json.hpp"
#include "server/routes/route_table.hpp"

namespace tessera::server {

namespace {

using Clock = std::chrono::steady_clock;

// Qdrant's envelope: {"result": ..., "status": "ok", "time": seconds}.
void reply_result(httplib::Response& res, nlohmann::json result, Clock::time_point started) {
    const std::chrono::duration<double> elapsed = Clock::now() - started;
    reply_json(res, {{"result", std::move(result)}, {"status", "ok"}, {"time", elapsed.count()}});
}

nlohmann::json update_json(const UpdateResult& update) {
    return {{"operation_id", update.operation_id}, {"status", "completed"}};
}

Store& require_store(RouteContext& context) {
    if (!context.store) {
        throw RequestError(ErrorCode::not_found,
                           "the Qdrant-compatible routes need a store: start the server with --store DIR");
    }
    return *context.store;
}

// Open collections stay open for the server's lifetime (until deleted): a request then costs no
// reopen, and the store always has a live owner for what it is writing.
struct CollectionCache {
    std::mutex mutex;  // also serialises collection create/delete
    std::map<std::string, std::shared_ptr<Collection>> open;
};

std::shared_ptr<Collection> open_collection(RouteContext& context, CollectionCache& cache, const std::string& name) {
    Store& store = require_store(context);
    std::lock_guard lock(cache.mutex);
    if (const auto found = cache.open.find(name); found != cache.open.end()) return found->second;
    if (!store.has_collection(name)) {
        throw RequestError(ErrorCode::not_found, "Not found: Collection `" + name + "` doesn't exist!");
    }
    auto collection = store.collection(name);
    cache.open.emplace(name, collection);
    return collection;
}

// Bodies are optional on some Qdrant routes (count, scroll): an empty body is {}.
nlohmann::json optional_body(const httplib::Request& req) {
    if (req.body.empty()) return nlohmann::json::object();
    return parse_json_body(req.body);
}

std::optional<Filter> optional_filter(const nlohmann::json& body) {
    const auto* filter = find_field(body, "filter");
    if (!filter) return std::nullopt;
    return Filter::from_json(*filter);
}

nlohmann::json records_json(const std::vector<Point>& points) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& point : points) out.push_back(point.to_json());
    return out;
}

nlohmann::json scored_json(const std::vector<ScoredPoint>& points) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& point : points) out.push_back(point.to_json());
    return out;
}

// cpp-httplib's path patterns: a regex per route, collection name as capture 1.
const std::string kCollection = R"(/collections/([A-Za-z0-9_.\-]+))";

}  // namespace

void register_qdrant_routes(RouteTable& table, RouteContext& context) {
    auto cache = std::make_shared<CollectionCache>();
    auto& ctx = context;

    table.add("GET", "/", "/", [](const httplib::Request&, httplib::Response& res) {
        // The Qdrant clients compare this version with their own and warn on a mismatch; it is
        // the Qdrant API version whose subset tessera implements.
        reply_json(res, {{"title", "tessera - Qdrant-compatible REST subset"}, {"version", "1.18.0"}});
    }, {.unlimited = true});

    table.add("GET", "/collections", "/collections", [&ctx](const httplib::Request&, httplib::Response& res) {
        const auto started = Clock::now();
        nlohmann::json collections = nlohmann::json::array();
        for (const auto& name : require_store(ctx).list_collections()) collections.push_back({{"name", name}});
        reply_result(res, {{"collections", std::move(collections)}}, started);
    });
    table.add("PUT", kCollection, "/collections/{name}", [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
        const auto started = Clock::now();
        const std::string name = req.matches[1];
        const auto config = CollectionConfig::from_json(parse_json_body(req.body));
        Store& store = require_store(ctx);
        std::lock_guard lock(cache->mutex);
        if (store.has_collection(name)) {
            throw RequestError(ErrorCode::invalid_argument, "Wrong input: Collection `" + name + "` already exists!")
                .with_status(409);
        }
        cache->open[name] = store.create_collection(name, config);
        reply_result(res, true, started);
    });
    table.add("GET", kCollection, "/collections/{name}", [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
        const auto started = Clock::now();
        reply_result(res, open_collection(ctx, *cache, req.matches[1])->info().to_json(), started);
    });
    table.add("GET", kCollection + "/exists", "/collections/{name}/exists", [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
        const auto started = Clock::now();
        reply_result(res, {{"exists", require_store(ctx).has_collection(req.matches[1])}}, started);
    });
    table.add("DELETE", kCollection, "/collections/{name}", [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
        const auto started = Clock::now();
        Store& store = require_store(ctx);
        std::lock_guard lock(cache->mutex);
        cache->open.erase(req.matches[1]);
        reply_result(res, store.delete_collection(req.matches[1]), started);
    });
    table.add("PUT", kCollection + "/index", "/collections/{name}/index", [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
        const auto started = Clock::now();
        const auto body = parse_json_body(req.body);
        const auto field = string_field(body, "field_name");
        if (!field) throw RequestError(ErrorCode::invalid_argument, "field_name: missing");
        const auto* schema = find_field(body, "field_schema");
        if (!schema) throw RequestError(ErrorCode::invalid_argument, "field_schema: missing");
        // Qdrant accepts "keyword" or {"type": "keyword", ...}.
        const std::string type = schema->is_object() ? schema->value("type", "") : schema->is_string() ? schema->get<std::string>() : "";
        const auto update = open_collection(ctx, *cache, req.matches[1])->create_payload_index(*field, parse_payload_index_type(type));
        reply_result(res, update_json(update), started);
    });
    table.add("DELETE", kCollection + R"(/index/([^/]+))", "/collections/{name}/index/{field}",
              [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
                  const auto started = Clock::now();
                  const auto update = open_collection(ctx, *cache, req.matches[1])->delete_payload_index(req.matches[2]);
                  reply_result(res, update_json(update), started);
              });

    table.add("PUT", kCollection + "/points", "/collections/{name}/points", [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
        const auto started = Clock::now();
        const auto body = parse_json_body(req.body);
        std::vector<Point> points;
        if (const auto* list = find_field(body, "points")) {
            if (!list->is_array()) throw RequestError(ErrorCode::invalid_argument, "points: expected an array");
            for (std::size_t idx = 0; idx < list->size(); ++idx) {
                try {
                    points.push_back(Point::from_json((*list)[idx]));
                } catch (const Error& err) {
                    throw err.with_context("points[" + std::to_string(idx) + "]");
                }
            }
        } else if (const auto* batch = find_field(body, "batch")) {
            // The columnar form: {"batch": {"ids": [...], "vectors": [...], "payloads": [...]}}.
            const auto& ids = batch->at("ids");
            const auto& vectors = batch->at("vectors");
            const auto* payloads = find_field(*batch, "payloads");
            if (!ids.is_array() || !vectors.is_array() || ids.size() != vectors.size()) {
                throw RequestError(ErrorCode::invalid_argument, "batch: ids and vectors must be arrays of equal length");
            }
            for (std::size_t idx = 0; idx < ids.size(); ++idx) {
                nlohmann::json point = {{"id", ids[idx]}, {"vector", vectors[idx]}};
                if (payloads && payloads->is_array() && idx < payloads->size()) point["payload"] = (*payloads)[idx];
                points.push_back(Point::from_json(point));
            }
        } else {
            throw RequestError(ErrorCode::invalid_argument, "points: missing (give \"points\" or \"batch\")");
        }
        reply_result(res, update_json(open_collection(ctx, *cache, req.matches[1])->upsert(points)), started);
    });
    table.add("GET", kCollection + R"(/points/([^/]+))", "/collections/{name}/points/{id}",
              [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
                  const auto started = Clock::now();
                  const auto collection = open_collection(ctx, *cache, req.matches[1]);
                  const auto point = collection->get(PointId::parse(req.matches[2].str()));
                  if (!point) {
                      throw RequestError(ErrorCode::not_found,
                                         "Not found: No point with id " + req.matches[2].str() + " found");
                  }
                  reply_result(res, point->to_json(), started);
              });
    table.add("POST", kCollection + "/points", "/collections/{name}/points", [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
        const auto started = Clock::now();
        const auto body = parse_json_body(req.body);
        const auto* ids_json = find_field(body, "ids");
        if (!ids_json || !ids_json->is_array()) throw RequestError(ErrorCode::invalid_argument, "ids: expected an array");
        std::vector<PointId> ids;
        for (const auto& id : *ids_json) ids.push_back(PointId::from_json(id));
        const auto* with_payload = find_field(body, "with_payload");
        const auto* with_vector = find_field(body, "with_vector");
        const auto points = open_collection(ctx, *cache, req.matches[1])
                                ->get(ids, with_payload ? PayloadSelector::from_json(*with_payload) : PayloadSelector::all(),
                                      with_vector ? VectorSelector::from_json(*with_vector) : VectorSelector::none());
        reply_result(res, records_json(points), started);
    });
    table.add("POST", kCollection + "/points/delete", "/collections/{name}/points/delete",
              [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
                  const auto started = Clock::now();
                  const auto selector = PointSelector::from_json(parse_json_body(req.body));
                  reply_result(res, update_json(open_collection(ctx, *cache, req.matches[1])->delete_points(selector)), started);
              });
    auto payload_route = [&ctx, cache](PayloadWriteMode mode) {
        return [&ctx, cache, mode](const httplib::Request& req, httplib::Response& res) {
            const auto started = Clock::now();
            const auto body = parse_json_body(req.body);
            const auto* payload = find_field(body, "payload");
            if (!payload || !payload->is_object()) {
                throw RequestError(ErrorCode::invalid_argument, "payload: expected a JSON object");
            }
            const auto selector = PointSelector::from_json(body);
            reply_result(res, update_json(open_collection(ctx, *cache, req.matches[1])->set_payload(selector, *payload, mode)),
                         started);
        };
    };
    table.add("POST", kCollection + "/points/payload", "/collections/{name}/points/payload",
              payload_route(PayloadWriteMode::merge));
    table.add("PUT", kCollection + "/points/payload", "/collections/{name}/points/payload",
              payload_route(PayloadWriteMode::overwrite));
    table.add("POST", kCollection + "/points/payload/delete", "/collections/{name}/points/payload/delete",
              [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
                  const auto started = Clock::now();
                  const auto body = parse_json_body(req.body);
                  const auto* keys_json = find_field(body, "keys");
                  if (!keys_json || !keys_json->is_array()) {
                      throw RequestError(ErrorCode::invalid_argument, "keys: expected an array of strings");
                  }
                  const auto keys = string_or_list_field(*keys_json, "keys");
                  const auto selector = PointSelector::from_json(body);
                  reply_result(res, update_json(open_collection(ctx, *cache, req.matches[1])->delete_payload_keys(selector, keys)),
                               started);
              });
    table.add("POST", kCollection + "/points/payload/clear", "/collections/{name}/points/payload/clear",
              [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
                  const auto started = Clock::now();
                  const auto selector = PointSelector::from_json(parse_json_body(req.body));
                  reply_result(res, update_json(open_collection(ctx, *cache, req.matches[1])->clear_payload(selector)), started);
              });
    table.add("POST", kCollection + "/points/scroll", "/collections/{name}/points/scroll",
              [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
                  const auto started = Clock::now();
                  const auto request = ScrollRequest::from_json(optional_body(req));
                  const auto result = open_collection(ctx, *cache, req.matches[1])->scroll(request);
                  reply_result(res,
                               {{"points", records_json(result.points)},
                                {"next_page_offset", result.next_page_offset ? result.next_page_offset->to_json()
                                                                             : nlohmann::json(nullptr)}},
                               started);
              });
    table.add("POST", kCollection + "/points/count", "/collections/{name}/points/count",
              [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
                  const auto started = Clock::now();
                  const auto body = optional_body(req);
                  reply_result(res, {{"count", open_collection(ctx, *cache, req.matches[1])->count(optional_filter(body))}}, started);
              });
    table.add("POST", kCollection + "/points/search", "/collections/{name}/points/search",
              [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
                  const auto started = Clock::now();
                  const auto query = Query::from_json(parse_json_body(req.body));
                  reply_result(res, scored_json(open_collection(ctx, *cache, req.matches[1])->search(query)), started);
              });
    table.add("POST", kCollection + "/points/search/batch", "/collections/{name}/points/search/batch",
              [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
                  const auto started = Clock::now();
                  const auto body = parse_json_body(req.body);
                  const auto* searches = find_field(body, "searches");
                  if (!searches || !searches->is_array()) {
                      throw RequestError(ErrorCode::invalid_argument, "searches: expected an array of search requests");
                  }
                  std::vector<Query> queries;
                  for (const auto& search : *searches) queries.push_back(Query::from_json(search));
                  nlohmann::json out = nlohmann::json::array();
                  for (const auto& hits : open_collection(ctx, *cache, req.matches[1])->search_batch(queries)) {
                      out.push_back(scored_json(hits));
                  }
                  reply_result(res, out, started);
              });
    table.add("POST", kCollection + "/points/query", "/collections/{name}/points/query",
              [&ctx, cache](const httplib::Request& req, httplib::Response& res) {
                  const auto started = Clock::now();
                  const auto query = Query::from_json(parse_json_body(req.body));
                  reply_result(res, {{"points", scored_json(open_collection(ctx, *cache, req.matches[1])->search(query))}},
                               started);
              });
}

}  // namespace tessera::server
