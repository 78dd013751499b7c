#include "timestamp.hpp"

#include <ctime>
#include <fmt/format.h>

namespace retryx {

std::string rfc3339(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  // Floor, not truncation toward zero: a time before 1970 keeps its second.
  const auto ms_total = floor<milliseconds>(when.time_since_epoch()).count();
  const auto ms = ((ms_total % 1000) + 1000) % 1000;
  const std::time_t seconds = static_cast<std::time_t>((ms_total - ms) / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms);
}

std::string rfc3339_now() { return rfc3339(std::chrono::system_clock::now()); }

std::int64_t unix_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace retryx
