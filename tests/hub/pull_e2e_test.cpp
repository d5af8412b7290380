// tessera::pull_model against a Hub-like server on loopback (fake_hub.hpp): fresh pulls, resume,
// checksum failures, auth, 404s, revisions, HF_ENDPOINT, offline, concurrency, hostile input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "fake_hub.hpp"
#include "model_writer.hpp"
#include "tessera/hub.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 rng(seed);
    std::string bytes(size, '\0');
    for (auto& byte : bytes) byte = static_cast<char>(rng() & 0xFF);
    return bytes;
}

// A small synthetic model repo: what the engine needs plus files tessera must skip.
std::map<std::string, std::string> synthetic_model(unsigned seed = 1) {
    return {
        {"config.json", R"({"model_type": "bert", "hidden_size": 32})"},
        {"tokenizer.json", R"({"version": "1.0", "model": {"type": "WordPiece"}})"},
        {"tokenizer_config.json", R"({"do_lower_case": true})"},
        {"model.safetensors", random_bytes(300000, seed)},
        {"modules.json",
         R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},)"
         R"({"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}])"},
        {"1_Pooling/config.json", R"({"word_embedding_dimension": 32, "pooling_mode_mean_tokens": true})"},
        {"onnx/model.onnx", random_bytes(5000, seed + 1)},
        {"pytorch_model.bin", random_bytes(5000, seed + 2)},
        {"README.md", "# a model\n"},
    };
}

const std::vector<std::string> kNeeded = {"1_Pooling/config.json", "config.json", "model.safetensors",
                                          "modules.json", "tokenizer.json", "tokenizer_config.json"};

class PullTest : public ::testing::Test {
protected:
    void SetUp() override {
        static int counter = 0;
        root_ = fs::temp_directory_path() /
                ("tessera-hub-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
        fs::remove_all(root_);
        fs::create_directories(root_);
        for (const char* name : {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN", "HF_ENDPOINT",
                                 "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN_PATH"}) {
            ::unsetenv(name);
        }
        ::setenv("HF_HOME", (root_ / "hf-home").c_str(), 1);
    }
    void TearDown() override {
        ::unsetenv("HF_HOME");
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    HubOptions options() const {
        HubOptions options;
        options.cache_dir = cache_dir();
        options.endpoint = hub_.endpoint();
        options.show_progress = false;
        return options;
    }
    fs::path cache_dir() const { return root_ / "cache"; }
    fs::path repo_dir(const std::string& folder) const { return cache_dir() / folder; }

    fs::path root_;
    testing::FakeHub hub_;
};

TEST_F(PullTest, FreshPullInstallsOnlyNeededFilesAsBlobSymlinks) {
    auto files = synthetic_model();
    const std::string commit = hub_.add_repo("acme/mini", files);

    PullResult pulled = pull_model("acme/mini", options());

    EXPECT_EQ(pulled.repo_id, "acme/mini");
    EXPECT_EQ(pulled.revision, commit);
    std::vector<std::string> got = pulled.files;
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, kNeeded);
    const fs::path snapshot = repo_dir("models--acme--mini") / "snapshots" / commit;
    EXPECT_EQ(pulled.snapshot_dir, snapshot);
    std::uint64_t expected_bytes = 0;
    for (const auto& name : kNeeded) {
        const fs::path link = snapshot / name;
        ASSERT_TRUE(fs::is_symlink(link)) << name;
        EXPECT_EQ(read_file(link), files[name]) << name;
        const std::string target = fs::read_symlink(link).generic_string();
        const bool lfs = name == "model.safetensors" || name == "tokenizer.json";
        const std::string etag = lfs ? testing::FakeHub::sha256(files[name]) : testing::FakeHub::git_sha1(files[name]);
        const std::string ups = name.find('/') != std::string::npos ? "../../../" : "../../";
        EXPECT_EQ(target, ups + "blobs/" + etag) << name;
        expected_bytes += files[name].size();
    }
    EXPECT_EQ(pulled.downloaded_bytes, expected_bytes);
    EXPECT_EQ(read_file(repo_dir("models--acme--mini") / "refs" / "main"), commit);  // no newline
    EXPECT_FALSE(fs::exists(snapshot / "onnx"));
    EXPECT_FALSE(fs::exists(snapshot / "pytorch_model.bin"));
    for (const auto& request : hub_.requests()) {
        EXPECT_THAT(request.path, Not(HasSubstr("onnx")));
        EXPECT_THAT(request.path, Not(HasSubstr("pytorch_model.bin")));
    }
    // No leftovers from the atomic install.
    for (const auto& entry : fs::recursive_directory_iterator(repo_dir("models--acme--mini"))) {
        EXPECT_THAT(entry.path().string(), Not(HasSubstr(".incomplete")));
        EXPECT_THAT(entry.path().string(), Not(HasSubstr(".tessera-tmp")));
    }

    // Offline resolution finds the same snapshot without any request.
    hub_.clear_log();
    HubOptions offline = options();
    offline.offline = true;
    EXPECT_EQ(resolve_model("acme/mini", offline), snapshot);
    EXPECT_EQ(hub_.request_count(), 0u);

    // A second pull downloads nothing (blobs are reused) and yields the same snapshot.
    PullResult again = pull_model("acme/mini", options());
    EXPECT_EQ(again.downloaded_bytes, 0u);
    EXPECT_EQ(hub_.cdn_gets_of("model.safetensors"), 0);
}

TEST_F(PullTest, ResumesWithRangeAfterTheServerCutsTheTransfer) {
    auto files = synthetic_model();
    hub_.add_repo("acme/mini", files);
    hub_.cut_transfers("model.safetensors", 1, 120000);

    PullResult pulled = pull_model("acme/mini", options());

    EXPECT_EQ(read_file(pulled.snapshot_dir / "model.safetensors"), files["model.safetensors"]);
    EXPECT_EQ(hub_.cdn_gets_of("model.safetensors"), 2);
    std::vector<std::string> ranges;
    for (const auto& request : hub_.requests()) {
        if (request.server == "cdn") ranges.push_back(request.range);
    }
    ASSERT_EQ(ranges.size(), 3u);  // tokenizer.json, the cut weights, the resumed weights
    EXPECT_THAT(ranges, ::testing::Contains("bytes=120000-"));
}

TEST_F(PullTest, ResumesAPartialFileLeftByAnEarlierRun) {
    auto files = synthetic_model();
    hub_.add_repo("acme/mini", files);
    const std::string weights = files["model.safetensors"];
    const fs::path blobs = repo_dir("models--acme--mini") / "blobs";
    fs::create_directories(blobs);
    std::ofstream(blobs / (testing::FakeHub::sha256(weights) + ".incomplete"), std::ios::binary)
        << weights.substr(0, 200000);

    PullResult pulled = pull_model("acme/mini", options());

    EXPECT_EQ(read_file(pulled.snapshot_dir / "model.safetensors"), weights);
    bool saw_range = false;
    for (const auto& request : hub_.requests()) saw_range |= request.range == "bytes=200000-";
    EXPECT_TRUE(saw_range);
    // Only the missing tail of the weights was transferred (plus the small files).
    std::uint64_t small_files = 0;
    for (const auto& name : kNeeded) {
        if (name != "model.safetensors") small_files += files[name].size();
    }
    EXPECT_EQ(pulled.downloaded_bytes, small_files + weights.size() - 200000);
}

TEST_F(PullTest, RestartsWhenTheServerIgnoresRange) {
    auto files = synthetic_model();
    hub_.add_repo("acme/mini", files);
    const std::string weights = files["model.safetensors"];
    const fs::path blobs = repo_dir("models--acme--mini") / "blobs";
    fs::create_directories(blobs);
    std::ofstream(blobs / (testing::FakeHub::sha256(weights) + ".incomplete"), std::ios::binary)
        << weights.substr(0, 1000);
    hub_.ignore_range(true);

    PullResult pulled = pull_model("acme/mini", options());
    EXPECT_EQ(read_file(pulled.snapshot_dir / "model.safetensors"), weights);
    // One GET: the 200 answer to "Range: bytes=1000-" replaced the partial file in place.
    EXPECT_EQ(hub_.cdn_gets_of("model.safetensors"), 1);
}

TEST_F(PullTest, Sha256MismatchIsNotInstalled) {
    auto files = synthetic_model();
    const std::string commit = hub_.add_repo("acme/mini", files);
    hub_.corrupt("model.safetensors");

    try {
        (void)pull_model("acme/mini", options());
        FAIL() << "a corrupted download was accepted";
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::corrupt);
        EXPECT_THAT(err.what(), HasSubstr("model.safetensors"));
        EXPECT_THAT(err.what(), HasSubstr("SHA-256 mismatch"));
        EXPECT_THAT(err.what(), HasSubstr(testing::FakeHub::sha256(files["model.safetensors"])));
    }
    const fs::path blob = repo_dir("models--acme--mini") / "blobs" / testing::FakeHub::sha256(files["model.safetensors"]);
    EXPECT_FALSE(fs::exists(blob));
    EXPECT_FALSE(fs::exists(fs::path(blob.string() + ".incomplete")));
    EXPECT_FALSE(fs::exists(repo_dir("models--acme--mini") / "snapshots" / commit / "model.safetensors"));
    EXPECT_FALSE(fs::exists(repo_dir("models--acme--mini") / "refs" / "main"));
    HubOptions offline = options();
    offline.offline = true;
    EXPECT_THROW((void)resolve_model("acme/mini", offline), Error);
}

TEST_F(PullTest, GitEtagMismatchOfASmallFileIsRefused) {
    hub_.add_repo("acme/mini", synthetic_model());
    hub_.override_etag("config.json", std::string(40, 'a'));
    try {
        (void)pull_model("acme/mini", options());
        FAIL() << "expected a checksum error";
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::corrupt);
        EXPECT_THAT(err.what(), HasSubstr("config.json: git SHA-1 mismatch"));
    }
}

TEST_F(PullTest, GatedModelNeedsTheTokenWhichNeverLeaksOrReachesTheCdn) {
    const std::string token = "hf_secretTOKEN1234567890";
    hub_.add_repo("acme/gated", synthetic_model());
    hub_.set_gated("acme/gated", token);

    try {
        (void)pull_model("acme/gated", options());
        FAIL() << "a gated model was pulled without a token";
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::unauthenticated);
        EXPECT_THAT(err.what(), HasSubstr("HF_TOKEN"));
    }

    HubOptions wrong = options();
    wrong.token = "hf_wrongTOKENabcdef";
    try {
        (void)pull_model("acme/gated", wrong);
        FAIL() << "a wrong token was accepted";
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::unauthenticated);
        EXPECT_THAT(err.what(), Not(HasSubstr("hf_wrongTOKENabcdef")));
    }

    hub_.clear_log();
    HubOptions with_token = options();
    with_token.show_progress = true;  // the progress output must not carry the token either
    with_token.token = token;
    ::testing::internal::CaptureStderr();
    PullResult pulled = pull_model("acme/gated", with_token);
    const std::string stderr_text = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(pulled.files.size(), kNeeded.size());
    EXPECT_THAT(stderr_text, Not(HasSubstr(token)));
    EXPECT_THAT(stderr_text, HasSubstr("model.safetensors"));  // a progress line per file
    for (const auto& request : hub_.requests()) {
        if (request.server == "hub") EXPECT_EQ(request.authorization, "Bearer " + token) << request.path;
        if (request.server == "cdn") EXPECT_EQ(request.authorization, "") << request.path;
    }
}

TEST_F(PullTest, TokenFromTheEnvironment) {
    hub_.add_repo("acme/gated", synthetic_model());
    hub_.set_gated("acme/gated", "hf_envtoken");
    ::setenv("HF_TOKEN", "hf_envtoken", 1);
    EXPECT_NO_THROW((void)pull_model("acme/gated", options()));
    ::unsetenv("HF_TOKEN");
}

TEST_F(PullTest, UnknownModelAndRevisionAreNotFound) {
    hub_.add_repo("acme/mini", synthetic_model());
    try {
        (void)pull_model("acme/nope", options());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
        EXPECT_THAT(err.what(), HasSubstr("acme/nope"));
    }
    try {
        (void)pull_model("acme/mini@v9", options());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
        EXPECT_THAT(err.what(), HasSubstr("revision 'v9'"));
        EXPECT_THAT(err.what(), HasSubstr("revision not found"));
    }
    EXPECT_FALSE(fs::exists(repo_dir("models--acme--nope") / "snapshots"));
}

TEST_F(PullTest, PinnedRevisionsByTagAndCommit) {
    auto v1 = synthetic_model(1);
    v1["config.json"] = R"({"model_type": "bert", "version": 1})";
    auto v2 = synthetic_model(2);
    const std::string commit1 = hub_.add_repo("acme/mini", v1);
    hub_.tag("acme/mini", "v1.0", commit1);
    const std::string commit2 = hub_.add_repo("acme/mini", v2);

    PullResult tagged = pull_model("acme/mini@v1.0", options());
    EXPECT_EQ(tagged.revision, commit1);
    EXPECT_EQ(read_file(tagged.snapshot_dir / "config.json"), v1["config.json"]);
    EXPECT_EQ(read_file(repo_dir("models--acme--mini") / "refs" / "v1.0"), commit1);
    EXPECT_FALSE(fs::exists(repo_dir("models--acme--mini") / "refs" / "main"));

    PullResult latest = pull_model("acme/mini", options());
    EXPECT_EQ(latest.revision, commit2);
    EXPECT_EQ(read_file(latest.snapshot_dir / "model.safetensors"), v2["model.safetensors"]);

    PullResult by_commit = pull_model("acme/mini@" + commit1, options());
    EXPECT_EQ(by_commit.snapshot_dir, tagged.snapshot_dir);
    EXPECT_FALSE(fs::exists(repo_dir("models--acme--mini") / "refs" / commit1));

    HubOptions offline = options();
    offline.offline = true;
    EXPECT_EQ(resolve_model("acme/mini@v1.0", offline), tagged.snapshot_dir);
    EXPECT_EQ(resolve_model("acme/mini@" + commit1, offline), tagged.snapshot_dir);
    EXPECT_EQ(resolve_model("acme/mini", offline), latest.snapshot_dir);
}

TEST_F(PullTest, HfEndpointFromTheEnvironmentWithTrailingSlash) {
    hub_.add_repo("acme/mini", synthetic_model());
    HubOptions no_endpoint = options();
    no_endpoint.endpoint.reset();
    ::setenv("HF_ENDPOINT", (hub_.endpoint() + "/").c_str(), 1);
    PullResult pulled = pull_model("acme/mini", no_endpoint);
    ::unsetenv("HF_ENDPOINT");
    EXPECT_EQ(pulled.files.size(), kNeeded.size());
    EXPECT_GT(hub_.request_count(), 0u);
    for (const auto& request : hub_.requests()) EXPECT_THAT(request.path, Not(HasSubstr("//")));
}

TEST_F(PullTest, OfflineNeverConnects) {
    hub_.add_repo("acme/mini", synthetic_model());
    HubOptions offline = options();
    offline.offline = true;
    try {
        (void)pull_model("acme/mini", offline);
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::unavailable);
        EXPECT_THAT(err.what(), HasSubstr("offline"));
        EXPECT_THAT(err.what(), HasSubstr("tessera pull acme/mini"));
    }
    ::setenv("HF_HUB_OFFLINE", "1", 1);
    EXPECT_THROW((void)pull_model("acme/mini", options()), Error);
    ::unsetenv("HF_HUB_OFFLINE");
    EXPECT_EQ(hub_.request_count(), 0u);

    (void)pull_model("acme/mini", options());
    hub_.clear_log();
    ::setenv("HF_HUB_OFFLINE", "true", 1);
    PullResult cached = pull_model("acme/mini", options());
    ::unsetenv("HF_HUB_OFFLINE");
    EXPECT_EQ(cached.downloaded_bytes, 0u);
    EXPECT_EQ(cached.files.size(), kNeeded.size());
    EXPECT_EQ(hub_.request_count(), 0u);
}

TEST_F(PullTest, TwoConcurrentPullsOfTheSameModel) {
    auto files = synthetic_model();
    hub_.add_repo("acme/mini", files);
    hub_.cut_transfers("model.safetensors", 1, 100000);  // makes the first pull slower
    std::vector<PullResult> results(2);
    std::vector<std::string> errors(2);
    std::vector<std::thread> threads;
    for (int idx = 0; idx < 2; ++idx) {
        threads.emplace_back([&, idx] {
            try {
                results[idx] = pull_model("acme/mini", options());
            } catch (const std::exception& err) {
                errors[idx] = err.what();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(errors[0], "");
    EXPECT_EQ(errors[1], "");
    EXPECT_EQ(results[0].snapshot_dir, results[1].snapshot_dir);
    EXPECT_EQ(read_file(results[0].snapshot_dir / "model.safetensors"), files["model.safetensors"]);
    // The repo lock serialises them: the weights were fetched once (one cut + one resume).
    EXPECT_EQ(hub_.cdn_gets_of("model.safetensors"), 2);
    EXPECT_EQ(results[0].downloaded_bytes + results[1].downloaded_bytes,
              results[0].downloaded_bytes > 0 ? results[0].downloaded_bytes : results[1].downloaded_bytes);
}

TEST_F(PullTest, HostileFileNamesAreRefusedBeforeAnyDownload) {
    for (const std::string hostile : {"../escape.json", "/etc/passwd", "1_Pooling/../../x.json"}) {
        testing::FakeHub hub;
        hub.add_repo("acme/evil", synthetic_model());
        hub.add_sibling_name("acme/evil", hostile);
        HubOptions opts = options();
        opts.endpoint = hub.endpoint();
        try {
            (void)pull_model("acme/evil", opts);
            FAIL() << hostile;
        } catch (const Error& err) {
            EXPECT_EQ(err.code(), ErrorCode::invalid_argument) << hostile;
            EXPECT_THAT(err.what(), HasSubstr("refusing file name '" + hostile + "'"));
        }
        EXPECT_EQ(hub.cdn_gets_of("model.safetensors"), 0);
        EXPECT_FALSE(fs::exists(repo_dir("models--acme--evil") / "blobs"));
    }
    EXPECT_FALSE(fs::exists(cache_dir() / "escape.json"));
}

TEST_F(PullTest, HostileEtagIsRefused) {
    hub_.add_repo("acme/mini", synthetic_model());
    hub_.override_etag("config.json", "../../../../tmp/owned");
    try {
        (void)pull_model("acme/mini", options());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::corrupt);
        EXPECT_THAT(err.what(), HasSubstr("ETag"));
    }
}

TEST_F(PullTest, RetriesAServerErrorAndFollowsARenamedRepo) {
    hub_.add_repo("acme/new-name", synthetic_model());
    hub_.rename("acme/old-name", "acme/new-name");
    hub_.fail_info(2);
    PullResult pulled = pull_model("acme/old-name", options());
    EXPECT_EQ(pulled.files.size(), kNeeded.size());
}

TEST_F(PullTest, RepositoryWithoutSafetensorsIsUnsupported) {
    auto files = synthetic_model();
    files.erase("model.safetensors");
    hub_.add_repo("acme/pickles", files);
    try {
        (void)pull_model("acme/pickles", options());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::unsupported);
        EXPECT_THAT(err.what(), HasSubstr("no safetensors"));
    }
}

TEST_F(PullTest, UnreachableEndpointIsUnavailable) {
    HubOptions opts = options();
    opts.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
    try {
        (void)pull_model("acme/mini", opts);
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::unavailable);
    }
}

TEST_F(PullTest, ShardedGeneratedModelRegistryAliasAndExport) {
    // A real model from the test-model writer, two shards, published under a registry name.
    tools::ModelSpec spec = tools::spec_for_shape("tiny", "bert");
    spec.shard_count = 2;
    const fs::path source = root_ / "generated";
    tools::write_model(source, spec);
    hub_.add_repo_from_dir("sentence-transformers/all-MiniLM-L6-v2", source);

    PullResult pulled = pull_model("all-minilm", options());  // the Ollama alias
    EXPECT_EQ(pulled.repo_id, "sentence-transformers/all-MiniLM-L6-v2");
    for (const auto& entry : fs::recursive_directory_iterator(source)) {
        if (!entry.is_regular_file()) continue;
        const std::string relative = fs::relative(entry.path(), source).generic_string();
        if (relative.ends_with(".safetensors") || relative.ends_with(".json")) {
            EXPECT_EQ(read_file(pulled.snapshot_dir / relative), read_file(entry.path())) << relative;
        }
    }
    EXPECT_TRUE(fs::exists(pulled.snapshot_dir / "model.safetensors.index.json"));

    HubOptions offline = options();
    offline.offline = true;
    EXPECT_EQ(resolve_model("all-MiniLM-L6-v2", offline), pulled.snapshot_dir);

    // Plain directory export: regular files with the same bytes.
    const fs::path exported = root_ / "export";
    export_model_directory(pulled.snapshot_dir, exported);
    for (const auto& name : pulled.files) {
        EXPECT_FALSE(fs::is_symlink(exported / name)) << name;
        EXPECT_EQ(read_file(exported / name), read_file(pulled.snapshot_dir / name)) << name;
    }
    EXPECT_EQ(resolve_model(exported.string(), offline), exported);

    // Archive export, unpacked by tar into a fresh cache, resolves by name with no network.
    const fs::path archive = root_ / "model.tar";
    export_model_archive("all-minilm", archive, offline);
    const fs::path other_cache = root_ / "other-cache";
    fs::create_directories(other_cache);
    const std::string command = "tar -xf '" + archive.string() + "' -C '" + other_cache.string() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
    HubOptions other = offline;
    other.cache_dir = other_cache;
    const fs::path unpacked = resolve_model("sentence-transformers/all-MiniLM-L6-v2", other);
    EXPECT_TRUE(fs::is_symlink(unpacked / "config.json"));
    for (const auto& name : pulled.files) {
        EXPECT_EQ(read_file(unpacked / name), read_file(pulled.snapshot_dir / name)) << name;
    }

    // Listing and removal.
    auto cached = list_cached_models(options());
    ASSERT_EQ(cached.size(), 1u);
    EXPECT_EQ(cached[0].repo_id, "sentence-transformers/all-MiniLM-L6-v2");
    EXPECT_TRUE(cached[0].complete);
    EXPECT_THAT(cached[0].refs, UnorderedElementsAre("main"));
    EXPECT_GT(cached[0].size_bytes, 0u);
    EXPECT_EQ(remove_cached_model("all-minilm", options()), cached[0].size_bytes);
    EXPECT_FALSE(fs::exists(repo_dir("models--sentence-transformers--all-MiniLM-L6-v2")));
    EXPECT_THROW((void)resolve_model("all-minilm", offline), Error);
    EXPECT_THROW((void)remove_cached_model("all-minilm", options()), Error);
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

// TLS: verification is always on; a private CA is trusted only through --ca-bundle.
TEST(PullTlsTest, SelfSignedHubNeedsTheCaBundle) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("tessera-hub-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" +
        (dir / "key.pem").string() + "' -out '" + (dir / "cert.pem").string() + "' 2>/dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0) << "openssl could not make a test certificate";
    for (const char* name : {"HF_HUB_OFFLINE", "HF_TOKEN", "HF_ENDPOINT"}) ::unsetenv(name);

    testing::FakeHub hub(dir / "cert.pem", dir / "key.pem");
    hub.add_repo("acme/mini", synthetic_model());
    HubOptions options;
    options.cache_dir = dir / "cache";
    options.endpoint = hub.endpoint();
    options.show_progress = false;
    ASSERT_EQ(options.endpoint->rfind("https://", 0), 0u);

    try {
        (void)pull_model("acme/mini", options);
        FAIL() << "an untrusted certificate was accepted";
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::unavailable);
        EXPECT_THAT(err.what(), HasSubstr("--ca-bundle"));
    }
    // A verification failure is final: no request ever reached the server.
    EXPECT_EQ(hub.request_count(), 0u);

    options.ca_bundle = dir / "cert.pem";
    PullResult pulled = pull_model("acme/mini", options);
    EXPECT_EQ(read_file(pulled.snapshot_dir / "model.safetensors"), synthetic_model()["model.safetensors"]);
    fs::remove_all(dir);
}

}  // namespace
}  // namespace tessera
