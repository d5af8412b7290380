// encode_batch throughput of one tokenizer.json over a JSON array of texts; prints one JSON
// object (texts/s, MB/s, a checksum of the ids) so compare.mjs can set it beside the reference.
//
//   tessera_tokenizers_peer_bench --tokenizer bert/tokenizer.json --texts texts.json --threads 2
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tessera/error.hpp"
#include "tessera/tokenizer.hpp"

int main(int argc, char** argv) {
    std::string tokenizer_path, texts_path;
    std::size_t threads = 0, repeat = 5;
    for (int idx = 1; idx + 1 < argc; idx += 2) {
        const std::string flag = argv[idx];
        const std::string value = argv[idx + 1];
        if (flag == "--tokenizer") tokenizer_path = value;
        else if (flag == "--texts") texts_path = value;
        else if (flag == "--threads") threads = std::stoul(value);
        else if (flag == "--repeat") repeat = std::max<std::size_t>(1, std::stoul(value));
        else {
            std::cerr << "unknown flag " << flag << "\n";
            return 2;
        }
    }
    if (tokenizer_path.empty() || texts_path.empty()) {
        std::cerr << "usage: tessera_tokenizers_peer_bench --tokenizer FILE --texts FILE [--threads N] [--repeat R]\n";
        return 2;
    }
    try {
        std::ifstream in(texts_path);
        const auto texts = nlohmann::json::parse(in).get<std::vector<std::string>>();
        std::size_t bytes = 0;
        for (const auto& text : texts) bytes += text.size();
        auto tokenizer = tessera::Tokenizer::from_file(tokenizer_path);
        tokenizer.set_truncation(std::nullopt);
        tokenizer.set_padding(std::nullopt);

        // Warm-up (also fills the BPE word cache, as the reference's is filled by its warm-up).
        auto encodings = tokenizer.encode_batch(texts, true, threads);
        std::vector<double> seconds;
        for (std::size_t run = 0; run < repeat; ++run) {
            const auto start = std::chrono::steady_clock::now();
            encodings = tokenizer.encode_batch(texts, true, threads);
            seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
        std::sort(seconds.begin(), seconds.end());
        const double median = seconds[seconds.size() / 2];
        std::uint64_t token_count = 0, checksum = 0;
        for (const auto& e : encodings) {
            token_count += e.ids.size();
            for (std::size_t k = 0; k < e.ids.size(); ++k) {
                checksum = (checksum * 31 + static_cast<std::uint64_t>(e.ids[k]) + k) % 1000000007ull;
            }
        }
        nlohmann::json out;
        out["impl"] = "tessera";
        out["tokenizer"] = tokenizer_path;
        out["threads"] = threads;
        out["texts"] = texts.size();
        out["bytes"] = bytes;
        out["tokens"] = token_count;
        out["checksum"] = checksum;
        out["median_seconds"] = median;
        out["texts_per_second"] = static_cast<double>(texts.size()) / median;
        out["mb_per_second"] = static_cast<double>(bytes) / 1e6 / median;
        std::cout << out.dump() << "\n";
    } catch (const std::exception& err) {
        std::cerr << "error: " << err.what() << "\n";
        return 1;
    }
    return 0;
}
