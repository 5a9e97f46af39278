// Runtime choice of the SIMD target whose kernels fastmse calls.
#pragma once

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

}  // namespace fastmse
