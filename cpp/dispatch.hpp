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

// The contiguous inputs for which the driver asks the reductions to prefetch (kCanPrefetch
// in mse.hpp): more than min_bytes_per_thread bytes for each thread, counting every input
// array, and at most max_bytes in all. By default 1.5 times a core's L2 cache and a quarter
// of the L3 cache, as Linux reports them, which is where prefetching paid on the 2-core
// AMD Zen 5 development machine. Below, the L2 cache holds most of the data. Above, the L3
// cache, which other machines' work shares, may not, and from main memory the hardware
// prefetcher does better alone: at half the L3 cache, one thread was sometimes 5% to 10%
// slower. Both are 0 (never) where Linux does not report the cache sizes. Only the speed
// differs, never a result; tests move the window.
struct PrefetchWindow {
    int64_t min_bytes_per_thread;
    int64_t max_bytes;
};
PrefetchWindow prefetch_window() noexcept;
void set_prefetch_window(PrefetchWindow window) noexcept;

}  // namespace fastmse
