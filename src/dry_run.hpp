#pragma once
// --dry-run (spec §8): the resolved policy and, for each retry up to the
// limit (20 rows at most), the nominal delay, the range jitter can give it,
// and the cumulative worst case. Runs nothing.
#include <ostream>

#include "policy.hpp"

namespace retryx {

void print_dry_run(const Policy& policy, const Command& command, std::ostream& out);

}  // namespace retryx
