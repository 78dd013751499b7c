// The store's client against a real redis-server (tests/unit/redis_server.hpp).
#include <csignal>
#include <doctest/doctest.h>

#include "redis_server.hpp"
#include "store/redis_client.hpp"
#include "store/redis_script.hpp"

using namespace retryx::store;
using retryx::testing::RedisServer;

namespace {

RedisClientSettings settings_for(const std::string& url, std::optional<std::string> env_password = std::nullopt) {
  auto parsed = parse_redis_url(url, env_password);
  REQUIRE_MESSAGE(std::holds_alternative<RedisLocation>(parsed), url);
  return RedisClientSettings{std::get<RedisLocation>(parsed), {}, std::chrono::milliseconds(250)};
}

RedisReply ok(StoreReply answer) {
  if (auto* problem = std::get_if<StoreError>(&answer)) FAIL(kind_name(problem->kind) << ": " << problem->message);
  return std::get<RedisReply>(answer);
}

StoreError failed(StoreReply answer) {
  REQUIRE_MESSAGE(std::holds_alternative<StoreError>(answer), "the call succeeded");
  return std::get<StoreError>(answer);
}

// SIGPIPE at its default action for the test: a write that raised it
// would end the test process, and the test with it.
struct SigpipeDefault {
  struct sigaction previous {};
  SigpipeDefault() {
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &action, &previous);
  }
  ~SigpipeDefault() { ::sigaction(SIGPIPE, &previous, nullptr); }
};

}  // namespace

TEST_SUITE("store") {

TEST_CASE("store client: PING and SET and GET over a unix socket and over TCP") {
  RedisServer server({}, RedisServer::Listen::tcp);
  for (const std::string& url : {server.unix_url(), server.tcp_url(), server.tcp_url("redis", "localhost")}) {
    INFO(url);
    RedisClient client(settings_for(url));
    CHECK_FALSE(client.connected());
    const auto pong = ok(client.call({"PING"}));
    CHECK(pong.kind == RedisReply::Kind::status);
    CHECK(pong.text == "PONG");
    CHECK(client.connected());
    const std::string binary("a\0b\r\nc", 6);
    CHECK(ok(client.call({"SET", "key", binary})).text == "OK");
    const auto value = ok(client.call({"GET", "key"}));
    CHECK(value.kind == RedisReply::Kind::string);
    CHECK(value.text == binary);
    CHECK(ok(client.call({"GET", "missing"})).kind == RedisReply::Kind::nil);
    const auto replies = client.call_all({{"DEL", "n"}, {"INCR", "n"}, {"INCRBY", "n", "41"}, {"LRANGE", "none", "0", "-1"}},
                                         RedisClient::Clock::now() + std::chrono::milliseconds(250));
    REQUIRE(std::holds_alternative<std::vector<RedisReply>>(replies));
    const auto& list = std::get<std::vector<RedisReply>>(replies);
    REQUIRE(list.size() == 4);
    CHECK(list[2].kind == RedisReply::Kind::integer);
    CHECK(list[2].integer == 42);
    CHECK(list[3].kind == RedisReply::Kind::array);
    CHECK(list[3].elements.empty());
  }
}

TEST_CASE("store client: an error reply (WRONGTYPE) is an error value and the connection goes on") {
  RedisServer server;
  RedisClient client(settings_for(server.unix_url()));
  ok(client.call({"SET", "retryx:{job}:budget", "a string"}));
  const auto problem = failed(client.call({"LPUSH", "retryx:{job}:budget", "x"}));
  CHECK(problem.kind == StoreError::Kind::reply);
  CHECK(problem.message.starts_with("WRONGTYPE"));
  CHECK(client.connected());
  CHECK(ok(client.call({"PING"})).text == "PONG");
}

TEST_CASE("store scripts: EVALSHA then EVAL after NOSCRIPT (SCRIPT FLUSH) with the SHA1 computed here") {
  RedisServer server;
  RedisClient client(settings_for(server.unix_url()));
  const RedisScript script("return redis.call('INCR', KEYS[1]) * tonumber(ARGV[1])");
  CHECK(ok(client.call({"SCRIPT", "LOAD", script.body()})).text == script.sha1());
  ok(client.call({"SCRIPT", "FLUSH"}));
  const auto run = [&] {
    auto result = run_script(client, script, {"counter"}, {"10"});
    if (auto* problem = std::get_if<StoreError>(&result)) FAIL(problem->message);
    return std::get<ScriptRun>(result);
  };
  const auto first = run();
  CHECK(first.sent_body);  // NOSCRIPT, then EVAL
  CHECK(first.reply.integer == 10);
  const auto second = run();
  CHECK_FALSE(second.sent_body);  // EVAL loaded it: EVALSHA is enough
  CHECK(second.reply.integer == 20);
  ok(client.call({"SCRIPT", "FLUSH"}));  // as a restart or a failover leaves it
  const auto third = run();
  CHECK(third.sent_body);
  CHECK(third.reply.integer == 30);
  const auto stats = ok(client.call({"INFO", "commandstats"})).text;
  CHECK(stats.find("cmdstat_eval:calls=2,") != std::string::npos);
  CHECK(sha1_hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  // A script's own error is the error value, not a fallback.
  auto broken = run_script(client, RedisScript("return redis.call('NOSUCHCOMMAND')"), {}, {});
  REQUIRE(std::holds_alternative<StoreError>(broken));
  CHECK(std::get<StoreError>(broken).kind == StoreError::Kind::reply);
}

TEST_CASE("store client: requirepass with the right and a wrong password (never in a message)") {
  RedisServer server({"--requirepass", "right-horse-battery"}, RedisServer::Listen::tcp);
  CHECK(ok(RedisClient(settings_for(server.unix_url(), "right-horse-battery")).call({"PING"})).text == "PONG");
  // The URL's password wins over the environment's.
  const std::string url = "redis://:right-horse-battery@127.0.0.1:" + std::to_string(server.port);
  CHECK(ok(RedisClient(settings_for(url, "wrong-from-env")).call({"PING"})).text == "PONG");
  RedisClient wrong(settings_for(server.unix_url(), "wrong-staple-guess"));
  const auto problem = failed(wrong.call({"PING"}));
  CHECK(problem.kind == StoreError::Kind::auth);
  CHECK(problem.message.find("WRONGPASS") != std::string::npos);
  CHECK(problem.message.find("wrong-staple-guess") == std::string::npos);
  CHECK_FALSE(wrong.connected());
  const auto none = failed(RedisClient(settings_for(server.unix_url())).call({"PING"}));
  CHECK(none.kind == StoreError::Kind::reply);
  CHECK(none.message.starts_with("NOAUTH"));
}

TEST_CASE("store client: an ACL user (AUTH USER PASSWORD)") {
  RedisServer server({}, RedisServer::Listen::tcp);
  RedisClient admin(settings_for(server.unix_url()));
  ok(admin.call({"ACL", "SETUSER", "fleet", "on", ">fleet-pass", "~retryx:*", "+@all"}));
  RedisClient fleet(settings_for("redis://fleet:fleet-pass@127.0.0.1:" + std::to_string(server.port)));
  CHECK(ok(fleet.call({"ACL", "WHOAMI"})).text == "fleet");
  CHECK(ok(fleet.call({"SET", "retryx:{a}:x", "1"})).text == "OK");
  const auto denied = failed(fleet.call({"SET", "other", "1"}));  // outside its key pattern
  CHECK(denied.kind == StoreError::Kind::reply);
  CHECK(denied.message.starts_with("NOPERM"));
  RedisClient from_env(settings_for("redis://fleet:@127.0.0.1:" + std::to_string(server.port), "fleet-pass"));
  CHECK(ok(from_env.call({"ACL", "WHOAMI"})).text == "fleet");
  const auto problem = failed(RedisClient(settings_for("redis://fleet:not-it@127.0.0.1:" + std::to_string(server.port))).call({"PING"}));
  CHECK(problem.kind == StoreError::Kind::auth);
  CHECK(problem.message.find("not-it") == std::string::npos);
}

TEST_CASE("store client: SELECT the URL's database") {
  RedisServer server({}, RedisServer::Listen::tcp);
  RedisClient db3(settings_for(server.tcp_url() + "/3"));
  ok(db3.call({"SET", "where", "db3"}));
  RedisClient db0(settings_for(server.unix_url()));
  CHECK(ok(db0.call({"GET", "where"})).kind == RedisReply::Kind::nil);
  RedisClient db3_unix(settings_for(server.unix_url() + "?db=3"));
  CHECK(ok(db3_unix.call({"GET", "where"})).text == "db3");
  const auto problem = failed(RedisClient(settings_for(server.tcp_url() + "/99")).call({"PING"}));
  CHECK(problem.kind == StoreError::Kind::select);
}

TEST_CASE("store client: the server down is a connect error and not a wait") {
  // A port held by a socket that never listens: the kernel refuses at once.
  const auto [fd, port] = retryx::testing::bound_loopback_socket();
  const auto refused = failed(RedisClient(settings_for("redis://127.0.0.1:" + std::to_string(port))).call({"PING"}));
  ::close(fd);
  CHECK(refused.kind == StoreError::Kind::connect);
  CHECK(refused.message.find("refused") != std::string::npos);
  const std::string dir = retryx::testing::temp_dir();
  const auto missing = failed(RedisClient(settings_for("unix://" + dir + "/none.sock")).call({"PING"}));
  CHECK(missing.kind == StoreError::Kind::connect);
  std::filesystem::remove_all(dir);
}

TEST_CASE("store client: a hung server (SIGSTOP) gives a timeout within the deadline") {
  RedisServer server({}, RedisServer::Listen::tcp);
  RedisClient connected(settings_for(server.unix_url()));
  ok(connected.call({"PING"}));
  server.pause();
  // Returning at all is the point: the CTest TIMEOUT catches a hang.
  const auto on_open = failed(connected.call({"PING"}));
  CHECK(on_open.kind == StoreError::Kind::timeout);
  CHECK_FALSE(connected.connected());
  for (const std::string& url : {server.unix_url(), server.tcp_url()}) {
    const auto fresh = failed(RedisClient(settings_for(url)).call({"PING"}));  // connect succeeds (the backlog)
    CHECK(fresh.kind == StoreError::Kind::timeout);
  }
  server.resume();
  CHECK(ok(connected.call({"PING"})).text == "PONG");  // connects again
}

TEST_CASE("store client: the server closing the connection between commands is a new connection and mid-command an error without SIGPIPE") {
  const SigpipeDefault sigpipe;
  RedisServer server({"--proto-max-bulk-len", "1mb"}, RedisServer::Listen::tcp);
  for (const std::string& url : {server.unix_url(), server.tcp_url()}) {
    INFO(url);
    RedisClient client(settings_for(url));
    RedisClient admin(settings_for(server.unix_url()));
    ok(client.call({"CLIENT", "SETNAME", "victim"}));
    const long long first_id = ok(client.call({"CLIENT", "ID"})).integer;
    ok(admin.call({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}));
    // Closed by the server between two calls (as a restart closes it): the
    // next call sees it before writing, and connects again.
    CHECK(ok(client.call({"PING"})).text == "PONG");
    CHECK(ok(client.call({"CLIENT", "ID"})).integer != first_id);
    // A bulk longer than proto-max-bulk-len: the server answers an error
    // and closes while 32 MiB are still being written.
    const auto cut = failed(client.call({"SET", "big", std::string(32u << 20, 'x')},
                                        RedisClient::Clock::now() + std::chrono::seconds(20)));
    CHECK(cut.kind == StoreError::Kind::io);
    MESSAGE(cut.message);
  }
}

}  // TEST_SUITE
