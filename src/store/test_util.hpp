// Helpers shared by the store's tests: temporary directories and random data.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace tessera::store::testing {

// A fresh directory under the build tree (or /tmp), removed when the object dies.
class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("tessera-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

inline std::vector<float> random_vector(std::mt19937& rng, std::size_t dim, bool normalise = true) {
    std::normal_distribution<float> normal;
    std::vector<float> out(dim);
    double norm = 0;
    for (auto& x : out) {
        x = normal(rng);
        norm += double(x) * x;
    }
    if (normalise) {
        for (auto& x : out) x = float(x / std::sqrt(norm));
    }
    return out;
}

}  // namespace tessera::store::testing
