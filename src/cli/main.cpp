#include <algorithm>
#include <iostream>

#include "cli/command.hpp"
#include "tessera/error.hpp"

namespace tessera::cli {

namespace {
std::vector<Command>& command_list() {
    static std::vector<Command> commands;
    return commands;
}
int g_exit_code = 0;
}  // namespace

bool register_command(Command command) {
    command_list().push_back(std::move(command));
    return true;
}

const std::vector<Command>& registered_commands() { return command_list(); }
void set_exit_code(int code) { g_exit_code = code; }
int requested_exit_code() { return g_exit_code; }

}  // namespace tessera::cli

int main(int argc, char** argv) {
    CLI::App app{"tessera: local-first embeddings, vector store and embedding server"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "tessera 0.1.0");
    auto commands = tessera::cli::registered_commands();
    std::sort(commands.begin(), commands.end(),
              [](const auto& a, const auto& b) { return a.order < b.order; });
    for (const auto& command : commands) command.setup(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& err) {
        return app.exit(err);
    } catch (const tessera::Error& err) {
        std::cerr << "tessera: error: " << err.what() << "\n";
        return tessera::exit_code(err.code());
    } catch (const std::exception& err) {
        std::cerr << "tessera: internal error: " << err.what() << "\n";
        return tessera::exit_code(tessera::ErrorCode::internal);
    }
    return tessera::cli::requested_exit_code();
}
