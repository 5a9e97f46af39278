// Detects what the CPU supports and fills in the kernel table to use.
#include "dispatch.hpp"

#include <atomic>
#include <fstream>
#include <stdexcept>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace fastmse {
namespace {

struct Target {
    const char* name;
    const KernelTable& (*table)();
    bool (*supported)();
};

bool always() { return true; }

#if defined(__x86_64__) || defined(_M_X64)

// Extended control register 0: which register states the operating system saves on a
// context switch. A CPU flag alone is not enough, the OS must also save the wide registers.
uint64_t read_xcr0() {
    uint32_t eax = 0, edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<uint64_t>(edx) << 32) | eax;
}

bool os_saves(uint64_t state_bits) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    const bool osxsave = ecx & (1u << 27);
    return osxsave && (read_xcr0() & state_bits) == state_bits;
}

bool has_avx2_fma() {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    const bool fma = ecx & (1u << 12);
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    const bool avx2 = ebx & (1u << 5);
    return fma && avx2 && os_saves(0x6);  // SSE and AVX state
}

bool has_avx512() {
    unsigned eax, ebx, ecx, edx;
    if (!has_avx2_fma() || !__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    const bool f = ebx & (1u << 16), dq = ebx & (1u << 17);
    const bool bw = ebx & (1u << 30), vl = ebx & (1u << 31);
    return f && dq && bw && vl && os_saves(0xe6);  // plus opmask and the upper ZMM state
}

// Whether this is AMD Zen 4: family 19h with AVX-512 (Zen 3, also family 19h, has none).
// Zen 4 executes each 512-bit instruction as two 256-bit halves, and widens float32 to
// double at about half the rate of two 256-bit conversions (measured on an EPYC). Zen 5
// (family 1Ah) and Intel's AVX-512 CPUs are assumed to widen at full width.
bool is_zen4() {
    unsigned eax, ebx, ecx, edx;
    if (!has_avx512() || !__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return false;
    const bool amd = ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163;  // AuthenticAMD
    if (!amd || !__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    const unsigned family = (eax >> 8) & 0xf, extended = (eax >> 20) & 0xff;
    return family == 0xf && family + extended == 0x19;
}

#else

bool is_zen4() { return false; }

#endif

const Target kTargets[] = {
    {"scalar", &scalar::kernel_table, &always},
#ifdef FASTMSE_HAVE_NEON
    {"neon", &neon::kernel_table, &always},
#endif
#ifdef FASTMSE_HAVE_AVX2
    {"avx2", &avx2::kernel_table, &has_avx2_fma},
#endif
#ifdef FASTMSE_HAVE_AVX512
    {"avx512", &avx512::kernel_table, &has_avx512},
#endif
};

// The size in bytes of cpu0's data or unified cache of `level`, from Linux's sysfs, or 0.
int64_t cache_bytes(int level) {
    for (int index = 0;; ++index) {
        const std::string dir =
            "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
        std::ifstream level_file(dir + "level"), type_file(dir + "type"), size_file(dir + "size");
        int found = 0;
        if (!(level_file >> found)) return 0;
        std::string type;
        int64_t size = 0;
        char unit = 0;
        if (found != level || !(type_file >> type) || type == "Instruction") continue;
        if (!(size_file >> size >> unit)) return 0;
        if (unit == 'K') return size << 10;
        if (unit == 'M') return size << 20;
        if (unit == 'G') return size << 30;
        return 0;
    }
}

PrefetchWindow default_prefetch_window() {
    const int64_t l1 = cache_bytes(1), l3 = cache_bytes(3);
    if (l1 == 0 || l3 == 0) return {0, 0, 0};
    return {l1, l3 / 4, l3 / 2};
}

std::atomic<const KernelTable*> g_active{nullptr};
std::atomic<bool> g_split_conversions{is_zen4()};
const PrefetchWindow kDefaultWindow = default_prefetch_window();
std::atomic<int64_t> g_prefetch_min{kDefaultWindow.min_bytes_per_thread};
std::atomic<int64_t> g_prefetch_max_per_thread{kDefaultWindow.max_bytes_per_thread};
std::atomic<int64_t> g_prefetch_max{kDefaultWindow.max_bytes};

}  // namespace

PrefetchWindow prefetch_window() noexcept {
    return {g_prefetch_min.load(std::memory_order_relaxed),
            g_prefetch_max_per_thread.load(std::memory_order_relaxed),
            g_prefetch_max.load(std::memory_order_relaxed)};
}

void set_prefetch_window(PrefetchWindow window) noexcept {
    g_prefetch_min.store(window.min_bytes_per_thread, std::memory_order_relaxed);
    g_prefetch_max_per_thread.store(window.max_bytes_per_thread, std::memory_order_relaxed);
    g_prefetch_max.store(window.max_bytes, std::memory_order_relaxed);
}

bool split_conversions() noexcept { return g_split_conversions.load(std::memory_order_relaxed); }

void set_split_conversions(bool split) noexcept {
    g_split_conversions.store(split, std::memory_order_relaxed);
}

const KernelTable& active_kernels() { return *g_active.load(std::memory_order_relaxed); }

std::vector<std::string> built_targets() {
    std::vector<std::string> names;
    for (const Target& target : kTargets) names.emplace_back(target.name);
    return names;
}

std::vector<std::string> supported_targets() {
    std::vector<std::string> names;
    for (const Target& target : kTargets) {
        if (target.supported()) names.emplace_back(target.name);
    }
    return names;
}

bool select_best_target(const std::string& cap) {
    const Target* best = nullptr;
    bool cap_found = false;
    for (const Target& target : kTargets) {
        if (target.supported()) best = &target;
        if (cap == target.name) {
            cap_found = true;
            break;
        }
    }
    if (!cap.empty() && !cap_found) return false;
    g_active.store(&best->table());
    return true;
}

void use_target(const std::string& name) {
    for (const Target& target : kTargets) {
        if (name != target.name) continue;
        if (!target.supported()) {
            throw std::invalid_argument("SIMD target '" + name + "' is not supported by this CPU");
        }
        g_active.store(&target.table());
        return;
    }
    throw std::invalid_argument("SIMD target '" + name + "' is not built into this fastmse");
}

}  // namespace fastmse
