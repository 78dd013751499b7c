#pragma once
// Lua scripts on the store: EVALSHA first (the script is sent by its SHA1,
// computed here), then EVAL with the script's text when the server answers
// NOSCRIPT: its script cache is empty after a restart, a failover or
// SCRIPT FLUSH. Both steps share one deadline.
#include <string>
#include <vector>

#include "store/redis_client.hpp"

namespace retryx::store {

class RedisScript {
 public:
  explicit RedisScript(std::string body);
  const std::string& body() const { return body_; }
  const std::string& sha1() const { return sha1_; }  // 40 lowercase hex digits

 private:
  std::string body_;
  std::string sha1_;
};

// What running a script did: the reply, and whether its text had to be
// sent (the server did not have it).
struct ScriptRun {
  RedisReply reply;
  bool sent_body = false;
};
using ScriptResult = std::variant<ScriptRun, StoreError>;

ScriptResult run_script(RedisClient& client, const RedisScript& script, const std::vector<std::string>& keys,
                        const std::vector<std::string>& args, RedisClient::Clock::time_point deadline);
ScriptResult run_script(RedisClient& client, const RedisScript& script, const std::vector<std::string>& keys,
                        const std::vector<std::string>& args);

// SHA1 of bytes as 40 lowercase hex digits (OpenSSL's EVP).
std::string sha1_hex(const std::string& bytes);

}  // namespace retryx::store
