#include "server_process.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tessera::server_test {

namespace fs = std::filesystem;

fs::path binary_dir() { return TESSERA_BINARY_DIR; }
fs::path source_dir() { return TESSERA_SOURCE_DIR; }

fs::path scratch_dir(const std::string& name) {
    const fs::path dir = binary_dir() / "tests/server/scratch" / (name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

namespace {

// Runs argv to completion; returns the exit status and stdout, stderr into `err`.
int run_command(const std::vector<std::string>& argv, std::string& out, std::string& err) {
    const fs::path dir = binary_dir() / "tests/server/scratch";
    fs::create_directories(dir);
    static std::mutex counter_mutex;
    static int counter = 0;
    int serial = 0;
    {
        std::lock_guard lock(counter_mutex);
        serial = counter++;
    }
    const fs::path out_file = dir / ("cmd-" + std::to_string(::getpid()) + "-" + std::to_string(serial) + ".out");
    const fs::path err_file = dir / ("cmd-" + std::to_string(::getpid()) + "-" + std::to_string(serial) + ".err");
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int out_fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int err_fd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        std::vector<char*> args;
        for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        std::perror("execvp");
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::ifstream out_in(out_file), err_in(err_file);
    std::stringstream out_text, err_text;
    out_text << out_in.rdbuf();
    err_text << err_in.rdbuf();
    out = out_text.str();
    err = err_text.str();
    fs::remove(out_file);
    fs::remove(err_file);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace

const fs::path& generated_model() {
    static const fs::path dir = [] {
        const fs::path model_dir = binary_dir() / "tests/server/model-bert-tiny";
        if (!fs::exists(model_dir / "model.safetensors")) {
            fs::remove_all(model_dir);
            std::string out, err;
            const int status = run_command({(binary_dir() / "tessera-make-model").string(), "--arch", "bert",
                                            "--shape", "tiny", "--seed", "11", "--prompt", "query=query: ",
                                            model_dir.string()},
                                           out, err);
            if (status != 0) throw std::runtime_error("tessera-make-model failed: " + err);
        }
        return model_dir;
    }();
    return dir;
}

ServerProcess::ServerProcess(std::vector<std::string> args) {
    static int serial = 0;
    stderr_file_ = binary_dir() / "tests/server/scratch" /
                   ("serve-" + std::to_string(::getpid()) + "-" + std::to_string(serial++) + ".log");
    fs::create_directories(stderr_file_.parent_path());
    int out_pipe[2];
    if (::pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> argv = {(binary_dir() / "tessera").string(), "serve", "--port", "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
        ::dup2(out_pipe[1], 1);
        const int err_fd = ::open(stderr_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(err_fd, 2);
        ::close(out_pipe[0]);
        std::vector<char*> cargs;
        for (const auto& arg : argv) cargs.push_back(const_cast<char*>(arg.c_str()));
        cargs.push_back(nullptr);
        ::execv(cargs[0], cargs.data());
        std::perror("execv");
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    // The first stdout line is {"listening": "...", "port": N, ...}.
    std::string line;
    char ch = 0;
    while (::read(out_pipe[0], &ch, 1) == 1 && ch != '\n') line += ch;
    ::close(out_pipe[0]);
    try {
        port_ = nlohmann::json::parse(line).at("port").get<int>();
    } catch (const std::exception&) {
        terminate();
        throw std::runtime_error("tessera serve did not start (stdout '" + line + "'): " + stderr_text());
    }
}

ServerProcess::~ServerProcess() {
    if (!exited_) terminate();
}

httplib::Client ServerProcess::client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(60, 0);
    client.set_connection_timeout(5, 0);
    return client;
}

bool ServerProcess::running() {
    if (exited_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        return false;
    }
    return true;
}

int ServerProcess::terminate() {
    if (exited_) return exit_status_;
    ::kill(pid_, SIGTERM);
    int status = 0;
    // A graceful stop takes milliseconds here; a server still alive after 20 s is hung: kill it so
    // the suite goes on, and report it as killed (-9).
    bool reaped = false;
    for (int waited_ms = 0; waited_ms < 20'000 && !reaped; waited_ms += 20) {
        reaped = ::waitpid(pid_, &status, WNOHANG) == pid_;
        if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!reaped) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
    }
    exited_ = true;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return exit_status_;
}

std::string ServerProcess::stderr_text() const {
    std::ifstream in(stderr_file_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

nlohmann::json run_node(const std::string& script, const std::vector<std::string>& args) {
    const fs::path node_modules = source_dir() / "tests/server/node_modules";
    if (!fs::exists(node_modules / "openai") || !fs::exists(node_modules / "ollama") ||
        !fs::exists(node_modules / "@qdrant/js-client-rest")) {
        ADD_FAILURE() << "the npm clients are not installed in " << node_modules
                      << "; run: npm ci --prefix " << (source_dir() / "tests/server").string();
        return nullptr;
    }
    std::vector<std::string> argv = {"node", (source_dir() / "tests/server/clients" / script).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out, err;
    const int status = run_command(argv, out, err);
    if (status != 0) {
        ADD_FAILURE() << script << " exited with " << status << ":\n" << err << out;
        return nullptr;
    }
    try {
        return nlohmann::json::parse(out);
    } catch (const std::exception& parse_error) {
        ADD_FAILURE() << script << " printed no JSON (" << parse_error.what() << "):\n" << out << err;
        return nullptr;
    }
}

std::string write_json(const std::string& name, const nlohmann::json& value) {
    static const fs::path dir = scratch_dir("inputs");
    const fs::path file = dir / name;
    std::ofstream(file) << value.dump();
    return file.string();
}

double max_abs_diff(std::span<const float> lhs, std::span<const float> rhs) {
    if (lhs.size() != rhs.size()) return std::numeric_limits<double>::infinity();
    double worst = 0;
    for (std::size_t idx = 0; idx < lhs.size(); ++idx) {
        worst = std::max(worst, std::abs(double(lhs[idx]) - double(rhs[idx])));
    }
    return worst;
}

std::vector<float> to_floats(const nlohmann::json& array) {
    std::vector<float> out;
    for (const auto& value : array) out.push_back(value.get<float>());
    return out;
}

}  // namespace tessera::server_test
