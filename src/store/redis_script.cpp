#include "store/redis_script.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

namespace retryx::store {

std::string sha1_hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha1(), nullptr) != 1) return "";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

RedisScript::RedisScript(std::string body) : body_(std::move(body)), sha1_(sha1_hex(body_)) {}

ScriptResult run_script(RedisClient& client, const RedisScript& script, const std::vector<std::string>& keys,
                        const std::vector<std::string>& args, RedisClient::Clock::time_point deadline) {
  const auto command = [&](const std::string& verb, const std::string& what) {
    Command words{verb, what, std::to_string(keys.size())};
    words.insert(words.end(), keys.begin(), keys.end());
    words.insert(words.end(), args.begin(), args.end());
    return words;
  };
  if (!script.sha1().empty()) {
    auto answer = client.call(command("EVALSHA", script.sha1()), deadline);
    if (auto* reply = std::get_if<RedisReply>(&answer)) return ScriptRun{std::move(*reply), false};
    const auto& problem = std::get<StoreError>(answer);
    if (problem.kind != StoreError::Kind::reply || !problem.message.starts_with("NOSCRIPT")) return problem;
  }
  auto answer = client.call(command("EVAL", script.body()), deadline);
  if (auto* reply = std::get_if<RedisReply>(&answer)) return ScriptRun{std::move(*reply), true};
  return std::get<StoreError>(answer);
}

ScriptResult run_script(RedisClient& client, const RedisScript& script, const std::vector<std::string>& keys,
                        const std::vector<std::string>& args) {
  return run_script(client, script, keys, args, RedisClient::Clock::now() + client.settings().deadline);
}

}  // namespace retryx::store
