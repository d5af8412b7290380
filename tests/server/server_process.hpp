// Test helpers: run `tessera serve` as a child process on a free loopback port, run Node client
// scripts, generate the test model, compare vectors.
//
//   ServerProcess server({"--model", "test=" + model_dir});     // waits until it listens
//   httplib::Client client = server.client();
//   auto output = run_node("openai_embed.mjs", {server.url() + "/v1", "test", "float", file});
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tessera::server_test {

std::filesystem::path binary_dir();
std::filesystem::path source_dir();
// A fresh directory under the build tree for this test binary.
std::filesystem::path scratch_dir(const std::string& name);

// The tiny BERT model the suite serves, written once by tessera-make-model (with a "query"
// prompt); its path.
const std::filesystem::path& generated_model();

class ServerProcess {
public:
    explicit ServerProcess(std::vector<std::string> args);
    ~ServerProcess();  // SIGTERM, then waits
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] httplib::Client client() const;
    [[nodiscard]] bool running();
    // Sends SIGTERM and returns the exit status (as waitpid's WEXITSTATUS, or -signal).
    int terminate();
    [[nodiscard]] std::string stderr_text() const;

private:
    pid_t pid_ = -1;
    int port_ = 0;
    std::filesystem::path stderr_file_;
    bool exited_ = false;
    int exit_status_ = 0;
};

// Runs `node tests/server/clients/SCRIPT ARGS...` and parses its stdout as JSON. Fails the test
// (with the script's stderr) on a non-zero exit; fails with install instructions when the npm
// clients are missing.
nlohmann::json run_node(const std::string& script, const std::vector<std::string>& args);

// Writes `value` to a file in the scratch directory and returns its path.
std::string write_json(const std::string& name, const nlohmann::json& value);

// max |a - b| over two vectors of the same size (infinity when sizes differ).
double max_abs_diff(std::span<const float> lhs, std::span<const float> rhs);
std::vector<float> to_floats(const nlohmann::json& array);

}  // namespace tessera::server_test
