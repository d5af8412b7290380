// `tessera search`: nearest neighbours in a collection, for a text, an image or a vector.
//
//   tessera search --collection notes --text "where did I park?" --limit 3
//   {"id":"5a1e...","score":0.8123,"payload":{"path":"notes/car.md","text":"..."}}
//   tessera search -c pics --image cat.jpg --filter '{"must":[{"key":"year","range":{"gte":2020}}]}'
//   tessera search -c c --vector '[0.1,0.2,0.3]' --exact
#include <iostream>

#include "cli/command.hpp"
#include "cli/store_common.hpp"

namespace tessera::cli {

namespace {

struct SearchOptions {
    StoreOption store;
    std::string collection;
    std::string text;
    std::string image;
    std::string vector;
    std::string using_vector;
    bool using_given = false;
    std::string filter;
    std::size_t limit = 10;
    std::size_t offset = 0;
    std::optional<float> score_threshold;
    std::optional<std::size_t> ef;
    bool exact = false;
    bool with_vector = false;
    bool no_payload = false;
};

std::vector<float> parse_vector(const std::string& text) {
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_array()) {
        throw Error(ErrorCode::invalid_argument, "--vector: expected a JSON array of numbers, got '" + text + "'");
    }
    std::vector<float> out;
    for (std::size_t idx = 0; idx < json.size(); ++idx) {
        if (!json[idx].is_number()) {
            throw Error(ErrorCode::invalid_argument, "--vector[" + std::to_string(idx) + "]: expected a number");
        }
        out.push_back(json[idx].get<float>());
    }
    return out;
}

void run(const SearchOptions& options) {
    const int sources = int(!options.text.empty()) + int(!options.image.empty()) + int(!options.vector.empty());
    if (sources != 1) throw Error(ErrorCode::invalid_argument, "search: give exactly one of --text, --image, --vector");
    auto store = open_store(options.store, true);
    auto collection = store->collection(options.collection);
    Query query;
    query.limit = options.limit;
    query.offset = options.offset;
    query.score_threshold = options.score_threshold;
    query.ef = options.ef;
    query.exact = options.exact;
    query.with_payload = options.no_payload ? PayloadSelector::none() : PayloadSelector::all();
    query.with_vector = options.with_vector ? VectorSelector::all() : VectorSelector::none();
    if (!options.filter.empty()) {
        const auto filter = nlohmann::json::parse(options.filter, nullptr, false);
        if (filter.is_discarded()) throw Error(ErrorCode::invalid_argument, "--filter: not valid JSON: '" + options.filter + "'");
        query.filter = Filter::from_json(filter);
    }
    if (!options.vector.empty()) {
        query.vector = parse_vector(options.vector);
        query.using_vector = options.using_vector;
    } else {
        CollectionEmbedder embedder(collection->config());
        const Modality modality = options.text.empty() ? Modality::image : Modality::text;
        query.using_vector = embedder.vector_for(modality, options.using_given ? options.using_vector : "");
        const Matrix rows = modality == Modality::text
                                ? embedder.embed_texts(query.using_vector, {options.text}, InputKind::query)
                                : embedder.embed_images(query.using_vector, {options.image});
        const auto row = rows.row(0);
        query.vector.assign(row.begin(), row.end());
    }
    for (const ScoredPoint& hit : collection->search(query)) {
        nlohmann::json line = {{"id", hit.id.to_json()}, {"score", hit.score}};
        if (hit.payload) line["payload"] = *hit.payload;
        if (!hit.vectors.empty()) line["vector"] = hit.to_json()["vector"];
        print_json_line(line);
    }
}

const bool registered = register_command({
    .name = "search",
    .order = 42,
    .setup =
        [](CLI::App& app) {
            auto options = std::make_shared<SearchOptions>();
            auto* cmd = app.add_subcommand("search", "Nearest neighbours for a text, an image or a vector: JSON Lines id/score/payload");
            add_store_option(cmd, options->store);
            cmd->add_option("--collection,-c", options->collection, "Collection name")->required();
            cmd->add_option("--text,-t", options->text, "Search for this text (embedded with the collection's model)");
            cmd->add_option("--image", options->image, "Search for this image (CLIP collections)");
            cmd->add_option("--vector", options->vector, "Search for this vector, as a JSON array");
            auto* using_option = cmd->add_option("--using", options->using_vector, "Named vector to search");
            cmd->add_option("--filter", options->filter, "Payload filter in Qdrant's JSON syntax");
            cmd->add_option("--limit,-k", options->limit, "Number of results")->capture_default_str();
            cmd->add_option("--offset", options->offset, "Skip the first N results");
            cmd->add_option("--score-threshold", options->score_threshold, "Only results at least this similar (distances: at most)");
            cmd->add_option("--ef", options->ef, "HNSW beam width for this search");
            cmd->add_flag("--exact", options->exact, "Brute-force search instead of HNSW");
            cmd->add_flag("--with-vector", options->with_vector, "Print the stored vectors too");
            cmd->add_flag("--no-payload", options->no_payload, "Do not print payloads");
            cmd->callback([options, using_option] {
                options->using_given = using_option->count() > 0;
                run(*options);
            });
        },
});

}  // namespace

}  // namespace tessera::cli
