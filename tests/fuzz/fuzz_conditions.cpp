// libFuzzer target: parse_codes and parse_conditions either throw
// ValueError or return a set; nothing else (no crash, no other exception).
#include <cstdint>
#include <string_view>

#include "conditions.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)retryx::parse_codes(text);
  } catch (const retryx::ValueError&) {
  }
  try {
    (void)retryx::parse_conditions(text);
  } catch (const retryx::ValueError&) {
  }
  return 0;
}
