// Input and output helpers shared by the CLI commands that take texts (embed, tokenize, upsert, ...).
//
//   tessera::cli::InputOptions inputs;
//   tessera::cli::add_input_options(cmd, inputs);          // TEXT..., --input FILE, --lines
//   ...
//   std::vector<tessera::cli::InputRecord> records = tessera::cli::read_inputs(inputs);
//   tessera::cli::write_embeddings_jsonl(std::cout, vectors);   // {"index":0,"embedding":[...]}
//   tessera::cli::write_npy("out.npy", vectors);
//
// Inputs come from TEXT arguments if any, else from `--input FILE` (or stdin when absent or "-")
// as JSON Lines with a `text` field, or as plain lines with `--lines`. Errors are
// tessera::Error(invalid_argument) naming the source and the 1-based line number.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "tessera/embedder.hpp"

namespace tessera::cli {

struct InputOptions {
    std::vector<std::string> texts;  // positional TEXT arguments
    std::string input_path;          // --input FILE ("" or "-": stdin)
    bool lines = false;              // --lines: one text per line instead of JSON Lines
    // The JSON field holding the text. Empty: no field is required (the caller reads `record`).
    std::string text_field = "text";
};

struct InputRecord {
    std::string text;                 // the text (or the whole line with --lines)
    std::optional<std::string> pair;  // JSON field `pair`, when present (a second text)
    nlohmann::json record;            // the whole JSON object (null for TEXT arguments / --lines)
    std::size_t line_number = 0;      // 1-based line in the input; 0 for TEXT arguments
};

// Adds `TEXT...`, `--input FILE` and `--lines` to a subcommand.
void add_input_options(CLI::App* command, InputOptions& options);

// Reads every input as described above. `stdin_stream` replaces std::cin (tests).
// Errors: invalid_argument (malformed JSON, missing or non-string field, invalid UTF-8 — with
// the line number), not_found (missing --input file), io.
[[nodiscard]] std::vector<InputRecord> read_inputs(const InputOptions& options);
[[nodiscard]] std::vector<InputRecord> read_inputs(const InputOptions& options,
                                                   std::istream& stdin_stream);

// Parses JSON Lines / plain lines from a stream; `source_name` appears in error messages.
[[nodiscard]] std::vector<InputRecord> read_records(std::istream& stream, const std::string& source_name,
                                                    bool plain_lines, const std::string& text_field);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
[[nodiscard]] bool is_valid_utf8(std::string_view text);

// Writes a float32 .npy file (format 1.0, C order, shape [rows, cols]). Errors: io.
void write_npy(const std::filesystem::path& path, const Matrix& matrix);

// One line per row: {"index":first_index+r,"embedding":[...]} with shortest round-trip floats.
void write_embeddings_jsonl(std::ostream& out, const Matrix& matrix, std::size_t first_index = 0);

}  // namespace tessera::cli
