// Runtime choice of the SIMD target whose kernels fastmse calls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels.hpp"

namespace fastmse {

// The kernel table in use. Chosen at import; changed only by use_target.
const KernelTable& active_kernels();

// Targets compiled into this build, from the slowest to the fastest.
std::vector<std::string> built_targets();
// Built targets this CPU and its operating system can run.
std::vector<std::string> supported_targets();

// Uses the fastest supported target that is not faster than `cap`; an empty cap means no
// cap. Returns false, and changes nothing, when `cap` names no built target.
bool select_best_target(const std::string& cap);
// Uses exactly `name`; throws std::invalid_argument when this CPU cannot run it.
void use_target(const std::string& name);

// The contiguous inputs for which the driver requests prefetching from the reductions
// (kCanPrefetch in mse.hpp), counting the bytes of every input array: more than
// min_bytes_per_thread and at most max_bytes_per_thread for each thread, and at most
// max_bytes in all. By default the L1 data cache of a core, a quarter of the L3 cache and
// half of it, as Linux reports them. Data that fit in the L1 cache gain nothing. Data in
// the L2 cache gained 5% to 14% on a 2-core Intel Xeon with 2 MiB of L2 per core and
// nothing on a 2-core AMD Zen 5. Data in the L3 cache gained up to 21% on the Zen 5 and
// up to 16% on the Xeon. Above, the data come partly from main memory, where the hardware
// prefetcher often does better alone. On the Zen 5, one thread reading half the L3 cache
// was 5% to 15% slower, and two threads reading all of it up to 30%. On the Xeon, two
// threads reading 760 MB of float64 were 7% slower. All are 0 (never) where Linux does not
// report the cache sizes. Only the speed differs, never a result. Tests move the window.
struct PrefetchWindow {
    int64_t min_bytes_per_thread;
    int64_t max_bytes_per_thread;
    int64_t max_bytes;
};
PrefetchWindow prefetch_window() noexcept;
void set_prefetch_window(PrefetchWindow window) noexcept;

}  // namespace fastmse
