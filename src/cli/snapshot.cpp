// `tessera snapshot create|restore`: the whole store in one file, and back.
//
//   tessera snapshot create backup.tsnap            # {"snapshot":"backup.tsnap","bytes":1234567}
//   tessera snapshot restore backup.tsnap --store /new/store [--overwrite]
#include "cli/command.hpp"
#include "cli/store_common.hpp"

namespace tessera::cli {

namespace {

struct SnapshotOptions {
    StoreOption store;
    std::string file;
    bool overwrite = false;
};

void setup(CLI::App& app) {
    auto* group = app.add_subcommand("snapshot", "Write the whole store to one file, or restore one");
    group->require_subcommand(1);

    auto create = std::make_shared<SnapshotOptions>();
    auto* create_cmd = group->add_subcommand("create", "Checkpoint every collection and write them to FILE");
    add_store_option(create_cmd, create->store);
    create_cmd->add_option("file", create->file, "Snapshot file to write")->required();
    create_cmd->callback([create] {
        auto store = open_store(create->store);
        const std::uint64_t bytes = store->create_snapshot(create->file);
        print_json_line({{"snapshot", create->file}, {"bytes", bytes}, {"collections", store->list_collections()}});
    });

    auto restore = std::make_shared<SnapshotOptions>();
    auto* restore_cmd = group->add_subcommand("restore", "Unpack FILE into the store directory");
    add_store_option(restore_cmd, restore->store);
    restore_cmd->add_option("file", restore->file, "Snapshot file to read")->required()->check(CLI::ExistingFile);
    restore_cmd->add_flag("--overwrite", restore->overwrite, "Replace a non-empty store directory");
    restore_cmd->callback([restore] {
        const std::filesystem::path dir = restore->store.dir.empty() ? Store::default_dir() : std::filesystem::path(restore->store.dir);
        Store::restore_snapshot(restore->file, dir, restore->overwrite);
        print_json_line({{"restored", restore->file}, {"store", dir.string()}});
    });
}

const bool registered = register_command({.name = "snapshot", .order = 44, .setup = setup});

}  // namespace

}  // namespace tessera::cli
