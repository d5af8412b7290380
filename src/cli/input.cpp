#include "cli/input.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>

namespace tessera::cli {

void add_input_options(CLI::App* command, InputOptions& options) {
    command->add_option("TEXT", options.texts, "Texts to process (none: read --input or stdin)");
    command->add_option("--input,-i", options.input_path,
                        "Read inputs from FILE (JSON Lines with a \"text\" field; '-' = stdin)");
    command->add_flag("--lines", options.lines, "Input is plain text, one text per line");
}

bool is_valid_utf8(std::string_view text) {
    std::size_t pos = 0;
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    while (pos < text.size()) {
        const unsigned char lead = bytes[pos];
        if (lead < 0x80) {
            ++pos;
            continue;
        }
        std::size_t extra = 0;
        std::uint32_t code_point = 0;
        std::uint32_t min_code_point = 0;
        if ((lead & 0xE0) == 0xC0) {
            extra = 1, code_point = lead & 0x1F, min_code_point = 0x80;
        } else if ((lead & 0xF0) == 0xE0) {
            extra = 2, code_point = lead & 0x0F, min_code_point = 0x800;
        } else if ((lead & 0xF8) == 0xF0) {
            extra = 3, code_point = lead & 0x07, min_code_point = 0x10000;
        } else {
            return false;
        }
        if (pos + extra >= text.size()) return false;  // truncated sequence
        for (std::size_t k = 1; k <= extra; ++k) {
            const unsigned char cont = bytes[pos + k];
            if ((cont & 0xC0) != 0x80) return false;
            code_point = (code_point << 6) | (cont & 0x3F);
        }
        if (code_point < min_code_point || code_point > 0x10FFFF ||
            (code_point >= 0xD800 && code_point <= 0xDFFF)) {
            return false;
        }
        pos += extra + 1;
    }
    return true;
}

namespace {

std::string where(const std::string& source_name, std::size_t line_number) {
    return source_name + ":" + std::to_string(line_number);
}

}  // namespace

std::vector<InputRecord> read_records(std::istream& stream, const std::string& source_name,
                                      bool plain_lines, const std::string& text_field) {
    std::vector<InputRecord> records;
    std::string line;
    std::size_t line_number = 0;
    while (std::getline(stream, line)) {
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!is_valid_utf8(line)) {
            throw Error(ErrorCode::invalid_argument,
                        where(source_name, line_number) + ": invalid UTF-8");
        }
        InputRecord record;
        record.line_number = line_number;
        if (plain_lines) {
            record.text = std::move(line);
            records.push_back(std::move(record));
            continue;
        }
        // Blank lines between JSON records are tolerated (common at the end of files).
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        try {
            record.record = nlohmann::json::parse(line);
        } catch (const nlohmann::json::parse_error& err) {
            throw Error(ErrorCode::invalid_argument,
                        where(source_name, line_number) + ": malformed JSON: " + err.what());
        }
        if (!record.record.is_object()) {
            throw Error(ErrorCode::invalid_argument, where(source_name, line_number) +
                                                         ": expected a JSON object, got " +
                                                         record.record.type_name());
        }
        if (!text_field.empty()) {
            const auto field = record.record.find(text_field);
            if (field == record.record.end()) {
                throw Error(ErrorCode::invalid_argument, where(source_name, line_number) +
                                                             ": missing field '" + text_field +
                                                             "' (use --lines for plain text)");
            }
            if (!field->is_string()) {
                throw Error(ErrorCode::invalid_argument,
                            where(source_name, line_number) + ": field '" + text_field +
                                "' must be a string, got " + field->type_name());
            }
            record.text = field->get<std::string>();
        }
        if (const auto pair = record.record.find("pair"); pair != record.record.end()) {
            if (!pair->is_string()) {
                throw Error(ErrorCode::invalid_argument, where(source_name, line_number) +
                                                             ": field 'pair' must be a string");
            }
            record.pair = pair->get<std::string>();
        }
        records.push_back(std::move(record));
    }
    if (stream.bad()) throw Error(ErrorCode::io, source_name + ": read failed");
    return records;
}

std::vector<InputRecord> read_inputs(const InputOptions& options, std::istream& stdin_stream) {
    if (!options.texts.empty()) {
        std::vector<InputRecord> records;
        records.reserve(options.texts.size());
        for (std::size_t idx = 0; idx < options.texts.size(); ++idx) {
            if (!is_valid_utf8(options.texts[idx])) {
                throw Error(ErrorCode::invalid_argument,
                            "TEXT argument " + std::to_string(idx + 1) + ": invalid UTF-8");
            }
            InputRecord record;
            record.text = options.texts[idx];
            records.push_back(std::move(record));
        }
        return records;
    }
    if (options.input_path.empty() || options.input_path == "-") {
        return read_records(stdin_stream, "<stdin>", options.lines, options.text_field);
    }
    std::ifstream file(options.input_path, std::ios::binary);
    if (!file) {
        const bool exists = std::filesystem::exists(options.input_path);
        throw Error(exists ? ErrorCode::io : ErrorCode::not_found,
                    options.input_path + ": cannot open input file");
    }
    return read_records(file, options.input_path, options.lines, options.text_field);
}

std::vector<InputRecord> read_inputs(const InputOptions& options) {
    return read_inputs(options, std::cin);
}

void write_npy(const std::filesystem::path& path, const Matrix& matrix) {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                         std::to_string(matrix.rows()) + ", " + std::to_string(matrix.cols()) +
                         "), }";
    // Magic (6) + version (2) + header length (2) + header, padded with spaces and ending in
    // '\n' to a multiple of 64 bytes, as numpy writes it.
    const std::size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header.push_back('\n');
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorCode::io, path.string() + ": cannot create output file");
    const std::array<char, 8> magic = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
    out.write(magic.data(), magic.size());
    const auto header_size = static_cast<std::uint16_t>(header.size());
    const std::array<char, 2> size_le = {static_cast<char>(header_size & 0xFF),
                                         static_cast<char>(header_size >> 8)};
    out.write(size_le.data(), size_le.size());
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    // x86-64 and aarch64 are little-endian, which is what '<f4' promises.
    out.write(reinterpret_cast<const char*>(matrix.data().data()),
              static_cast<std::streamsize>(matrix.data().size() * sizeof(float)));
    out.flush();
    if (!out) throw Error(ErrorCode::io, path.string() + ": write failed");
}

void write_embeddings_jsonl(std::ostream& out, const Matrix& matrix, std::size_t first_index) {
    std::string line;
    std::array<char, 32> number{};
    for (std::size_t row_idx = 0; row_idx < matrix.rows(); ++row_idx) {
        line.clear();
        line += "{\"index\":";
        line += std::to_string(first_index + row_idx);
        line += ",\"embedding\":[";
        const auto row = matrix.row(row_idx);
        for (std::size_t col = 0; col < row.size(); ++col) {
            if (col > 0) line.push_back(',');
            // Shortest representation that reads back to the same float.
            const auto result = std::to_chars(number.data(), number.data() + number.size(), row[col]);
            line.append(number.data(), result.ptr);
        }
        line += "]}\n";
        out << line;
    }
    out.flush();
}

}  // namespace tessera::cli
