#pragma once
// A small Redis client for the fleet's shared state (spec §11), with a
// synchronous API: each call returns once it has its answer, or once its
// deadline has passed, whatever the server or the network does.
//
// The deadline covers everything a call needs: resolving the host name,
// connecting, the TLS handshake, AUTH, SELECT and the command(s) (250 ms by
// default). A call on a client that is not connected connects first,
// within the same deadline; a connection that failed in any way (not an
// error reply) is dropped, and the next call connects again, as does a
// call that finds its kept connection closed by the server since the last
// one (a restart: nothing was sent on it, so nothing runs twice) or left
// idle for more than idle_limit (a peer gone without a word). Whether to
// call again after a failure is the caller's decision.
//
// Errors are values (StoreError), never exceptions; no message holds the
// password. Writing to a server that closed the connection never raises
// SIGPIPE. Replies are RESP2 (no HELLO 3).
//
// The only module that uses Asio's sockets and TLS, OpenSSL and hiredis for
// Redis (its reader and command formatter: no RESP parser of our own);
// this header names none of them.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "store/redis_url.hpp"

namespace retryx::store {

// A reply, as RESP2 has them. An error reply at the top level of a call
// is a StoreError (Kind::reply); inside an array (EXEC) it stays here.
struct RedisReply {
  enum class Kind { string, status, integer, nil, array, error };
  Kind kind = Kind::nil;
  std::string text;         // string, status, error
  long long integer = 0;    // integer
  std::vector<RedisReply> elements;  // array
  bool operator==(const RedisReply&) const = default;
};

struct StoreError {
  enum class Kind {
    resolve,   // the host name did not resolve
    connect,   // refused, unreachable, no such socket
    tls,       // handshake, certificate verification, client certificate
    auth,      // AUTH refused (wrong password, unknown user)
    select,    // SELECT refused (no such database)
    timeout,   // the deadline passed (the message names the step)
    io,        // the connection broke (closed, reset) while writing or reading
    protocol,  // bytes that are not RESP
    reply,     // the server answered with an error (WRONGTYPE, NOSCRIPT, NOAUTH, BUSY, LOADING...)
    internal,  // anything else (no memory, a file that cannot be read)
  };
  Kind kind = Kind::internal;
  std::string message;  // without the location (the caller logs it) and without the password
};

// A call's answer: the reply (or replies, in order), or the error.
using StoreReply = std::variant<RedisReply, StoreError>;
using StoreReplies = std::variant<std::vector<RedisReply>, StoreError>;

// TLS files for rediss:// (--redis-cacert, --redis-cert, --redis-key).
// Without a CA file the system's trust store is used.
struct RedisTlsFiles {
  std::string ca_file;
  std::string cert_file;  // a client certificate (PEM, may hold the chain)
  std::string key_file;   // its key (PEM); the certificate file when empty
};

struct RedisClientSettings {
  RedisLocation location;
  RedisTlsFiles tls;
  std::chrono::milliseconds deadline{250};  // each call's bound, connecting included
};

using Command = std::vector<std::string>;  // the command's words, binary-safe

class RedisClient {
 public:
  explicit RedisClient(RedisClientSettings settings);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds idle_limit{30};

  // One command, within settings.deadline from now (or until `deadline`).
  StoreReply call(const Command& command);
  StoreReply call(const Command& command, Clock::time_point deadline);
  // Several commands written at once (a pipeline); the replies in order.
  // The first error reply is the result (StoreError, Kind::reply).
  StoreReplies call_all(const std::vector<Command>& commands, Clock::time_point deadline);

  bool connected() const;
  const RedisClientSettings& settings() const { return settings_; }

 private:
  struct Connection;
  RedisClientSettings settings_;
  std::unique_ptr<Connection> connection_;
};

// The kind's word for messages ("timeout", "tls", ...).
std::string kind_name(StoreError::Kind kind);

}  // namespace retryx::store
