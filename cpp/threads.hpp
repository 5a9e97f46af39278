// How many threads a kernel call may use.
#pragma once

#include <cstdint>

namespace fastmse {

// Inputs smaller than this many elements run on one thread: below it, waking the OpenMP
// team costs about as much as the work saves. On the 2-core AVX-512 development machine a
// second thread made no difference at 10**4 float64 elements and saved a quarter at 3 * 10**4.
constexpr int64_t kParallelMinElements = 1 << 14;

void init_threads(int count);
void set_num_threads(int count);
int get_num_threads();
// The threads to use for `elements` elements of work: 1 below kParallelMinElements, in a
// forked child, or without OpenMP; else the configured count, lowered by threadpoolctl.
int threads_for(int64_t elements);
bool openmp_enabled();
bool in_forked_child();

}  // namespace fastmse
