// `tessera upsert`: points from JSON Lines (or a folder of notes and images) into a collection.
//
//   echo '{"id":1,"vector":[0.1,0.2,0.3],"payload":{"tag":"a"}}' | tessera upsert --collection c
//   echo '{"text":"The cat sits on the mat.","payload":{"lang":"en"}}' | tessera upsert --collection notes
//   tessera upsert --collection notes --dir ~/notes      # *.txt/*.md as texts, images with a CLIP vector
//   {"collection":"notes","upserted":42,"embedded_texts":40,"embedded_images":2,"operation_id":7}
//
// Each line carries `id` (u64 or UUID; default: a UUID derived from the text or image path, so
// re-running replaces instead of duplicating), `vector` / `vectors`, or `text` / `image` embedded
// with the model recorded in the collection, and `payload`. `text` and `image` are also stored in
// the payload (unless it has those keys) so search results show them.
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.hpp"
#include "cli/store_common.hpp"

namespace tessera::cli {

namespace {

struct UpsertOptions {
    StoreOption store;
    std::string collection;
    std::string input;  // JSONL file; empty or "-": stdin
    std::string dir;    // a folder of notes and images instead of JSONL
    std::string text_vector;
    std::string image_vector;
    std::size_t batch_size = 64;
};

struct PendingPoint {
    Point point;
    std::optional<std::string> text;
    std::optional<std::string> image;
    std::size_t line_number = 0;
};

const char* const kTextExtensions[] = {".txt", ".md", ".markdown", ".rst", ".org"};
const char* const kImageExtensions[] = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"};

bool has_extension(const std::filesystem::path& path, std::span<const char* const> extensions) {
    std::string ext = path.extension().string();
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    for (const char* candidate : extensions) {
        if (ext == candidate) return true;
    }
    return false;
}

PendingPoint parse_line(const nlohmann::json& line, const std::string& where) {
    if (!line.is_object()) throw Error(ErrorCode::invalid_argument, where + ": expected a JSON object");
    PendingPoint pending;
    nlohmann::json body = line;
    if (line.contains("text")) {
        if (!line["text"].is_string()) throw Error(ErrorCode::invalid_argument, where + ": text: expected a string");
        pending.text = line["text"].get<std::string>();
    }
    if (line.contains("image")) {
        if (!line["image"].is_string()) throw Error(ErrorCode::invalid_argument, where + ": image: expected a path");
        pending.image = line["image"].get<std::string>();
    }
    if (pending.text && pending.image) {
        throw Error(ErrorCode::invalid_argument, where + ": give either text or image, not both");
    }
    if (!body.contains("id")) {
        if (!pending.text && !pending.image) {
            throw Error(ErrorCode::invalid_argument, where + ": id: missing (needed when there is no text or image)");
        }
        body["id"] = content_id(pending.text ? "text:" + *pending.text : "image:" + *pending.image).to_string();
    }
    try {
        pending.point = Point::from_json(body);
    } catch (const Error& err) {
        throw err.with_context(where);
    }
    if (pending.text && !pending.point.payload.contains("text")) pending.point.payload["text"] = *pending.text;
    if (pending.image && !pending.point.payload.contains("image")) pending.point.payload["image"] = *pending.image;
    if (pending.point.vectors.empty() && !pending.text && !pending.image) {
        throw Error(ErrorCode::invalid_argument, where + ": needs vector, vectors, text or image");
    }
    return pending;
}

std::vector<PendingPoint> read_jsonl(std::istream& in, const std::string& source) {
    std::vector<PendingPoint> out;
    std::string text;
    std::size_t line_number = 0;
    while (std::getline(in, text)) {
        ++line_number;
        if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = source + ":" + std::to_string(line_number);
        const auto line = nlohmann::json::parse(text, nullptr, false);
        if (line.is_discarded()) throw Error(ErrorCode::invalid_argument, where + ": not valid JSON");
        out.push_back(parse_line(line, where));
        out.back().line_number = line_number;
    }
    return out;
}

std::vector<PendingPoint> read_folder(const std::filesystem::path& dir) {
    if (!std::filesystem::is_directory(dir)) throw Error(ErrorCode::not_found, "--dir '" + dir.string() + "': not a directory");
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<PendingPoint> out;
    for (const auto& file : files) {
        nlohmann::json line = {{"payload", {{"path", file.string()}}}};
        if (has_extension(file, kTextExtensions)) {
            std::ifstream in(file, std::ios::binary);
            std::stringstream content;
            content << in.rdbuf();
            line["text"] = content.str();
            line["id"] = content_id("file:" + file.string()).to_string();
        } else if (has_extension(file, kImageExtensions)) {
            line["image"] = file.string();
            line["id"] = content_id("file:" + file.string()).to_string();
        } else {
            continue;
        }
        out.push_back(parse_line(line, file.string()));
    }
    return out;
}

void run(const UpsertOptions& options) {
    auto store = open_store(options.store);
    auto collection = store->collection(options.collection);
    std::vector<PendingPoint> pending;
    if (!options.dir.empty()) {
        pending = read_folder(options.dir);
    } else if (options.input.empty() || options.input == "-") {
        pending = read_jsonl(std::cin, "<stdin>");
    } else {
        std::ifstream in(options.input);
        if (!in) throw Error(ErrorCode::not_found, "--input '" + options.input + "': cannot open");
        pending = read_jsonl(in, options.input);
    }
    CollectionEmbedder embedder(collection->config());
    std::size_t texts = 0, images = 0, upserted = 0;
    std::uint64_t operation_id = 0;
    const std::size_t batch = std::max<std::size_t>(options.batch_size, 1);
    for (std::size_t first = 0; first < pending.size(); first += batch) {
        const std::size_t end = std::min(pending.size(), first + batch);
        std::vector<std::size_t> text_rows, image_rows;
        std::vector<std::string> text_inputs, image_inputs;
        for (std::size_t idx = first; idx < end; ++idx) {
            if (pending[idx].text) {
                text_rows.push_back(idx);
                text_inputs.push_back(*pending[idx].text);
            } else if (pending[idx].image) {
                image_rows.push_back(idx);
                image_inputs.push_back(*pending[idx].image);
            }
        }
        if (!text_rows.empty()) {
            const std::string vector = embedder.vector_for(Modality::text, options.text_vector);
            const Matrix rows = embedder.embed_texts(vector, text_inputs, InputKind::passage);
            for (std::size_t row = 0; row < text_rows.size(); ++row) {
                const auto values = rows.row(row);
                pending[text_rows[row]].point.vectors[vector].assign(values.begin(), values.end());
            }
            texts += text_rows.size();
        }
        if (!image_rows.empty()) {
            const std::string vector = embedder.vector_for(Modality::image, options.image_vector);
            const Matrix rows = embedder.embed_images(vector, image_inputs);
            for (std::size_t row = 0; row < image_rows.size(); ++row) {
                const auto values = rows.row(row);
                pending[image_rows[row]].point.vectors[vector].assign(values.begin(), values.end());
            }
            images += image_rows.size();
        }
        std::vector<Point> points;
        for (std::size_t idx = first; idx < end; ++idx) points.push_back(std::move(pending[idx].point));
        operation_id = collection->upsert(points).operation_id;
        upserted += points.size();
    }
    print_json_line({{"collection", options.collection},
                     {"upserted", upserted},
                     {"embedded_texts", texts},
                     {"embedded_images", images},
                     {"operation_id", operation_id}});
}

const bool registered = register_command({
    .name = "upsert",
    .order = 41,
    .setup =
        [](CLI::App& app) {
            auto options = std::make_shared<UpsertOptions>();
            auto* cmd = app.add_subcommand("upsert", "Insert or replace points from JSON Lines (vectors, or text/image to embed)");
            add_store_option(cmd, options->store);
            cmd->add_option("--collection,-c", options->collection, "Collection name")->required();
            auto* input = cmd->add_option("--input,-i", options->input, "JSON Lines file (default: stdin)");
            cmd->add_option("--dir", options->dir, "Upsert a folder: *.txt/*.md as texts, images as images")->excludes(input);
            cmd->add_option("--text-vector", options->text_vector, "Named vector texts are embedded into");
            cmd->add_option("--image-vector", options->image_vector, "Named vector images are embedded into");
            cmd->add_option("--batch-size", options->batch_size, "Points per write")->capture_default_str();
            cmd->callback([options] { run(*options); });
        },
});

}  // namespace

}  // namespace tessera::cli
