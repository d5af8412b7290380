// resolve_model against caches written here in the huggingface_hub layout (as Python tools do).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "hub/cache_layout.hpp"
#include "tessera/hub.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kCommit = "5c38ec7c405ec4b44b94cc5a9bb96e735b38267a";

class ResolveTest : public ::testing::Test {
protected:
    void SetUp() override {
        static int counter = 0;
        root_ = fs::temp_directory_path() /
                ("tessera-resolve-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
        fs::remove_all(root_);
        cache_ = root_ / "hub";
        repo_ = cache_ / "models--BAAI--bge-small-en-v1.5";
        for (const char* name : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME",
                                 "HF_HUB_OFFLINE"}) {
            ::unsetenv(name);
        }
    }
    void TearDown() override {
        for (const char* name : {"HF_HUB_CACHE", "HF_HOME"}) ::unsetenv(name);
        fs::remove_all(root_);
    }

    // Writes `file` as huggingface_hub does: content in blobs/, a relative symlink in the snapshot.
    void add_file(const std::string& file, const std::string& content, bool as_copy = false,
                  const std::string& commit = kCommit) {
        const std::string etag = std::to_string(std::hash<std::string>{}(file + content));
        fs::create_directories(repo_ / "blobs");
        std::ofstream(repo_ / "blobs" / etag, std::ios::binary) << content;
        const fs::path link = repo_ / "snapshots" / commit / file;
        fs::create_directories(link.parent_path());
        if (as_copy) {
            fs::copy_file(repo_ / "blobs" / etag, link);
            return;
        }
        std::string target = "../../blobs/" + etag;
        if (file.find('/') != std::string::npos) target = "../" + target;
        fs::create_symlink(target, link);
    }
    void write_ref(const std::string& name, const std::string& commit) {
        fs::create_directories(repo_ / "refs");
        std::ofstream(repo_ / "refs" / name) << commit;  // no newline, like huggingface_hub
    }
    void write_complete_model(bool as_copy = false) {
        add_file("config.json", R"({"model_type":"bert"})", as_copy);
        add_file("tokenizer.json", "{}", as_copy);
        add_file("model.safetensors", "weights", as_copy);
        add_file("modules.json",
                 R"([{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}])",
                 as_copy);
        add_file("1_Pooling/config.json", R"({"pooling_mode_cls_token":true})", as_copy);
        write_ref("main", kCommit);
    }
    HubOptions offline() const {
        HubOptions options;
        options.cache_dir = cache_;
        options.offline = true;
        return options;
    }
    fs::path snapshot() const { return repo_ / "snapshots" / kCommit; }

    fs::path root_, cache_, repo_;
};

TEST_F(ResolveTest, HubNameRegistryNameAndAliasesResolveToTheSnapshot) {
    write_complete_model();
    EXPECT_EQ(resolve_model("BAAI/bge-small-en-v1.5", offline()), snapshot());
    EXPECT_EQ(resolve_model("bge-small-en-v1.5", offline()), snapshot());
    EXPECT_EQ(resolve_model("qdrant/bge-small-en-v1.5-onnx-q", offline()), snapshot());
    EXPECT_EQ(resolve_model(std::string("BAAI/bge-small-en-v1.5@") + kCommit, offline()), snapshot());
    EXPECT_EQ(resolve_model(default_text_model(), offline()), snapshot());
}

TEST_F(ResolveTest, CacheDirectoryFromEnvironment) {
    write_complete_model();
    ::setenv("HF_HUB_CACHE", cache_.c_str(), 1);
    EXPECT_EQ(resolve_model("BAAI/bge-small-en-v1.5"), snapshot());
    ::unsetenv("HF_HUB_CACHE");
    ::setenv("HF_HOME", root_.c_str(), 1);  // HF_HOME/hub
    EXPECT_EQ(resolve_model("BAAI/bge-small-en-v1.5"), snapshot());
    EXPECT_EQ(hub_cache_dir(), root_ / "hub");
}

TEST_F(ResolveTest, TagsResolveThroughRefs) {
    write_complete_model();
    write_ref("v1.5", kCommit);
    EXPECT_EQ(resolve_model("BAAI/bge-small-en-v1.5@v1.5", offline()), snapshot());
    try {
        (void)resolve_model("BAAI/bge-small-en-v1.5@v9", offline());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
        EXPECT_THAT(err.what(), HasSubstr("revision 'v9'"));
        EXPECT_THAT(err.what(), HasSubstr("tessera pull BAAI/bge-small-en-v1.5@v9"));
    }
}

TEST_F(ResolveTest, CopiedFilesInsteadOfSymlinksWork) {
    write_complete_model(/*as_copy=*/true);
    EXPECT_EQ(resolve_model("BAAI/bge-small-en-v1.5", offline()), snapshot());
}

TEST_F(ResolveTest, ASingleSnapshotWithoutRefsIsUsed) {
    write_complete_model();
    fs::remove_all(repo_ / "refs");
    EXPECT_EQ(resolve_model("BAAI/bge-small-en-v1.5", offline()), snapshot());
}

TEST_F(ResolveTest, NotCachedListsTheFilesAndThePullCommand) {
    try {
        (void)resolve_model("bge-small-en-v1.5", offline());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
        EXPECT_THAT(err.what(), HasSubstr("missing config.json, model.safetensors, tokenizer.json"));
        EXPECT_THAT(err.what(), HasSubstr("tessera pull BAAI/bge-small-en-v1.5 --cache-dir " + cache_.string()));
    }
}

TEST_F(ResolveTest, IncompleteSnapshotListsExactlyTheMissingFiles) {
    write_complete_model();
    fs::remove(snapshot() / "1_Pooling" / "config.json");
    fs::remove(snapshot() / "tokenizer.json");
    try {
        (void)resolve_model("BAAI/bge-small-en-v1.5", offline());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
        EXPECT_THAT(err.what(), HasSubstr("missing tokenizer.json, 1_Pooling/config.json;"));
        EXPECT_THAT(err.what(), HasSubstr("tessera pull BAAI/bge-small-en-v1.5"));
    }
}

TEST_F(ResolveTest, ShardedWeightsNeedEveryShard) {
    add_file("config.json", "{}");
    add_file("tokenizer.json", "{}");
    add_file("model.safetensors.index.json",
             R"({"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}})");
    add_file("model-00001-of-00002.safetensors", "1");
    write_ref("main", kCommit);
    try {
        (void)resolve_model("BAAI/bge-small-en-v1.5", offline());
        FAIL();
    } catch (const Error& err) {
        EXPECT_THAT(err.what(), HasSubstr("missing model-00002-of-00002.safetensors;"));
    }
    add_file("model-00002-of-00002.safetensors", "2");
    EXPECT_EQ(resolve_model("BAAI/bge-small-en-v1.5", offline()), snapshot());
}

TEST_F(ResolveTest, SymlinkEscapingTheCacheIsRefused) {
    write_complete_model();
    const fs::path outside = root_ / "outside.json";
    std::ofstream(outside) << "{}";
    fs::remove(snapshot() / "config.json");
    fs::create_symlink(outside, snapshot() / "config.json");
    try {
        (void)resolve_model("BAAI/bge-small-en-v1.5", offline());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::corrupt);
        EXPECT_THAT(err.what(), HasSubstr("config.json: refusing symlink that leads outside the cache"));
    }
    // A relative link climbing out is refused the same way.
    fs::remove(snapshot() / "config.json");
    fs::create_symlink("../../../../outside.json", snapshot() / "config.json");
    EXPECT_THROW((void)resolve_model("BAAI/bge-small-en-v1.5", offline()), Error);
}

TEST_F(ResolveTest, HostileModulePathAndRefAreRefused) {
    write_complete_model();
    fs::remove(snapshot() / "modules.json");
    add_file("modules.json", R"([{"idx":1,"path":"../../../x","type":"sentence_transformers.models.Pooling"}])");
    try {
        (void)resolve_model("BAAI/bge-small-en-v1.5", offline());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::invalid_argument);
        EXPECT_THAT(err.what(), HasSubstr("refusing file name '../../../x/config.json'"));
    }
    write_ref("evil", "../../../etc");
    EXPECT_THROW((void)resolve_model("BAAI/bge-small-en-v1.5@evil", offline()), Error);
}

TEST_F(ResolveTest, DirectoriesAndBadNames) {
    fs::create_directories(root_ / "plain-model");
    EXPECT_EQ(resolve_model((root_ / "plain-model").string(), offline()), root_ / "plain-model");
    try {
        (void)resolve_model("./no/such/dir", offline());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
        EXPECT_THAT(err.what(), HasSubstr("model directory './no/such/dir' does not exist"));
    }
    try {
        (void)resolve_model("no-such-model", offline());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
        EXPECT_THAT(err.what(), HasSubstr("tessera models list"));
    }
    try {
        (void)resolve_model("org/bad name", offline());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::invalid_argument);
        EXPECT_THAT(err.what(), HasSubstr("'org/bad name'"));
    }
    EXPECT_THROW((void)resolve_model("", offline()), Error);
}

TEST_F(ResolveTest, ListAndRemoveCachedModels) {
    write_complete_model();
    auto models = list_cached_models(offline());
    ASSERT_EQ(models.size(), 1u);
    EXPECT_EQ(models[0].repo_id, "BAAI/bge-small-en-v1.5");
    EXPECT_TRUE(models[0].complete);
    EXPECT_EQ(models[0].commits, std::vector<std::string>{kCommit});
    EXPECT_EQ(remove_cached_model("bge-small-en-v1.5", offline()), models[0].size_bytes);
    EXPECT_TRUE(list_cached_models(offline()).empty());
    try {
        (void)remove_cached_model("bge-small-en-v1.5", offline());
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
    }
}

}  // namespace
}  // namespace tessera
