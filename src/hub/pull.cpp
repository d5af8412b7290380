#include "tessera/hub.hpp"

namespace tessera {

PullResult pull_model(std::string_view name, const HubOptions&) {
    throw Error(ErrorCode::unavailable, "pull '" + std::string(name) + "': downloading is not available yet");
}

}  // namespace tessera
