// Builds one target's kernel table; CMake compiles this file once per SIMD target.
#include "exact.hpp"
#include "linear.hpp"
#include "mse.hpp"

namespace fastmse {
namespace FASTMSE_TARGET {

#define FASTMSE_STRINGIFY_(x) #x
#define FASTMSE_STRINGIFY(x) FASTMSE_STRINGIFY_(x)

template <class T>
constexpr KernelSet<T> kernel_set() {
    return {&reduce<T>,  &reduce_pieces<T>, &store_leaves<T>, &sum_stored_leaves, &sum_weights<T>,
            &map<T>,     &stream_sum<T>,    &reduce_exact<T>, &linear_block<T>,   kLeaf,
            kLeafDoubles};
}

const KernelTable& kernel_table() {
    static const KernelTable table{FASTMSE_STRINGIFY(FASTMSE_TARGET), kernel_set<float>(),
                                   kernel_set<double>()};
    return table;
}

}  // namespace FASTMSE_TARGET
}  // namespace fastmse
