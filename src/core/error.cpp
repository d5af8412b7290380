#include "tessera/error.hpp"

namespace tessera {

std::string_view error_code_name(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::invalid_argument: return "invalid_argument";
        case ErrorCode::not_found: return "not_found";
        case ErrorCode::unsupported: return "unsupported";
        case ErrorCode::corrupt: return "corrupt";
        case ErrorCode::io: return "io";
        case ErrorCode::unavailable: return "unavailable";
        case ErrorCode::resource_exhausted: return "resource_exhausted";
        case ErrorCode::cancelled: return "cancelled";
        case ErrorCode::internal: return "internal";
        case ErrorCode::unauthenticated: return "unauthenticated";
    }
    return "internal";
}

int http_status(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::invalid_argument: return 400;
        case ErrorCode::unauthenticated: return 401;
        case ErrorCode::not_found: return 404;
        case ErrorCode::resource_exhausted: return 413;
        case ErrorCode::unsupported: return 422;
        case ErrorCode::corrupt: return 422;
        case ErrorCode::cancelled: return 504;
        case ErrorCode::unavailable: return 503;
        case ErrorCode::io: return 500;
        case ErrorCode::internal: return 500;
    }
    return 500;
}

int exit_code(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::invalid_argument: return 2;
        case ErrorCode::not_found: return 3;
        case ErrorCode::unsupported: return 4;
        case ErrorCode::corrupt: return 5;
        case ErrorCode::io: return 6;
        case ErrorCode::unavailable: return 7;
        case ErrorCode::resource_exhausted: return 8;
        case ErrorCode::cancelled: return 9;
        case ErrorCode::internal: return 10;
        case ErrorCode::unauthenticated: return 11;
    }
    return 10;
}

}  // namespace tessera
