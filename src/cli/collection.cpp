// `tessera collection create|list|info|delete|index`: manage the collections of a store.
//
//   tessera collection create notes --model BAAI/bge-small-en-v1.5     # size taken from the model
//   {"created":"notes","config":{"vectors":{"size":384,"distance":"Cosine",...}}}
//   tessera collection create pics --vector image:512:cosine:f16:openai/clip-vit-base-patch32
//   tessera collection list            # {"name":"notes","points_count":12}
//   tessera collection info notes      # counts, config, disk and memory use
//   tessera collection index notes tag keyword
//   tessera collection delete notes
#include <iostream>
#include <sstream>

#include "cli/command.hpp"
#include "cli/model_option.hpp"
#include "cli/store_common.hpp"
#include "tessera/embedder.hpp"
#include "tessera/hub.hpp"

namespace tessera::cli {

namespace {

struct CreateOptions {
    StoreOption store;
    std::string name;
    std::size_t size = 0;
    std::string distance = "cosine";
    std::string datatype = "f32";
    std::string model;
    std::vector<std::string> vectors;  // NAME:SIZE[:DISTANCE[:DATATYPE[:MODEL]]]
    std::size_t m = 16;
    std::size_t ef_construct = 100;
    std::size_t ef = 64;
    std::vector<std::string> indexes;  // KEY:TYPE
    std::string config_json;
    bool exist_ok = false;
};

// The vector size a model produces: from the registry, else by loading the model.
std::size_t model_dimensions(const std::string& model) {
    if (const KnownModel* known = find_known_model(model); known != nullptr && known->dimensions > 0) {
        return known->dimensions;
    }
    ModelOption option;
    option.model = model;
    const auto dir = option.resolve();
    try {
        return TextEmbedder::open(dir)->info().output_dim;
    } catch (const Error&) {
        option.kind = ModelKind::image;
        return ImageEmbedder::open(dir)->info().output_dim;
    }
}

std::vector<std::string> split(const std::string& text, char separator, std::size_t max_parts) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (parts.size() + 1 < max_parts) {
        const std::size_t at = text.find(separator, start);
        if (at == std::string::npos) break;
        parts.push_back(text.substr(start, at - start));
        start = at + 1;
    }
    parts.push_back(text.substr(start));
    return parts;
}

std::size_t parse_size(const std::string& text, const std::string& where) {
    try {
        std::size_t used = 0;
        const unsigned long value = std::stoul(text, &used);
        if (used == text.size()) return value;
    } catch (const std::exception&) {
    }
    throw Error(ErrorCode::invalid_argument, where + ": expected a number, got '" + text + "'");
}

CollectionConfig build_config(const CreateOptions& options) {
    if (!options.config_json.empty()) {
        const auto body = nlohmann::json::parse(options.config_json, nullptr, false);
        if (body.is_discarded()) throw Error(ErrorCode::invalid_argument, "--config: not valid JSON");
        return CollectionConfig::from_json(body);
    }
    HnswConfig hnsw{.m = options.m, .ef_construct = options.ef_construct, .ef = options.ef};
    CollectionConfig config;
    if (options.vectors.empty()) {
        VectorConfig vector{.size = options.size,
                            .distance = parse_distance(options.distance),
                            .storage = parse_storage_type(options.datatype),
                            .model = options.model,
                            .hnsw = hnsw};
        if (vector.size == 0) {
            if (options.model.empty()) {
                throw Error(ErrorCode::invalid_argument, "collection create: give --size N or --model M (or --vector)");
            }
            vector.size = model_dimensions(options.model);
        }
        config.vectors[""] = vector;
    }
    for (const std::string& spec : options.vectors) {
        const auto parts = split(spec, ':', 5);
        if (parts.size() < 2 || parts[0].empty()) {
            throw Error(ErrorCode::invalid_argument,
                        "--vector: expected NAME:SIZE[:DISTANCE[:DATATYPE[:MODEL]]], got '" + spec + "'");
        }
        VectorConfig vector{.hnsw = hnsw};
        vector.distance = parse_distance(parts.size() > 2 && !parts[2].empty() ? parts[2] : "cosine");
        vector.storage = parse_storage_type(parts.size() > 3 && !parts[3].empty() ? parts[3] : "f32");
        vector.model = parts.size() > 4 ? parts[4] : "";
        vector.size = parts[1].empty() || parts[1] == "auto" ? 0 : parse_size(parts[1], "--vector " + parts[0]);
        if (vector.size == 0) {
            if (vector.model.empty()) throw Error(ErrorCode::invalid_argument, "--vector " + parts[0] + ": size 'auto' needs a model");
            vector.size = model_dimensions(vector.model);
        }
        config.vectors[parts[0]] = vector;
    }
    for (const std::string& spec : options.indexes) {
        const auto parts = split(spec, ':', 2);
        if (parts.size() != 2) throw Error(ErrorCode::invalid_argument, "--index: expected KEY:TYPE, got '" + spec + "'");
        config.payload_indexes[parts[0]] = parse_payload_index_type(parts[1]);
    }
    return CollectionConfig::from_json(config.to_json());  // same validation as the REST API
}

void setup(CLI::App& app) {
    auto* group = app.add_subcommand("collection", "Create, list, inspect and delete collections of the vector store");
    group->require_subcommand(1);

    auto create = std::make_shared<CreateOptions>();
    auto* cmd = group->add_subcommand("create", "Create a collection");
    add_store_option(cmd, create->store);
    cmd->add_option("name", create->name, "Collection name")->required();
    cmd->add_option("--size", create->size, "Vector dimensions (default: the model's)");
    cmd->add_option("--distance", create->distance, "cosine | dot | euclid | manhattan")->capture_default_str();
    cmd->add_option("--datatype", create->datatype, "Vector storage: f32 | f16 | u8")->capture_default_str();
    cmd->add_option("--model,-m", create->model, "Model whose vectors the collection holds (upsert/search embed with it)");
    cmd->add_option("--vector", create->vectors, "A named vector NAME:SIZE|auto[:DISTANCE[:DATATYPE[:MODEL]]] (repeatable)");
    cmd->add_option("--m", create->m, "HNSW links per node")->capture_default_str();
    cmd->add_option("--ef-construct", create->ef_construct, "HNSW beam width while building")->capture_default_str();
    cmd->add_option("--ef", create->ef, "HNSW beam width while searching")->capture_default_str();
    cmd->add_option("--index", create->indexes, "A payload index KEY:keyword|integer (repeatable)");
    cmd->add_option("--config", create->config_json, "The whole config as Qdrant's create-collection JSON");
    cmd->add_flag("--exist-ok", create->exist_ok, "Succeed if the collection exists already");
    cmd->callback([create] {
        auto store = open_store(create->store);
        if (create->exist_ok && store->has_collection(create->name)) {
            print_json_line({{"exists", create->name}, {"config", store->collection(create->name)->config().to_json()}});
            return;
        }
        auto collection = store->create_collection(create->name, build_config(*create));
        print_json_line({{"created", create->name}, {"config", collection->config().to_json()}});
    });

    auto list_store = std::make_shared<StoreOption>();
    auto* list = group->add_subcommand("list", "List the collections: one JSON line each");
    add_store_option(list, *list_store);
    list->callback([list_store] {
        auto store = open_store(*list_store, true);
        for (const std::string& name : store->list_collections()) {
            nlohmann::json line = {{"name", name}};
            try {
                line["points_count"] = store->collection(name)->count();
            } catch (const Error& err) {
                line["error"] = err.what();
            }
            print_json_line(line);
        }
    });

    struct NamedOptions {
        StoreOption store;
        std::string name;
        std::string key;
        std::string type;
    };
    auto info_options = std::make_shared<NamedOptions>();
    auto* info = group->add_subcommand("info", "Counts, configuration, disk and memory use of a collection");
    add_store_option(info, info_options->store);
    info->add_option("name", info_options->name, "Collection name")->required();
    info->callback([info_options] {
        auto store = open_store(info_options->store, true);
        std::cout << store->collection(info_options->name)->info().to_json().dump(2) << "\n";
    });

    auto delete_options = std::make_shared<NamedOptions>();
    auto* remove = group->add_subcommand("delete", "Delete a collection and its files");
    add_store_option(remove, delete_options->store);
    remove->add_option("name", delete_options->name, "Collection name")->required();
    remove->callback([delete_options] {
        auto store = open_store(delete_options->store);
        if (!store->delete_collection(delete_options->name)) {
            throw Error(ErrorCode::not_found, "collection '" + delete_options->name + "': not found");
        }
        print_json_line({{"deleted", delete_options->name}});
    });

    auto index_options = std::make_shared<NamedOptions>();
    auto* index = group->add_subcommand("index", "Create a payload index on a key (keyword or integer)");
    add_store_option(index, index_options->store);
    index->add_option("name", index_options->name, "Collection name")->required();
    index->add_option("key", index_options->key, "Payload key (dotted path)")->required();
    index->add_option("type", index_options->type, "keyword | integer")->required();
    index->callback([index_options] {
        auto store = open_store(index_options->store);
        auto collection = store->collection(index_options->name);
        collection->create_payload_index(index_options->key, parse_payload_index_type(index_options->type));
        print_json_line({{"indexed", index_options->key},
                         {"points", collection->info().payload_index_points.at(index_options->key)}});
    });
}

const bool registered = register_command({.name = "collection", .order = 40, .setup = setup});

}  // namespace

}  // namespace tessera::cli
