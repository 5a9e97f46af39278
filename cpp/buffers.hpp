// Memory for the arrays that fastmse returns.
#pragma once

#include <cstddef>

namespace fastmse {

// Returns a 64-byte aligned buffer of at least `bytes` bytes and stores its capacity.
// Buffers of 2 MiB and more are aligned to 2 MiB and advised to use huge pages.
// Returns null when memory runs out.
void* acquire_buffer(size_t bytes, size_t* capacity);

// Takes back a buffer from acquire_buffer. Large buffers are kept in a small cache, so that
// a loop that drops each result before the next call reuses memory that is already mapped:
// the operating system's page faults on fresh memory cost more than reading the inputs.
void release_buffer(void* buffer, size_t capacity);

// Bytes held by the cache now, and a way to give them back to the operating system.
size_t cached_bytes();
void clear_buffer_cache();

}  // namespace fastmse
