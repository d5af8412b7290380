// tessera::Error — the one exception type tessera code throws.
//
// Every error carries an ErrorCode and a message that quotes the offending value and says where:
//
//   try { auto e = tessera::TextEmbedder::open("models/x"); }
//   catch (const tessera::Error& err) {
//     std::cerr << err.what() << "\n";          // "models/x/config.json: model_type: unknown 'gpt9'"
//     return tessera::exit_code(err.code());      // one CLI exit code per ErrorCode
//   }
//
// Each code maps to one HTTP status (http_status) and one CLI exit code (exit_code).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace tessera {

enum class ErrorCode {
    invalid_argument,    // bad input from the caller (400, exit 2)
    not_found,           // a file, model, collection or point that does not exist (404, exit 3)
    unsupported,         // valid but not implemented here, e.g. an unknown model_type (422, exit 4)
    corrupt,             // a file whose content is damaged or hostile (422, exit 5)
    io,                  // the OS failed a read/write/mmap (500, exit 6)
    unavailable,         // network or peer unreachable, lock held by another process (503, exit 7)
    resource_exhausted,  // limits: too large, too many, queue full (413/429, exit 8)
    cancelled,           // stopped on request or by timeout (499/504, exit 9)
    internal,            // a bug in tessera (500, exit 10)
    unauthenticated,     // missing or wrong credentials (401, exit 11)
};

// The stable name of a code ("invalid_argument", ...), used in JSON error bodies.
[[nodiscard]] std::string_view error_code_name(ErrorCode code) noexcept;
// The HTTP status a server answers with for this code.
[[nodiscard]] int http_status(ErrorCode code) noexcept;
// The process exit code the CLI uses for this code (1 is reserved for usage errors of CLI11).
[[nodiscard]] int exit_code(ErrorCode code) noexcept;

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, std::string message)
        : std::runtime_error(std::move(message)), code_(code) {}

    [[nodiscard]] ErrorCode code() const noexcept { return code_; }

    // A copy whose message is prefixed with context: "loading model 'x': <message>".
    [[nodiscard]] Error with_context(std::string_view context) const {
        return Error(code_, std::string(context) + ": " + what());
    }

private:
    ErrorCode code_;
};

}  // namespace tessera
