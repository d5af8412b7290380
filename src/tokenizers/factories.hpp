// Builders of the pipeline components from their tokenizer.json nodes. Each throws Error
// corrupt naming the JSON path of a malformed node, unsupported for an unknown "type".
#pragma once

#include <memory>

#include "tokenizers/components.hpp"
#include "tokenizers/json_reader.hpp"

namespace tessera::tokenizers {

class Regex;

// The pattern of Replace and Split: {"String": literal} or {"Regex": pattern}.
std::unique_ptr<Regex> make_pattern(const JsonReader& node);

std::unique_ptr<Normalizer> make_normalizer(const JsonReader& node);
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonReader& node);
std::unique_ptr<Model> make_model(const JsonReader& node);
std::unique_ptr<PostProcessor> make_post_processor(const JsonReader& node);
std::unique_ptr<Decoder> make_decoder(const JsonReader& node);

// The "precompiled_charsmap" normalizer (sentencepiece's), from its base64 text.
std::unique_ptr<Normalizer> make_precompiled(const JsonReader& charsmap_node);

// The GPT-2 byte <-> printable char table of the ByteLevel components.
char32_t byte_to_char(unsigned char byte) noexcept;
// -1 for a char that is not in the table.
int char_to_byte(char32_t c) noexcept;

}  // namespace tessera::tokenizers
