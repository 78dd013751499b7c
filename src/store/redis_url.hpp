#pragma once
// Where a Redis store is (spec §11), read from a URL:
//   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]     plain TCP (port 6379)
//   rediss://[[USER]:PASSWORD@]HOST[:PORT][/DB]    TLS, the server's certificate verified
//   unix:///PATH/TO/SOCKET[?db=N][&user=USER]      a unix socket
// HOST is a name, an IPv4 address or an IPv6 address in brackets
// ([::1]; zone ids are not accepted). USER, PASSWORD and the socket's PATH
// may be percent-encoded (%40 for '@', %3A for ':'). USER@HOST without a
// ':' is refused (redis-cli would take it as the password): write
// USER:PASSWORD@ or, with the password from the environment, USER:@.
// A password in the URL wins over env_password (REDISCLI_AUTH, redis-cli's
// variable, which keeps the password out of `ps`); an empty one counts as
// none. DB is a whole number (SELECT), 0 when absent.
// No function here puts the password in a message or a rendered location.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace retryx::store {

struct RedisLocation {
  enum class Transport { tcp, tls, unix_socket };
  Transport transport = Transport::tcp;
  std::string host;         // tcp, tls: a name or an address (IPv6 without brackets)
  std::uint16_t port = 6379;
  std::string socket_path;  // unix_socket
  std::optional<std::string> user;      // an ACL user (AUTH USER PASSWORD)
  std::optional<std::string> password;  // AUTH [USER] PASSWORD; never logged
  unsigned db = 0;                      // SELECT db when not 0
  bool operator==(const RedisLocation&) const = default;
};

// Whether a LOCATION names Redis (redis://, rediss://, unix://) rather
// than a file: the scheme alone, case-insensitive, as a URL's is.
bool is_redis_url(std::string_view location);

// The location, or why the URL is not one (the message never holds the
// password).
std::variant<RedisLocation, std::string> parse_redis_url(std::string_view url,
                                                         const std::optional<std::string>& env_password);

// The location for logs: the URL with the password shown as *** (when
// one will be sent, from the URL or the environment), never the password.
std::string describe_location(const RedisLocation& location);

}  // namespace retryx::store
