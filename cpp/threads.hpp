// How many threads a kernel call may use.
#pragma once

#include <algorithm>
#include <cstdint>

namespace fastmse {

// Inputs smaller than this many elements run on one thread: below it, starting and ending
// an OpenMP region costs about as much as the work saves. On the 2-core AMD Zen 5
// development machine, where an empty region on two threads takes 1.2 us, a second thread
// made mse 1.19x (float32) and 1.05x (float64) slower at 24576 elements. At 32768 it broke
// even on float32 and saved 17% on float64, and the gradients saved 0% to 32%.
constexpr int64_t kParallelMinElements = 1 << 15;

void init_threads(int count);
void set_num_threads(int count);
int get_num_threads();
// The threads to use for `elements` elements of work: 1 below kParallelMinElements, in a
// forked child, or without OpenMP; else the configured count, lowered by threadpoolctl.
int threads_for(int64_t elements);
bool openmp_enabled();
bool in_forked_child();

// Calls body(i) for i < n on up to `threads` threads: the only OpenMP construct in fastmse.
// With one thread it never enters OpenMP, which keeps small calls cheap and a forked child
// away from the pool it did not inherit.
template <class Body>
void parallel_for(int64_t n, int threads, Body body) {
#ifdef FASTMSE_HAVE_OPENMP
    if (threads > 1 && n > 1) {
        threads = static_cast<int>(std::min<int64_t>(threads, n));
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t i = 0; i < n; ++i) body(i);
        return;
    }
#endif
    for (int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace fastmse
