// Limits every embedding route applies to a request's inputs.
#pragma once

#include <cstddef>
#include <string>

#include "server/api_error.hpp"

namespace tessera::server {

// Errors: RequestError resource_exhausted (413) when a request carries more inputs than
// --max-client-batch-size allows.
inline void check_input_count(std::size_t count, std::size_t max_inputs, const std::string& field) {
    if (count > max_inputs) {
        throw RequestError(ErrorCode::resource_exhausted,
                           field + ": " + std::to_string(count) + " inputs in one request, more than the " +
                               std::to_string(max_inputs) + " this server allows (--max-client-batch-size)")
            .with_param(field);
    }
}

}  // namespace tessera::server
