// How a subcommand joins the `tessera` CLI: each cli/<command>.cpp registers itself with
//
//   static const bool registered = tessera::cli::register_command({
//       .name = "embed", .order = 10,
//       .setup = [](CLI::App& app) { auto* cmd = app.add_subcommand("embed", "..."); ... }});
//
// so adding a command touches one file. Handlers run inside main()'s error boundary: a thrown
// tessera::Error becomes a message on stderr and the exit code of its ErrorCode.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace tessera::cli {

struct Command {
    std::string name;
    int order = 100;  // position in `tessera --help`
    std::function<void(CLI::App&)> setup;
};

bool register_command(Command command);
const std::vector<Command>& registered_commands();

// The exit code a handler asks main() to return (0 unless set).
void set_exit_code(int code);
int requested_exit_code();

}  // namespace tessera::cli
