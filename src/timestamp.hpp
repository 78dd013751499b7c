#pragma once
// Timestamps as the log and the report write them: RFC 3339, UTC,
// milliseconds, "Z" ("2026-11-23T10:52:02.123Z").
#include <chrono>
#include <string>

namespace retryx {

std::string rfc3339(std::chrono::system_clock::time_point when);
std::string rfc3339_now();

}  // namespace retryx
