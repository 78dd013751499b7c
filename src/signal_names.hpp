#pragma once
// Signal names as users write them and as retryx prints them.
#include <optional>
#include <string>
#include <string_view>

namespace retryx {

// "SIGKILL", "KILL", "kill", "SIG9", "SIGRTMIN+2" -> the signal number.
// A bare number is not a signal (in CONDS it is an exit code), so "9" gives
// nullopt. Returns nullopt for anything unknown.
std::optional<int> parse_signal(std::string_view text);

// 9 -> "SIGKILL"; an unnamed number -> "SIG<n>" (e.g. real-time signals).
std::string signal_name(int signal);

}  // namespace retryx
