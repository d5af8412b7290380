// `tessera pull --archive`: one model's cache entry as a tar, to unpack into another cache.
#include <algorithm>
#include <fstream>
#include <set>

#include "hub/cache_layout.hpp"
#include "hub/tar_writer.hpp"
#include "tessera/hub.hpp"

namespace tessera {

namespace fs = std::filesystem;

void export_model_archive(std::string_view name, const fs::path& archive_path,
                          const HubOptions& options) {
    HubOptions offline = options;
    offline.offline = true;
    const fs::path snapshot = resolve_model(name, offline);  // not_found lists what is missing
    // Find which cached repo holds this snapshot: .../models--ORG--NAME/snapshots/<commit>.
    const fs::path repo_dir = snapshot.parent_path().parent_path();
    const std::string repo_folder = repo_dir.filename().string();
    const std::string commit = snapshot.filename().string();
    if (repo_folder.rfind("models--", 0) != 0) {
        throw Error(ErrorCode::invalid_argument,
                    "archive: '" + std::string(name) +
                        "' is a plain directory, not a cached model; use --export DIR instead");
    }

    hub::TarWriter tar(archive_path);
    tar.add_directory(repo_folder);
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(repo_dir / "refs", ec)) {
        if (!entry.is_regular_file(ec)) continue;
        std::string ref_name = entry.path().filename().string();
        std::ifstream in(entry.path());
        std::string ref_commit;
        std::getline(in, ref_commit);
        if (ref_commit == commit) tar.add_file(repo_folder + "/refs/" + ref_name, entry.path());
    }
    std::set<std::string> blobs;
    const std::string snapshot_prefix = repo_folder + "/snapshots/" + commit;
    tar.add_directory(repo_folder + "/snapshots/" + commit);
    std::vector<fs::directory_entry> entries;
    for (const auto& entry : fs::recursive_directory_iterator(snapshot, ec)) entries.push_back(entry);
    std::sort(entries.begin(), entries.end());
    for (const auto& entry : entries) {
        const std::string relative = entry.path().lexically_relative(snapshot).generic_string();
        const std::string member = snapshot_prefix + "/" + relative;
        if (entry.is_symlink(ec)) {
            const std::string target = fs::read_symlink(entry.path()).generic_string();
            const fs::path blob = fs::weakly_canonical(entry.path().parent_path() / target);
            if (!hub::is_inside(blob, repo_dir / "blobs")) {
                throw Error(ErrorCode::corrupt, entry.path().string() +
                                                    ": refusing symlink that leads outside the cache");
            }
            blobs.insert(blob.filename().string());
            tar.add_symlink(member, target);
        } else if (entry.is_directory(ec)) {
            tar.add_directory(member);
        } else {
            tar.add_file(member, entry.path());
        }
    }
    if (!blobs.empty()) tar.add_directory(repo_folder + "/blobs");
    for (const auto& blob : blobs) tar.add_file(repo_folder + "/blobs/" + blob, repo_dir / "blobs" / blob);
    tar.finish();
}

}  // namespace tessera
