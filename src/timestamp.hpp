#pragma once
// Timestamps as the log and the report write them: RFC 3339, UTC,
// milliseconds, "Z" ("2026-11-23T10:52:02.123Z").
#include <chrono>
#include <cstdint>
#include <string>

namespace retryx {

std::string rfc3339(std::chrono::system_clock::time_point when);
std::string rfc3339_now();

// The calendar time in milliseconds since the Unix epoch (the state files
// of the circuit and the retry budget, the metrics' timestamps).
std::int64_t unix_now_ms();

}  // namespace retryx
