// Thread count: fastmse's own setting, threadpoolctl's limits, and fork safety.
#include "threads.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>

#ifdef FASTMSE_HAVE_OPENMP
#include <omp.h>
#endif

namespace fastmse {
namespace {

std::atomic<int> g_threads{1};
std::atomic<bool> g_forked{false};
// OpenMP's thread limit when fastmse started. threadpoolctl lowers this limit through
// omp_set_num_threads; a limit below the starting one then caps fastmse too.
int g_start_limit = 1;

// GNU OpenMP's thread pool does not survive fork(): a forked child that enters a parallel
// region waits forever for threads that were not copied. The child therefore runs every
// kernel on its own thread and never enters OpenMP.
void mark_forked_child() { g_forked.store(true); }

}  // namespace

void init_threads(int count) {
#ifdef FASTMSE_HAVE_OPENMP
    g_start_limit = omp_get_max_threads();
#endif
    pthread_atfork(nullptr, nullptr, mark_forked_child);
    set_num_threads(count);
}

void set_num_threads(int count) { g_threads.store(std::max(1, count)); }

int get_num_threads() {
#ifdef FASTMSE_HAVE_OPENMP
    if (g_forked.load()) return 1;
    int limit = omp_get_max_threads();
    int threads = std::min(g_threads.load(), omp_get_thread_limit());
    return limit < g_start_limit ? std::min(threads, limit) : threads;
#else
    return 1;
#endif
}

int threads_for(int64_t elements) {
    if (elements < kParallelMinElements) return 1;
    return get_num_threads();
}

bool openmp_enabled() {
#ifdef FASTMSE_HAVE_OPENMP
    return true;
#else
    return false;
#endif
}

bool in_forked_child() { return g_forked.load(); }

}  // namespace fastmse
