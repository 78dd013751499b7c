#include "store/redis_url.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <fmt/format.h>

namespace retryx::store {

namespace {

using Parsed = std::variant<RedisLocation, std::string>;

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; nullopt for a broken escape or a NUL byte (which no
// C string can carry to the server or the file system).
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]), low = hex_value(text[i + 2]);
    if (high < 0 || low < 0 || (high == 0 && low == 0)) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || c == '/')
      out += c;
    else
      out += fmt::format("%{:02X}", u);
  }
  return out;
}

std::optional<unsigned> whole_number(std::string_view text, unsigned long max) {
  unsigned long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return static_cast<unsigned>(value);
}

bool host_name_ok(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (const char c : host)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          c == '_'))
      return false;
  return true;
}

// [[USER]:PASSWORD@]: sets user and password; an error message or "".
std::string read_user_info(std::string_view info, RedisLocation& location) {
  const auto colon = info.find(':');
  if (colon == std::string_view::npos)
    return "a user without ':' (write USER:PASSWORD@, :PASSWORD@, or USER:@ with REDISCLI_AUTH)";
  const auto user = percent_decode(info.substr(0, colon));
  const auto password = percent_decode(info.substr(colon + 1));
  if (!user) return "a broken percent escape in the user";
  if (!password) return "a broken percent escape in the password";
  if (!user->empty()) location.user = *user;
  if (!password->empty()) location.password = *password;
  return "";
}

Parsed parse_network(std::string_view rest, RedisLocation location) {
  // The last '@': a password may hold '@' and '/' unescaped (a DB never does).
  const auto at = rest.rfind('@');
  // Without '@', what stands for the host, the port or the database may
  // be a password whose @HOST was left out (redis://user:PASSWORD): it is
  // not echoed then.
  const auto not_a = [&](std::string_view text, std::string_view quoted, std::string_view bare) {
    return at == std::string_view::npos ? fmt::format("{} (not shown: without '@' it could be a password)", bare)
                                        : fmt::format("'{}' is not {}", text, quoted);
  };
  if (at != std::string_view::npos) {
    if (auto problem = read_user_info(rest.substr(0, at), location); !problem.empty()) return problem;
    rest.remove_prefix(at + 1);
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::string("an IPv6 address without its ']'");
    location.host = std::string(authority.substr(1, close - 1));
    in6_addr address{};
    if (::inet_pton(AF_INET6, location.host.c_str(), &address) != 1)
      return not_a(location.host, "an IPv6 address", "the host in brackets is not an IPv6 address");
    const auto after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return std::string("something after the IPv6 address's ']'");
    if (!after.empty()) port = after.substr(1);
    if (after == ":") return std::string("an empty port");
  } else {
    const auto colon = authority.find(':');
    location.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return std::string("an empty port");
    }
    if (location.host.empty()) return std::string("no host");
    if (!host_name_ok(location.host)) return not_a(location.host, "a host name", "the host is not a host name");
  }
  if (!port.empty()) {
    const auto number = whole_number(port, 65535);
    if (!number || *number == 0) return not_a(port, "a port (1 to 65535)", "the port is not a number from 1 to 65535");
    location.port = static_cast<std::uint16_t>(*number);
  }
  if (!path.empty()) {
    const auto db = whole_number(path, 2147483647);
    if (!db) return not_a(path, "a database number", "the database is not a whole number");
    location.db = *db;
  }
  return location;
}

Parsed parse_unix(std::string_view rest, RedisLocation location) {
  if (!rest.starts_with('/')) return std::string("a unix socket's path must be absolute (unix:///PATH)");
  const auto question = rest.find('?');
  const auto path = percent_decode(rest.substr(0, question));
  if (!path) return std::string("a broken percent escape in the socket's path");
  location.socket_path = *path;
  if (question == std::string_view::npos) return location;
  std::string_view query = rest.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.starts_with("db=")) {
      const auto db = whole_number(item.substr(3), 2147483647);
      if (!db) return fmt::format("'{}' is not a database number", item.substr(3));
      location.db = *db;
    } else if (item.starts_with("user=")) {
      const auto user = percent_decode(item.substr(5));
      if (!user) return std::string("a broken percent escape in the user");
      if (!user->empty()) location.user = *user;
    } else {
      return fmt::format("unknown parameter '{}' (db=N and user=USER are known)", item.substr(0, item.find('=')));
    }
  }
  return location;
}

}  // namespace

bool is_redis_url(std::string_view location) {
  return starts_with_nocase(location, "redis://") || starts_with_nocase(location, "rediss://") ||
         starts_with_nocase(location, "unix://");
}

std::variant<RedisLocation, std::string> parse_redis_url(std::string_view url,
                                                         const std::optional<std::string>& env_password) {
  RedisLocation location;
  Parsed parsed;
  // Raw control characters (NUL included) are no part of a URL: percent-encode them.
  for (const char c : url)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::string("a control character in the URL");
  if (starts_with_nocase(url, "redis://")) {
    parsed = parse_network(url.substr(8), location);
  } else if (starts_with_nocase(url, "rediss://")) {
    location.transport = RedisLocation::Transport::tls;
    parsed = parse_network(url.substr(9), location);
  } else if (starts_with_nocase(url, "unix://")) {
    location.transport = RedisLocation::Transport::unix_socket;
    parsed = parse_unix(url.substr(7), location);
  } else {
    return std::string("not a Redis URL (redis://, rediss:// or unix://)");
  }
  if (auto* found = std::get_if<RedisLocation>(&parsed)) {
    if (!found->password && env_password && !env_password->empty()) found->password = *env_password;
  }
  return parsed;
}

std::string describe_location(const RedisLocation& location) {
  // USER:@ for a user without a password, as the URL would be written.
  const std::string credentials =
      location.password || location.user
          ? fmt::format("{}:{}@", percent_encode(location.user.value_or("")), location.password ? "***" : "")
          : "";
  switch (location.transport) {
    case RedisLocation::Transport::unix_socket: {
      std::string text = "unix://" + percent_encode(location.socket_path);
      std::string query;
      if (location.db != 0) query += fmt::format("db={}", location.db);
      if (location.user) query += fmt::format("{}user={}", query.empty() ? "" : "&", percent_encode(*location.user));
      if (!query.empty()) text += "?" + query;
      if (location.password) text += " (password: ***)";
      return text;
    }
    case RedisLocation::Transport::tcp:
    case RedisLocation::Transport::tls:
      break;
  }
  const bool v6 = location.host.find(':') != std::string::npos;
  std::string text = fmt::format("{}://{}{}{}{}:{}", location.transport == RedisLocation::Transport::tls ? "rediss" : "redis",
                                 credentials, v6 ? "[" : "", location.host, v6 ? "]" : "", location.port);
  if (location.db != 0) text += fmt::format("/{}", location.db);
  return text;
}

}  // namespace retryx::store
