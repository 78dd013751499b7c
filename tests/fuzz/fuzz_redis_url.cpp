// libFuzzer target: parse_redis_url either says why not or returns a
// location that describe_location renders without its password; for TCP
// and TLS the rendering reads back as the same location, with "***" as
// its password.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "store/redis_url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace retryx::store;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_redis_url(text, std::nullopt);
  auto* location = std::get_if<RedisLocation>(&parsed);
  if (location == nullptr) return 0;
  if (location->transport == RedisLocation::Transport::unix_socket) {
    (void)describe_location(*location);
    return 0;
  }
  auto again = parse_redis_url(describe_location(*location), std::nullopt);
  auto* back = std::get_if<RedisLocation>(&again);
  if (back == nullptr) std::abort();
  RedisLocation expected = *location;
  if (expected.password) expected.password = "***";
  if (!(*back == expected)) std::abort();
  return 0;
}
