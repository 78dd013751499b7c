#pragma once
// SharedStore for the unit tests of the fleet's logic: in this process, the
// store module's RedisClient and run_script against a real redis-server
// (redis_server.hpp), with the seam's contract (a problem said once, then
// no more asking); a store that always fails; and one whose replies are
// given. The real one is the retryx-store helper (shared_store.cpp).
#include <algorithm>
#include <doctest/doctest.h>
#include <string>
#include <vector>

#include "redis_server.hpp"
#include "shared_store.hpp"
#include "store/redis_client.hpp"
#include "store/redis_script.hpp"

namespace retryx::testing {

inline store::RedisClientSettings client_settings(const std::string& url) {
  auto parsed = store::parse_redis_url(url, std::nullopt);
  REQUIRE_MESSAGE(std::holds_alternative<store::RedisLocation>(parsed), url);
  return store::RedisClientSettings{std::get<store::RedisLocation>(parsed), {}, std::chrono::milliseconds(250)};
}

// The reply of a script as the helper gives it: a flat array of integers.
inline std::optional<std::vector<std::int64_t>> integers(const store::RedisReply& reply) {
  if (reply.kind != store::RedisReply::Kind::array) return std::nullopt;
  std::vector<std::int64_t> numbers;
  for (const auto& element : reply.elements) {
    if (element.kind != store::RedisReply::Kind::integer) return std::nullopt;
    numbers.push_back(element.integer);
  }
  return numbers;
}

class InProcessStore final : public SharedStore {
 public:
  explicit InProcessStore(const std::string& url) : client_(client_settings(url)) {}
  StoreAnswer run_script(std::string_view body, const std::vector<std::string>& keys,
                         const std::vector<std::string>& args) override {
    ++calls;
    if (failed_) return {};
    const auto result = store::run_script(client_, store::RedisScript(std::string(body)), keys, args);
    failed_ = true;
    if (const auto* error = std::get_if<store::StoreError>(&result))
      return {std::nullopt, store::kind_name(error->kind) + ": " + error->message};
    auto numbers = integers(std::get<store::ScriptRun>(result).reply);
    if (!numbers) return {std::nullopt, "unexpected reply"};
    failed_ = false;
    return {std::move(numbers), ""};
  }
  std::string location() const override { return store::describe_location(client_.settings().location); }
  void give_up() override { failed_ = true; }
  int calls = 0;

 private:
  store::RedisClient client_;
  bool failed_ = false;
};

// A store that cannot be reached: the problem the first time, then nothing.
class FailingStore final : public SharedStore {
 public:
  StoreAnswer run_script(std::string_view, const std::vector<std::string>&, const std::vector<std::string>&) override {
    return {std::nullopt, ++calls == 1 ? "connect: Connection refused" : ""};
  }
  std::string location() const override { return "redis://127.0.0.1:1"; }
  void give_up() override {}  // it has, at the first call
  int calls = 0;
};

// A store that answers, in turn, the replies given (the last one again and
// again), as a store with scripts of another retryx would: replies that
// are not always ours. It counts the calls it answered; once given up it
// answers nothing and does not count.
class RepliesStore final : public SharedStore {
 public:
  explicit RepliesStore(std::vector<std::vector<std::int64_t>> replies) : replies_(std::move(replies)) {}
  StoreAnswer run_script(std::string_view, const std::vector<std::string>&, const std::vector<std::string>&) override {
    if (given_up) return {};
    ++calls;
    return {replies_[std::min(static_cast<std::size_t>(calls), replies_.size()) - 1], ""};
  }
  std::string location() const override { return "redis://127.0.0.1:6379"; }
  void give_up() override { given_up = true; }
  int calls = 0;
  bool given_up = false;

 private:
  std::vector<std::vector<std::int64_t>> replies_;
};

// A real redis-server (on a unix socket) and a client, for the scripts'
// tests: commands and scripts whose errors fail the test.
struct ServerAtHand {
  RedisServer server;
  store::RedisClient client{client_settings(server.unix_url())};

  store::RedisReply call(const store::Command& command) {
    auto answer = client.call(command);
    if (auto* error = std::get_if<store::StoreError>(&answer)) FAIL(store::kind_name(error->kind) << ": " << error->message);
    return std::get<store::RedisReply>(answer);
  }
  // The script's reply, which must be integers.
  std::vector<std::int64_t> run(const std::string& script, const std::vector<std::string>& keys,
                                const std::vector<std::string>& args) {
    auto result = store::run_script(client, store::RedisScript(script), keys, args);
    if (auto* error = std::get_if<store::StoreError>(&result)) FAIL(store::kind_name(error->kind) << ": " << error->message);
    auto numbers = testing::integers(std::get<store::ScriptRun>(result).reply);
    REQUIRE(numbers.has_value());
    return *numbers;
  }
  std::int64_t server_now() {
    const auto time = call({"TIME"});
    REQUIRE(time.elements.size() == 2);
    return std::stoll(time.elements[0].text) * 1000 + std::stoll(time.elements[1].text) / 1000;
  }
  std::int64_t pttl(const std::string& name) { return call({"PTTL", name}).integer; }
};

}  // namespace retryx::testing
