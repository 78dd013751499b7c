#include <doctest/doctest.h>

#include "store/redis_url.hpp"

using namespace retryx::store;

namespace {

RedisLocation good(std::string_view url, std::optional<std::string> env = std::nullopt) {
  auto parsed = parse_redis_url(url, env);
  INFO(url);
  if (auto* problem = std::get_if<std::string>(&parsed)) FAIL_CHECK(*problem);
  REQUIRE(std::holds_alternative<RedisLocation>(parsed));
  return std::get<RedisLocation>(parsed);
}

std::string bad(std::string_view url) {
  auto parsed = parse_redis_url(url, std::nullopt);
  INFO(url);
  REQUIRE(std::holds_alternative<std::string>(parsed));
  return std::get<std::string>(parsed);
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("store URLs: host and port and database and their defaults") {
  const auto plain = good("redis://cache.example");
  CHECK(plain.transport == RedisLocation::Transport::tcp);
  CHECK(plain.host == "cache.example");
  CHECK(plain.port == 6379);
  CHECK(plain.db == 0);
  CHECK_FALSE(plain.user);
  CHECK_FALSE(plain.password);
  const auto full = good("redis://10.0.0.7:6380/3");
  CHECK(full.host == "10.0.0.7");
  CHECK(full.port == 6380);
  CHECK(full.db == 3);
  CHECK(good("REDIS://h/").db == 0);
  CHECK(good("rediss://h").transport == RedisLocation::Transport::tls);
}

TEST_CASE("store URLs: IPv6 addresses in brackets") {
  const auto loopback = good("redis://[::1]:7000/2");
  CHECK(loopback.host == "::1");
  CHECK(loopback.port == 7000);
  CHECK(loopback.db == 2);
  CHECK(good("rediss://[2001:db8::5]").host == "2001:db8::5");
  CHECK(describe_location(loopback) == "redis://[::1]:7000/2");
  bad("redis://[::1");
  bad("redis://[::1]x");
  bad("redis://[not-v6]:1");
  bad("redis://[::1]:");
}

TEST_CASE("store URLs: user and password percent-encoded") {
  const auto both = good("redis://alice:s%40cr%3At%2F@h:1");
  CHECK(both.user == "alice");
  CHECK(both.password == "s@cr:t/");
  const auto raw = good("redis://:p@ss/word@h");  // the last '@' ends the user info
  CHECK_FALSE(raw.user);
  CHECK(raw.password == "p@ss/word");
  CHECK(good("redis://b%C3%B6b:x@h").user == "b\xC3\xB6" "b");
  CHECK(bad("redis://alice@h").find("':'") != std::string::npos);
  CHECK(bad("redis://:%4@h").find("password") != std::string::npos);
  CHECK(bad("redis://%zz:pw@h").find("user") != std::string::npos);
  bad("redis://:a%00b@h");  // NUL
  bad(std::string_view("redis://a\0b:x@h", 15));  // raw control characters: fuzz_redis_url
  bad("redis://:a\tb@h");
}

TEST_CASE("store URLs: the password from the URL wins over REDISCLI_AUTH") {
  CHECK(good("redis://:fromurl@h", "fromenv").password == "fromurl");
  CHECK(good("redis://h", "fromenv").password == "fromenv");
  const auto acl = good("redis://alice:@h", "fromenv");
  CHECK(acl.user == "alice");
  CHECK(acl.password == "fromenv");
  CHECK_FALSE(good("redis://h", "").password);
  CHECK_FALSE(good("redis://h", std::nullopt).password);
}

TEST_CASE("store URLs: bad ones say why and never with the password") {
  for (const char* url : {"redis://", "redis://:1", "redis://h:0", "redis://h:65536", "redis://h:x",
                          "redis://h:", "redis://h/x", "redis://h/-1", "redis://h/99999999999", "redis://ho st",
                          "redis://h%41", "http://h", "redis:/h", "unix://relative/path", "unix:///s?db=x",
                          "unix:///s?color=red"})
    bad(url);
  const std::string message = bad("redis://u:hunter2@ho st:1");
  CHECK(message.find("hunter2") == std::string::npos);
  CHECK(message.find("ho st") != std::string::npos);
  CHECK(bad("redis://u:p@h:x").find("'x' is not a port") != std::string::npos);
}

TEST_CASE("store URLs: without '@' nothing that could be a password is echoed") {
  // A password whose @HOST was left out reads as a port, a host or a database.
  for (const std::string url : {"redis://user:hunter2", "redis://hunter2!", "redis://u:hunter2/x", "redis://h/hunter2",
                                 "redis://[hunter2]", "redis://[::1]:hunter2"}) {
    INFO(url);
    const std::string message = bad(url);
    CHECK(message.find("hunter2") == std::string::npos);
    CHECK(message.find(" (not shown: without '@' it could be a password)") != std::string::npos);
  }
  CHECK(bad("rediss://:hunter2") == "no host");
}

TEST_CASE("store URLs: unix sockets") {
  const auto socket = good("unix:///run/redis/redis%20server.sock?db=4&user=bob", "pw");
  CHECK(socket.transport == RedisLocation::Transport::unix_socket);
  CHECK(socket.socket_path == "/run/redis/redis server.sock");
  CHECK(socket.db == 4);
  CHECK(socket.user == "bob");
  CHECK(socket.password == "pw");
  CHECK(good("unix:///tmp/r.sock").db == 0);
  CHECK(describe_location(socket) == "unix:///run/redis/redis%20server.sock?db=4&user=bob (password: ***)");
}

TEST_CASE("store URLs: a location for logs shows the password as ***") {
  CHECK(describe_location(good("redis://alice:hunter2@h:1/2")) == "redis://alice:***@h:1/2");
  CHECK(describe_location(good("rediss://:hunter2@h")) == "rediss://:***@h:6379");
  CHECK(describe_location(good("redis://h", "fromenv")) == "redis://:***@h:6379");
  CHECK(describe_location(good("redis://h")) == "redis://h:6379");
  CHECK(describe_location(good("redis://a%3Ab:x@h")) == "redis://a%3Ab:***@h:6379");
  CHECK(describe_location(good("redis://alice:@h")) == "redis://alice:@h:6379");
}

TEST_CASE("store URLs: which locations are Redis URLs") {
  CHECK(is_redis_url("redis://h"));
  CHECK(is_redis_url("Rediss://h"));
  CHECK(is_redis_url("unix:///s"));
  CHECK_FALSE(is_redis_url("/var/lib/retryx/budget"));
  CHECK_FALSE(is_redis_url("redis.state"));
  CHECK_FALSE(is_redis_url("./redis://x"));
}

}  // TEST_SUITE
