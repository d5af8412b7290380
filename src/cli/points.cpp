// `tessera points get|scroll|count|delete|set-payload`: read and change points of a collection.
//
//   tessera points get -c notes 1 2 550e8400-e29b-41d4-a716-446655440000
//   tessera points scroll -c notes --limit 100 --filter '{"must":[{"key":"tag","match":{"value":"a"}}]}'
//   tessera points count -c notes --filter '...'           # {"count":12}
//   tessera points delete -c notes --ids 1 2   |   --filter '...'
//   tessera points set-payload -c notes --ids 1 --payload '{"tag":"b"}' [--overwrite]
#include <iostream>

#include "cli/command.hpp"
#include "cli/store_common.hpp"

namespace tessera::cli {

namespace {

struct PointsOptions {
    StoreOption store;
    std::string collection;
    std::vector<std::string> ids;
    std::string filter;
    std::size_t limit = 10;
    std::string offset;
    std::string order_by;
    bool descending = false;
    bool with_vector = false;
    std::string payload;
    bool overwrite = false;
};

std::optional<Filter> parse_filter(const std::string& text) {
    if (text.empty()) return std::nullopt;
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded()) throw Error(ErrorCode::invalid_argument, "--filter: not valid JSON: '" + text + "'");
    return Filter::from_json(json);
}

PointSelector selector_of(const PointsOptions& options) {
    PointSelector selector;
    selector.filter = parse_filter(options.filter);
    for (const auto& id : options.ids) selector.ids.push_back(PointId::parse(id));
    if (!selector.filter && selector.ids.empty()) throw Error(ErrorCode::invalid_argument, "give --ids or --filter");
    return selector;
}

CLI::App* add_common(CLI::App* group, const char* name, const char* help, PointsOptions& options) {
    auto* cmd = group->add_subcommand(name, help);
    add_store_option(cmd, options.store);
    cmd->add_option("--collection,-c", options.collection, "Collection name")->required();
    return cmd;
}

void setup(CLI::App& app) {
    auto* group = app.add_subcommand("points", "Get, scroll, count, delete points and change payloads");
    group->require_subcommand(1);

    auto get = std::make_shared<PointsOptions>();
    auto* get_cmd = add_common(group, "get", "Points by id: one JSON line each", *get);
    get_cmd->add_option("ids", get->ids, "Point ids (integers or UUIDs)")->required();
    get_cmd->add_flag("--with-vector", get->with_vector, "Include the vectors");
    get_cmd->callback([get] {
        auto store = open_store(get->store, true);
        std::vector<PointId> ids;
        for (const auto& id : get->ids) ids.push_back(PointId::parse(id));
        for (const Point& point : store->collection(get->collection)
                                      ->get(ids, PayloadSelector::all(), get->with_vector ? VectorSelector::all() : VectorSelector::none())) {
            print_json_line(point.to_json());
        }
    });

    auto scroll = std::make_shared<PointsOptions>();
    auto* scroll_cmd = add_common(group, "scroll", "Points in id order (or by a payload key)", *scroll);
    scroll_cmd->add_option("--filter", scroll->filter, "Payload filter (Qdrant JSON)");
    scroll_cmd->add_option("--limit", scroll->limit, "At most N points")->capture_default_str();
    scroll_cmd->add_option("--offset", scroll->offset, "Start at this id");
    scroll_cmd->add_option("--order-by", scroll->order_by, "Order by this payload key");
    scroll_cmd->add_flag("--desc", scroll->descending, "Descending order (with --order-by)");
    scroll_cmd->add_flag("--with-vector", scroll->with_vector, "Include the vectors");
    scroll_cmd->callback([scroll] {
        auto store = open_store(scroll->store, true);
        ScrollRequest request;
        request.filter = parse_filter(scroll->filter);
        request.limit = scroll->limit;
        if (!scroll->offset.empty()) request.offset = PointId::parse(scroll->offset);
        if (!scroll->order_by.empty()) request.order_by = OrderBy{.key = scroll->order_by, .descending = scroll->descending};
        request.with_vector = scroll->with_vector ? VectorSelector::all() : VectorSelector::none();
        const ScrollResult result = store->collection(scroll->collection)->scroll(request);
        for (const Point& point : result.points) print_json_line(point.to_json());
        if (result.next_page_offset) std::cerr << "next page: --offset " << result.next_page_offset->to_string() << "\n";
    });

    auto count = std::make_shared<PointsOptions>();
    auto* count_cmd = add_common(group, "count", "Number of points (matching a filter)", *count);
    count_cmd->add_option("--filter", count->filter, "Payload filter (Qdrant JSON)");
    count_cmd->callback([count] {
        auto store = open_store(count->store, true);
        print_json_line({{"count", store->collection(count->collection)->count(parse_filter(count->filter))}});
    });

    auto remove = std::make_shared<PointsOptions>();
    auto* remove_cmd = add_common(group, "delete", "Delete points by id or filter", *remove);
    remove_cmd->add_option("--ids", remove->ids, "Point ids");
    remove_cmd->add_option("--filter", remove->filter, "Payload filter (Qdrant JSON)");
    remove_cmd->callback([remove] {
        auto store = open_store(remove->store);
        const UpdateResult result = store->collection(remove->collection)->delete_points(selector_of(*remove));
        print_json_line({{"deleted", result.point_count}, {"operation_id", result.operation_id}});
    });

    auto set = std::make_shared<PointsOptions>();
    auto* set_cmd = add_common(group, "set-payload", "Set (merge) or overwrite payload keys", *set);
    set_cmd->add_option("--ids", set->ids, "Point ids");
    set_cmd->add_option("--filter", set->filter, "Payload filter (Qdrant JSON)");
    set_cmd->add_option("--payload", set->payload, "A JSON object")->required();
    set_cmd->add_flag("--overwrite", set->overwrite, "Replace the whole payload");
    set_cmd->callback([set] {
        const auto payload = nlohmann::json::parse(set->payload, nullptr, false);
        if (payload.is_discarded()) throw Error(ErrorCode::invalid_argument, "--payload: not valid JSON");
        auto store = open_store(set->store);
        const UpdateResult result = store->collection(set->collection)
                                        ->set_payload(selector_of(*set), payload,
                                                      set->overwrite ? PayloadWriteMode::overwrite : PayloadWriteMode::merge);
        print_json_line({{"updated", result.point_count}, {"operation_id", result.operation_id}});
    });
}

const bool registered = register_command({.name = "points", .order = 43, .setup = setup});

}  // namespace

}  // namespace tessera::cli
