#include "formats/model_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "formats/sentence_transformers.hpp"
#include "tessera/error.hpp"

namespace tessera::formats {
namespace {

using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::path(::testing::TempDir()) /
               ("tessera_cfg_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path write(const std::string& name, const std::string& text) {
        const auto path = dir_ / name;
        std::filesystem::create_directories(path.parent_path());
        std::ofstream(path, std::ios::trunc) << text;
        return path;
    }

    template <typename Fn>
    static void expect_error(Fn&& fn, ErrorCode code, std::vector<std::string> fragments) {
        try {
            fn();
            FAIL() << "no error";
        } catch (const Error& err) {
            EXPECT_EQ(err.code(), code) << err.what();
            for (const auto& fragment : fragments) EXPECT_THAT(err.what(), HasSubstr(fragment));
        }
    }

    std::filesystem::path dir_;
};

TEST_F(ConfigTest, ReadsGoldenBertConfig) {
    const auto config = read_model_config(std::filesystem::path(TESSERA_SHARED_DIR) /
                                          "data/golden/bert-tiny-random/config.json");
    EXPECT_EQ(config.model_type, "bert");
    const auto encoder = parse_encoder_config(config);
    EXPECT_EQ(encoder.hidden_dim, 128u);
    EXPECT_EQ(encoder.layer_count, 2u);
    EXPECT_EQ(encoder.head_count, 2u);
    EXPECT_EQ(encoder.ffn_dim, 512u);
    EXPECT_EQ(encoder.vocab_size, 30522u);
    EXPECT_EQ(encoder.position_offset, 0u);
    EXPECT_EQ(encoder.max_tokens, 512u);
    EXPECT_DOUBLE_EQ(encoder.layer_norm_eps, 1e-12);
}

TEST_F(ConfigTest, ReadsPublishedConfigs) {
    const auto dir = std::filesystem::path(TESSERA_SHARED_DIR) / "data/model-configs";
    const auto m3 = parse_encoder_config(read_model_config(dir / "BAAI--bge-m3/config.json"));
    EXPECT_EQ(m3.model_type, "xlm-roberta");
    EXPECT_EQ(m3.position_offset, 2u);  // pad_token_id 1 + 1
    EXPECT_EQ(m3.max_tokens, 8192u);    // 8194 - 2
    EXPECT_EQ(m3.hidden_dim, 1024u);
    const auto small = parse_encoder_config(read_model_config(dir / "BAAI--bge-small-en-v1.5/config.json"));
    EXPECT_EQ(small.hidden_dim, 384u);
    EXPECT_EQ(small.layer_count, 12u);
}

TEST_F(ConfigTest, ReadsNomicNames) {
    const auto path = write("config.json", R"({"model_type":"nomic_bert","n_embd":768,"n_head":12,"n_layer":12,
        "n_inner":3072,"vocab_size":30528,"type_vocab_size":2,"n_positions":8192,"layer_norm_epsilon":1e-12,
        "activation_function":"swiglu","rotary_emb_fraction":1.0,"rotary_emb_base":1000,"rotary_emb_interleaved":false,
        "qkv_proj_bias":false,"mlp_fc1_bias":false,"mlp_fc2_bias":false,"prenorm":false})");
    const auto encoder = parse_encoder_config(read_model_config(path));
    EXPECT_EQ(encoder.hidden_dim, 768u);
    EXPECT_EQ(encoder.ffn_dim, 3072u);
    EXPECT_EQ(encoder.max_tokens, 8192u);
    EXPECT_DOUBLE_EQ(encoder.rotary_base, 1000.0);
    EXPECT_FALSE(encoder.qkv_bias);
}

TEST_F(ConfigTest, RejectsMalformedConfigs) {
    expect_error([&] { (void)read_model_config(write("a.json", R"({"model_type": "bert",)")); }, ErrorCode::corrupt,
                 {"a.json", "malformed JSON"});
    expect_error([&] { (void)read_model_config(write("b.json", R"([1])")); }, ErrorCode::corrupt, {"b.json", "object"});
    expect_error([&] { (void)read_model_config(write("c.json", R"({"hidden_size": 3})")); }, ErrorCode::corrupt,
                 {"c.json", "model_type: missing"});
    expect_error([&] { (void)read_model_config(write("d.json", R"({"model_type": 7})")); }, ErrorCode::corrupt,
                 {"d.json", "model_type"});
    expect_error([&] { (void)read_model_config(dir_ / "absent.json"); }, ErrorCode::not_found, {"absent.json"});
    expect_error(
        [&] {
            (void)parse_encoder_config(read_model_config(write("e.json", R"({"model_type":"bert","vocab_size":10,
                "hidden_size":-3,"num_hidden_layers":1,"num_attention_heads":1,"intermediate_size":4,"max_position_embeddings":8})")));
        },
        ErrorCode::corrupt, {"e.json", "hidden_size", "'-3'"});
    expect_error(
        [&] {
            (void)parse_encoder_config(read_model_config(write("f.json", R"({"model_type":"bert","vocab_size":10,
                "hidden_size":6,"num_hidden_layers":1,"num_attention_heads":4,"intermediate_size":4,"max_position_embeddings":8})")));
        },
        ErrorCode::corrupt, {"num_attention_heads", "do not divide"});
    expect_error(
        [&] {
            (void)parse_encoder_config(read_model_config(write("g.json", R"({"model_type":"bert","vocab_size":10,
                "hidden_size":4,"num_hidden_layers":1,"num_attention_heads":1,"intermediate_size":4})")));
        },
        ErrorCode::corrupt, {"max_position_embeddings: missing"});
    expect_error(
        [&] {
            (void)parse_encoder_config(read_model_config(write("h.json", R"({"model_type":"bert","vocab_size":10,
                "hidden_size":4,"num_hidden_layers":1,"num_attention_heads":1,"intermediate_size":4,
                "max_position_embeddings":8,"hidden_act":"mish"})")));
        },
        ErrorCode::unsupported, {"hidden_act", "'mish'"});
}

TEST_F(ConfigTest, InfersModelTypeFromArchitectures) {
    EXPECT_EQ(read_model_config(write("x.json", R"({"architectures":["XLMRobertaModel"]})")).model_type, "xlm-roberta");
    EXPECT_EQ(read_model_config(write("y.json", R"({"architectures":["BertForMaskedLM"]})")).model_type, "bert");
}

TEST_F(ConfigTest, SentenceTransformersGoldenFiles) {
    const auto st = read_sentence_transformers_config(std::filesystem::path(TESSERA_SHARED_DIR) /
                                                      "data/golden/bert-tiny-random");
    EXPECT_TRUE(st.has_modules_json);
    ASSERT_EQ(st.pooling_modes.size(), 1u);
    EXPECT_EQ(st.pooling_modes[0], PoolingMode::mean);
    EXPECT_TRUE(st.normalize);  // 2_Normalize listed though its folder is missing
    EXPECT_EQ(st.max_seq_length, 128u);
    EXPECT_TRUE(st.prompts.empty());
    EXPECT_TRUE(st.defaults_used.empty());
}

TEST_F(ConfigTest, SentenceTransformersDefaultsAndPrompts) {
    auto st = read_sentence_transformers_config(dir_);
    EXPECT_EQ(st.pooling_modes, std::vector<PoolingMode>{PoolingMode::mean});
    EXPECT_TRUE(st.normalize);
    EXPECT_FALSE(st.max_seq_length.has_value());
    EXPECT_EQ(st.defaults_used.size(), 3u);

    write("modules.json", R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
                              {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}])");
    write("1_Pooling/config.json", R"({"pooling_mode_cls_token":true,"pooling_mode_max_tokens":true,
                                       "pooling_mode_mean_tokens":false,"include_prompt":false})");
    write("config_sentence_transformers.json",
          R"({"prompts":{"query":"search_query: ","document":"search_document: "},"default_prompt_name":null})");
    write("sentence_bert_config.json", R"({"max_seq_length":8192,"do_lower_case":true})");
    st = read_sentence_transformers_config(dir_);
    EXPECT_EQ(st.pooling_modes, (std::vector<PoolingMode>{PoolingMode::cls, PoolingMode::max}));
    EXPECT_FALSE(st.include_prompt);
    EXPECT_FALSE(st.normalize);  // no Normalize module listed
    EXPECT_EQ(st.max_seq_length, 8192u);
    EXPECT_TRUE(st.do_lower_case);
    EXPECT_EQ(st.prompts.at("document"), "search_document: ");
}

TEST_F(ConfigTest, SentenceTransformersErrors) {
    write("modules.json", R"([{"idx":0,"path":"2_Dense","type":"sentence_transformers.models.Dense"}])");
    expect_error([&] { (void)read_sentence_transformers_config(dir_); }, ErrorCode::unsupported, {"modules.json", "Dense"});
    write("modules.json", R"([{"idx":0,"path":"1_Pooling","type":"sentence_transformers.models.Pooling"}])");
    write("1_Pooling/config.json", R"({"pooling_mode_mean_tokens":false})");
    expect_error([&] { (void)read_sentence_transformers_config(dir_); }, ErrorCode::corrupt,
                 {"1_Pooling/config.json", "no pooling mode"});
    write("1_Pooling/config.json", R"({"pooling_mode_mean_tokens":"yes"})");
    expect_error([&] { (void)read_sentence_transformers_config(dir_); }, ErrorCode::corrupt,
                 {"pooling_mode_mean_tokens", "true or false"});
    write("1_Pooling/config.json", R"({"pooling_mode_mean_tokens":true})");
    write("sentence_bert_config.json", R"({"max_seq_length":"long"})");
    expect_error([&] { (void)read_sentence_transformers_config(dir_); }, ErrorCode::corrupt,
                 {"sentence_bert_config.json", "max_seq_length"});
    write("sentence_bert_config.json", R"({"max_seq_length":64})");
    write("config_sentence_transformers.json", R"({"prompts":{"query":3}})");
    expect_error([&] { (void)read_sentence_transformers_config(dir_); }, ErrorCode::corrupt, {"prompts.query"});
    write("config_sentence_transformers.json", R"({"prompts":{},"default_prompt_name":"query"})");
    expect_error([&] { (void)read_sentence_transformers_config(dir_); }, ErrorCode::corrupt, {"default_prompt_name"});
}

}  // namespace
}  // namespace tessera::formats
