// Encode time against text length (1 to 10 MB of mixed text, and one long word): Google
// Benchmark fits the complexity, which should come out O(N).
//
//   build/bench/tokenizers/tessera_tokenizers_linear_bench --benchmark_repetitions=1
#include <benchmark/benchmark.h>

#include <string>

#include "tessera/tokenizer.hpp"

namespace {

const std::string kShared = TESSERA_SHARED_DIR;

const tessera::Tokenizer& tokenizer(int which) {
    static const char* files[] = {"bert-base-uncased/tokenizer.json", "clip-vit-base-patch32/tokenizer.json",
                                  "unigram-xlmr-style/tokenizer.json",
                                  "bytelevel-bpe-roberta-style/tokenizer.json"};
    static std::vector<tessera::Tokenizer> loaded = [] {
        std::vector<tessera::Tokenizer> out;
        for (const char* file : files) {
            auto t = tessera::Tokenizer::from_file(kShared + "/data/tokenizers/" + file);
            t.set_truncation(std::nullopt);
            t.set_padding(std::nullopt);
            out.push_back(std::move(t));
        }
        return out;
    }();
    return loaded[static_cast<std::size_t>(which)];
}

std::string mixed_text(std::size_t bytes) {
    static const std::string sentence =
        "The quick brown fox jumps over the lazy dog, naïve café résumé 日本語のテキスト 😀👍🏾 "
        "Привет мир 1,234.56 https://example.com/path?q=1 don't stop! ";
    std::string text;
    text.reserve(bytes + sentence.size());
    while (text.size() < bytes) text += sentence;
    return text;
}

std::string long_word(std::size_t bytes) {
    std::string text;
    text.reserve(bytes);
    const std::string letters = "tokenizationembeddings";
    while (text.size() < bytes) text += letters;
    return text;
}

void encode_mixed(benchmark::State& state) {
    const auto& tok = tokenizer(static_cast<int>(state.range(0)));
    const std::string text = mixed_text(static_cast<std::size_t>(state.range(1)) << 20);
    for (auto _ : state) benchmark::DoNotOptimize(tok.encode(text).ids.size());
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(text.size()));
    state.SetComplexityN(static_cast<std::int64_t>(text.size()));
}

void encode_long_word(benchmark::State& state) {
    const auto& tok = tokenizer(static_cast<int>(state.range(0)));
    const std::string text = long_word(static_cast<std::size_t>(state.range(1)) << 20);
    for (auto _ : state) benchmark::DoNotOptimize(tok.encode(text).ids.size());
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(text.size()));
    state.SetComplexityN(static_cast<std::int64_t>(text.size()));
}

void sizes(benchmark::internal::Benchmark* bench, int which) {
    for (int mb : {1, 2, 5, 10}) bench->Args({which, mb});
    bench->Unit(benchmark::kMillisecond)->Iterations(1)->Complexity(benchmark::oN);
}

}  // namespace

BENCHMARK(encode_mixed)->Name("bert_mixed")->Apply([](auto* b) { sizes(b, 0); });
BENCHMARK(encode_mixed)->Name("clip_mixed")->Apply([](auto* b) { sizes(b, 1); });
BENCHMARK(encode_mixed)->Name("unigram_mixed")->Apply([](auto* b) { sizes(b, 2); });
BENCHMARK(encode_mixed)->Name("roberta_mixed")->Apply([](auto* b) { sizes(b, 3); });
BENCHMARK(encode_long_word)->Name("clip_one_word")->Apply([](auto* b) { sizes(b, 1); });
BENCHMARK(encode_long_word)->Name("unigram_one_word")->Apply([](auto* b) { sizes(b, 2); });

BENCHMARK_MAIN();
