#pragma once
// The shared store on Redis (spec §11), as --circuit and --retry-budget
// see it: Lua scripts run on one Redis server, each one decision, atomic on
// the server and timed by its clock.
//
// The store is a helper, never a new way to fail: a call that cannot be
// answered (the server unreachable, an error reply such as WRONGTYPE,
// NOAUTH, LOADING or BUSY, a TLS failure, no answer within 250 ms for the
// name lookup, connect, TLS, AUTH and the command together) returns no
// reply and, the first time only, a problem in words for the log (never
// with a password). From then on the store is not asked again in this run:
// every call returns no reply and no problem. give_up() does the same when
// a user of the store finds a reply it cannot use.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace retryx {

struct StoreAnswer {
  std::optional<std::vector<std::int64_t>> reply;  // the script's reply: a flat array of integers
  std::string problem;                             // why there is no reply, said once per run
};

class SharedStore {
 public:
  virtual ~SharedStore() = default;
  // Runs the Lua script `body` with KEYS and ARGV (EVALSHA, then EVAL when
  // the server does not have it) within 250 ms from now.
  virtual StoreAnswer run_script(std::string_view body, const std::vector<std::string>& keys,
                                 const std::vector<std::string>& args) = 0;
  // The location for the log: the URL with the password as ***.
  virtual std::string location() const = 0;
  // Stops asking the store for the rest of the run, as after a failure:
  // every call from then on answers no reply and no problem. For a user
  // that found the store's reply not one of ours (said by that user), so
  // that the circuit and the budget sharing the store both go on without
  // it, as the message says.
  virtual void give_up() = 0;
};

// A Redis LOCATION and what its connection needs.
struct RedisStoreSettings {
  std::string url;                          // redis://, rediss:// or unix:// (already checked by the policy)
  std::optional<std::string> env_password;  // REDISCLI_AUTH, read by retryx (the URL's password wins)
  std::string cacert, cert, key;            // --redis-cacert, --redis-cert, --redis-key
  // Whether retryx has been told to stop (a signal): a wait for the store
  // is abandoned then, silently (the run ends by the signal). None: never.
  std::function<bool()> stopping;
};

// The real store: the `retryx-store` helper executable (which alone holds
// the Redis client, TLS and the name lookup), started at the first call
// and ended when the object is destroyed.
std::unique_ptr<SharedStore> open_redis_store(RedisStoreSettings settings);

}  // namespace retryx
