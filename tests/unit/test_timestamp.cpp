#include <doctest/doctest.h>

#include "timestamp.hpp"

using namespace retryx;
using namespace std::chrono;

TEST_CASE("RFC 3339 UTC with milliseconds and Z") {
  CHECK(rfc3339(system_clock::time_point(milliseconds(0))) == "1970-01-01T00:00:00.000Z");
  CHECK(rfc3339(system_clock::time_point(milliseconds(1764720000123))) == "2025-12-03T00:00:00.123Z");
  // Below a millisecond: cut, never rounded up into the next second.
  CHECK(rfc3339(system_clock::time_point(microseconds(1764720059999999))) == "2025-12-03T00:00:59.999Z");
  // Before 1970: the second is floored, the milliseconds stay positive.
  CHECK(rfc3339(system_clock::time_point(milliseconds(-1))) == "1969-12-31T23:59:59.999Z");
  const std::string now = rfc3339_now();
  CHECK(now.size() == 24);
  CHECK(now.back() == 'Z');
}
