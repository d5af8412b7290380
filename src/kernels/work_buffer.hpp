// Per-thread scratch memory for kernels: grow-only, 64-byte aligned, reused across calls, so a
// steady stream of batches allocates nothing after the largest one has been seen.
//
//   auto* scores = static_cast<float*>(work_buffer(WorkSlot::attention, bytes));
//
// A slot's memory stays valid until the same thread asks that slot for more bytes.
#pragma once

#include <cstddef>

namespace tessera::kernels {

enum class WorkSlot { linear_input, attention, feed_forward, count };

// Throws Error(resource_exhausted) when the allocation fails.
void* work_buffer(WorkSlot slot, std::size_t bytes);

}  // namespace tessera::kernels
