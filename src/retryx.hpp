#pragma once
// The whole program, as a table of contents (see retryx.cpp). Returns the
// exit status; throws UsageError (and, for retryx's own failures,
// std::exception), which main reports as status 125.

namespace retryx {

int run(int argc, const char* const* argv, const char* const* envp);

}  // namespace retryx
