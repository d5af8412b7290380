// Library baseline for bench/server/run.sh: embeds the texts of requests.json (an array of
// requests, each an array of texts) with TextEmbedder::embed in large batches for a while and
// prints {"texts_per_second": ...} — the throughput the server's batching should approach.
// usage: tessera_server_baseline_bench MODEL_DIR requests.json SECONDS [THREADS]
#include <chrono>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "tessera/embedder.hpp"

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: " << argv[0] << " MODEL_DIR requests.json SECONDS [THREADS]\n";
        return 1;
    }
    try {
        tessera::EmbedderOptions options;
        if (argc > 4) options.thread_count = std::stoul(argv[4]);
        auto embedder = tessera::TextEmbedder::open(argv[1], options);
        std::ifstream in(argv[2]);
        const auto requests = nlohmann::json::parse(in);
        std::vector<std::string> texts;
        for (const auto& request : requests) {
            for (const auto& text : request) texts.push_back(text.get<std::string>());
        }
        const double seconds = std::stod(argv[3]);
        constexpr std::size_t kBatch = 256;
        std::size_t done = 0;
        std::size_t offset = 0;
        const auto started = std::chrono::steady_clock::now();
        double elapsed = 0;
        while (elapsed < seconds) {
            std::vector<std::string> batch;
            for (std::size_t idx = 0; idx < kBatch; ++idx) batch.push_back(texts[(offset + idx) % texts.size()]);
            offset += kBatch;
            const auto vectors = embedder->embed(batch);
            done += vectors.rows();
            elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        }
        std::cout << nlohmann::json({{"texts_per_second", double(done) / elapsed},
                                     {"texts", done},
                                     {"seconds", elapsed},
                                     {"batch", kBatch}})
                  << "\n";
    } catch (const tessera::Error& err) {
        std::cerr << "error: " << err.what() << "\n";
        return tessera::exit_code(err.code());
    }
    return 0;
}
