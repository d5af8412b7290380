// Memory for packed weights, carved from 2 MB-aligned blocks that transparent huge pages back.
//
//   std::shared_ptr<std::byte> packed = allocate_weight_bytes(bytes);   // zeroed, 64-byte aligned
//
// Why: packing MiniLM-L6's 90 MB of weights into 4 KB pages took ~22,000 page faults, over a
// third of its load time; in 2 MB pages it takes ~45. The buffer lives as long as the returned
// pointer (or a copy of it); a block is unmapped when the last buffer carved from it is released.
#pragma once

#include <cstddef>
#include <memory>

namespace tessera::kernels {

// Zeroed, 64-byte aligned. Throws Error(resource_exhausted) when the memory cannot be mapped.
std::shared_ptr<std::byte> allocate_weight_bytes(std::size_t bytes);

}  // namespace tessera::kernels
