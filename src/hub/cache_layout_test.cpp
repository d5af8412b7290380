#include "hub/cache_layout.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "hub/pull_plan.hpp"
#include "tessera/error.hpp"

namespace tessera::hub {
namespace {

namespace fs = std::filesystem;

TEST(CacheLayout, RepoFolderNames) {
    EXPECT_EQ(repo_folder_name("BAAI/bge-small-en-v1.5"), "models--BAAI--bge-small-en-v1.5");
    CacheLayout cache("/c");
    EXPECT_EQ(cache.blob_path("a/b", "ff"), fs::path("/c/models--a--b/blobs/ff"));
    EXPECT_EQ(cache.snapshot_dir("a/b", "123"), fs::path("/c/models--a--b/snapshots/123"));
}

TEST(CacheLayout, ParsesRepoReferences) {
    RepoRef plain = parse_repo_ref("BAAI/bge-m3");
    EXPECT_EQ(plain.repo_id, "BAAI/bge-m3");
    EXPECT_EQ(plain.revision, "main");
    EXPECT_FALSE(plain.revision_given);
    RepoRef pinned = parse_repo_ref("org/name@refs/pr/1");
    EXPECT_EQ(pinned.revision, "refs/pr/1");
    EXPECT_TRUE(pinned.revision_given);
    for (const char* bad : {"noslash", "a/b/c", "/abs", "org/", "/name", "org/na me", "../x", "org/name@",
                            "org/name@../../x", "org/..", "org/name@/abs"}) {
        EXPECT_THROW((void)parse_repo_ref(bad), Error) << bad;
    }
}

TEST(CacheLayout, RefusesHostileFileNames) {
    for (const char* good : {"config.json", "1_Pooling/config.json", "a.b/c..d"}) {
        EXPECT_NO_THROW(check_relative_file_name(good, "test")) << good;
    }
    for (const char* bad : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/.", "a\\b", "a/"}) {
        try {
            check_relative_file_name(bad, "model info");
            FAIL() << bad;
        } catch (const Error& err) {
            EXPECT_EQ(err.code(), ErrorCode::invalid_argument);
            EXPECT_THAT(err.what(), ::testing::HasSubstr("model info: refusing file name '" + std::string(bad) + "'"));
        }
    }
}

TEST(CacheLayout, EnvironmentPrecedence) {
    for (const char* name : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"}) ::unsetenv(name);
    const char* old_home = std::getenv("HOME");
    const std::string saved_home = old_home ? old_home : "";
    ::setenv("HOME", "/home/u", 1);
    EXPECT_EQ(default_cache_dir(), fs::path("/home/u/.cache/huggingface/hub"));
    ::setenv("XDG_CACHE_HOME", "/xdg", 1);
    EXPECT_EQ(default_cache_dir(), fs::path("/xdg/huggingface/hub"));
    ::setenv("HF_HOME", "/hf", 1);
    EXPECT_EQ(default_cache_dir(), fs::path("/hf/hub"));
    ::setenv("HUGGINGFACE_HUB_CACHE", "/legacy", 1);
    EXPECT_EQ(default_cache_dir(), fs::path("/legacy"));
    ::setenv("HF_HUB_CACHE", "/new", 1);
    EXPECT_EQ(default_cache_dir(), fs::path("/new"));
    ::setenv("HOME", saved_home.c_str(), 1);
    for (const char* name : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"}) ::unsetenv(name);

    ::unsetenv("HF_ENDPOINT");
    EXPECT_EQ(endpoint_from_env(), "https://huggingface.co");
    ::setenv("HF_ENDPOINT", "https://mirror.example/hf//", 1);
    EXPECT_EQ(endpoint_from_env(), "https://mirror.example/hf");
    ::unsetenv("HF_ENDPOINT");

    for (const char* value : {"1", "ON", "yes", "True"}) {
        ::setenv("HF_HUB_OFFLINE", value, 1);
        EXPECT_TRUE(offline_from_env()) << value;
    }
    for (const char* value : {"0", "off", "no", ""}) {
        ::setenv("HF_HUB_OFFLINE", value, 1);
        EXPECT_FALSE(offline_from_env()) << value;
    }
    ::unsetenv("HF_HUB_OFFLINE");
    ::setenv("TRANSFORMERS_OFFLINE", "1", 1);
    EXPECT_TRUE(offline_from_env());
    ::unsetenv("TRANSFORMERS_OFFLINE");
}

TEST(CacheLayout, TokenFromEnvironmentOrFile) {
    const fs::path home = fs::temp_directory_path() / ("tessera-token-" + std::to_string(::getpid()));
    fs::create_directories(home);
    ::unsetenv("HF_TOKEN");
    ::unsetenv("HF_TOKEN_PATH");
    ::setenv("HF_HOME", home.c_str(), 1);
    EXPECT_EQ(token_from_env(), std::nullopt);
    std::ofstream(home / "token") << "hf_fromfile\n";
    EXPECT_EQ(token_from_env(), "hf_fromfile");
    ::setenv("HF_TOKEN", "hf_fromenv", 1);
    EXPECT_EQ(token_from_env(), "hf_fromenv");
    ::unsetenv("HF_TOKEN");
    ::unsetenv("HF_HOME");
    fs::remove_all(home);
}

TEST(PullPlan, DownloadsOnlyWhatTheEngineLoads) {
    const std::vector<std::string> repo = {
        "config.json", "tokenizer.json", "model.safetensors", "model-00001-of-00002.safetensors",
        "model.safetensors.index.json", "modules.json", "1_Pooling/config.json", "2_Dense/config.json",
        "2_Dense/model.safetensors", "2_Dense/pytorch_model.bin", "sentence_bert_config.json",
        "config_sentence_transformers.json", "preprocessor_config.json", "special_tokens_map.json",
        "vocab.txt", "merges.txt", "vocab.json", "tokenizer_config.json", "pytorch_model.bin",
        "onnx/model.onnx", "onnx/config.json", "openvino/openvino_model.xml", "tf_model.h5",
        "flax_model.msgpack", "README.md", ".gitattributes", "model.onnx", "coreml/x/model.safetensors"};
    const std::vector<std::string> expected = {
        "config.json", "tokenizer.json", "model.safetensors", "model-00001-of-00002.safetensors",
        "model.safetensors.index.json", "modules.json", "1_Pooling/config.json", "2_Dense/config.json",
        "2_Dense/model.safetensors", "sentence_bert_config.json", "config_sentence_transformers.json",
        "preprocessor_config.json", "special_tokens_map.json", "vocab.txt", "merges.txt", "vocab.json",
        "tokenizer_config.json"};
    EXPECT_EQ(files_to_download(repo), expected);
}

TEST(CacheLayout, IsInsideFollowsSymlinks) {
    const fs::path root = fs::temp_directory_path() / ("tessera-inside-" + std::to_string(::getpid()));
    fs::create_directories(root / "cache");
    std::ofstream(root / "secret") << "x";
    fs::create_symlink(root / "secret", root / "cache" / "link");
    EXPECT_FALSE(is_inside(root / "cache" / "link", root / "cache"));
    EXPECT_TRUE(is_inside(root / "cache" / "link", root));
    EXPECT_FALSE(is_inside(root / "cache-other", root / "cache"));
    fs::remove_all(root);
}

}  // namespace
}  // namespace tessera::hub
