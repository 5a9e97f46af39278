// A small cache of large, aligned output buffers.
#include "buffers.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

namespace fastmse {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
// Smaller buffers come and go through malloc's own free lists without page faults.
constexpr size_t kCacheMinBytes = size_t{1} << 20;
// At most this many freed buffers, and at most this many bytes, wait for reuse.
constexpr size_t kCacheMaxBuffers = 2;
constexpr size_t kCacheMaxBytes = size_t{1} << 30;

struct Cache {
    std::mutex mutex;
    std::vector<std::pair<void*, size_t>> free_buffers;  // oldest first
    size_t bytes = 0;
};

Cache& cache() {
    static Cache* instance = new Cache;  // never destroyed: buffers may outlive exit handlers
    return *instance;
}

size_t round_up(size_t bytes, size_t unit) { return (bytes + unit - 1) / unit * unit; }

}  // namespace

void* acquire_buffer(size_t bytes, size_t* capacity) {
    if (bytes >= kCacheMinBytes) {
        Cache& c = cache();
        std::lock_guard<std::mutex> lock(c.mutex);
        // Reuse a buffer that fits without wasting more than half of it.
        for (size_t i = 0; i < c.free_buffers.size(); ++i) {
            auto [buffer, size] = c.free_buffers[i];
            if (size >= bytes && size / 2 <= bytes) {
                c.free_buffers.erase(c.free_buffers.begin() + i);
                c.bytes -= size;
                *capacity = size;
                return buffer;
            }
        }
    }

    const size_t alignment = bytes >= kHugePage ? kHugePage : 64;
    *capacity = round_up(bytes == 0 ? 1 : bytes, alignment);
    void* buffer = std::aligned_alloc(alignment, *capacity);
    if (buffer != nullptr && alignment == kHugePage) {
        madvise(buffer, *capacity, MADV_HUGEPAGE);  // only advice: failure changes nothing
    }
    return buffer;
}

void release_buffer(void* buffer, size_t capacity) {
    if (capacity < kCacheMinBytes || capacity > kCacheMaxBytes) {
        std::free(buffer);
        return;
    }

    Cache& c = cache();
    std::vector<void*> evicted;
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        c.free_buffers.emplace_back(buffer, capacity);
        c.bytes += capacity;
        while (c.free_buffers.size() > kCacheMaxBuffers || c.bytes > kCacheMaxBytes) {
            evicted.push_back(c.free_buffers.front().first);
            c.bytes -= c.free_buffers.front().second;
            c.free_buffers.erase(c.free_buffers.begin());
        }
    }
    for (void* old : evicted) std::free(old);
}

size_t cached_bytes() {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    return c.bytes;
}

void clear_buffer_cache() {
    Cache& c = cache();
    std::vector<std::pair<void*, size_t>> buffers;
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        buffers.swap(c.free_buffers);
        c.bytes = 0;
    }
    for (auto& entry : buffers) std::free(entry.first);
}

}  // namespace fastmse
