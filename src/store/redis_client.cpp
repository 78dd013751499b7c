#include "store/redis_client.hpp"

#include <array>
#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include "store/redis_transport.hpp"

namespace retryx::store {

namespace {

struct ReaderFree {
  void operator()(redisReader* reader) const { redisReaderFree(reader); }
};
struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};

RedisReply convert(const redisReply& raw) {
  RedisReply reply;
  switch (raw.type) {
    case REDIS_REPLY_STRING: reply.kind = RedisReply::Kind::string; break;
    case REDIS_REPLY_STATUS: reply.kind = RedisReply::Kind::status; break;
    case REDIS_REPLY_ERROR: reply.kind = RedisReply::Kind::error; break;
    case REDIS_REPLY_INTEGER: reply.kind = RedisReply::Kind::integer; break;
    case REDIS_REPLY_ARRAY: reply.kind = RedisReply::Kind::array; break;
    default: reply.kind = RedisReply::Kind::nil; break;
  }
  if (raw.str != nullptr) reply.text.assign(raw.str, raw.len);
  reply.integer = raw.integer;
  for (std::size_t i = 0; i < raw.elements; ++i) reply.elements.push_back(convert(*raw.element[i]));
  return reply;
}

// A message never holds the password, even one a server or a library
// echoed back (belt and braces: our own messages never include it).
StoreError scrubbed(StoreError error, const std::optional<std::string>& password) {
  if (password && !password->empty()) {
    for (auto at = error.message.find(*password); at != std::string::npos;
         at = error.message.find(*password, at + 3))
      error.message.replace(at, password->size(), "***");
  }
  return error;
}

}  // namespace

std::string kind_name(StoreError::Kind kind) {
  switch (kind) {
    case StoreError::Kind::resolve: return "resolve";
    case StoreError::Kind::connect: return "connect";
    case StoreError::Kind::tls: return "tls";
    case StoreError::Kind::auth: return "auth";
    case StoreError::Kind::select: return "select";
    case StoreError::Kind::timeout: return "timeout";
    case StoreError::Kind::io: return "io";
    case StoreError::Kind::protocol: return "protocol";
    case StoreError::Kind::reply: return "reply";
    case StoreError::Kind::internal: return "internal";
  }
  return "internal";
}

// One open connection: the transport and hiredis's reader (which holds
// any bytes received beyond the replies taken so far).
struct RedisClient::Connection {
  Transport transport;
  Clock::time_point last_used = Clock::now();
  std::unique_ptr<redisReader, ReaderFree> reader{redisReaderCreate()};

  // Writes the commands at once and reads as many replies. Error replies
  // are returned as replies; only the connection's failures are errors.
  StoreReplies exchange(const std::vector<Command>& commands, Clock::time_point deadline) {
    std::string bytes;
    for (const Command& command : commands) {
      if (command.empty()) return StoreError{StoreError::Kind::internal, "an empty command"};  // no reply would come
      std::vector<const char*> argv;
      std::vector<std::size_t> lengths;
      for (const std::string& word : command) {
        argv.push_back(word.data());
        lengths.push_back(word.size());
      }
      char* formatted = nullptr;
      const int length = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(), lengths.data());
      if (length < 0 || formatted == nullptr) return StoreError{StoreError::Kind::internal, "cannot format a command"};
      bytes.append(formatted, static_cast<std::size_t>(length));
      redisFreeCommand(formatted);
    }
    if (auto problem = transport.write(bytes, deadline)) return *problem;
    std::vector<RedisReply> replies;
    std::array<char, 16384> buffer{};
    while (replies.size() < commands.size()) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK)
        return StoreError{StoreError::Kind::protocol, fmt::format("not a Redis reply: {}", reader->errstr)};
      if (raw != nullptr) {
        const std::unique_ptr<redisReply, ReplyFree> reply(static_cast<redisReply*>(raw));
        replies.push_back(convert(*reply));
        continue;
      }
      auto got = transport.read_some(buffer.data(), buffer.size(), deadline);
      if (auto* problem = std::get_if<StoreError>(&got)) return *problem;
      if (redisReaderFeed(reader.get(), buffer.data(), std::get<std::size_t>(got)) != REDIS_OK)
        return StoreError{StoreError::Kind::protocol, fmt::format("not a Redis reply: {}", reader->errstr)};
    }
    return replies;
  }

  // AUTH and SELECT, in one round trip. SELECT goes with AUTH, never with
  // the caller's command: had it failed, the command would run on db 0.
  std::optional<StoreError> start(const RedisLocation& location, Clock::time_point deadline) {
    std::vector<Command> commands;
    if (location.password) {
      if (location.user)
        commands.push_back({"AUTH", *location.user, *location.password});
      else
        commands.push_back({"AUTH", *location.password});
    }
    if (location.db != 0) commands.push_back({"SELECT", std::to_string(location.db)});
    if (commands.empty()) return std::nullopt;
    auto answer = exchange(commands, deadline);
    if (auto* problem = std::get_if<StoreError>(&answer)) return *problem;
    const auto& replies = std::get<std::vector<RedisReply>>(answer);
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (replies[i].kind != RedisReply::Kind::error) continue;
      const bool auth = location.password && i == 0;
      return StoreError{auth ? StoreError::Kind::auth : StoreError::Kind::select,
                        fmt::format("{} refused: {}", auth ? "AUTH" : fmt::format("SELECT {}", location.db),
                                    replies[i].text)};
    }
    return std::nullopt;
  }
};

RedisClient::RedisClient(RedisClientSettings settings) : settings_(std::move(settings)) {}
RedisClient::~RedisClient() = default;

bool RedisClient::connected() const { return connection_ != nullptr; }

StoreReply RedisClient::call(const Command& command) { return call(command, Clock::now() + settings_.deadline); }

StoreReply RedisClient::call(const Command& command, Clock::time_point deadline) {
  auto answer = call_all({command}, deadline);
  if (auto* problem = std::get_if<StoreError>(&answer)) return *problem;
  return std::move(std::get<std::vector<RedisReply>>(answer).front());
}

StoreReplies RedisClient::call_all(const std::vector<Command>& commands, Clock::time_point deadline) {
  // Nothing leaves the module as an exception (no memory, a thread that
  // cannot start, an Asio call that throws).
  try {
    // A connection kept from the last call that the server has closed
    // since (restarted, failed over), or that has been idle so long (a run's
    // attempts can take hours) that a NAT, a load balancer or a failover to
    // another host may have dropped it without a word, which no peek sees:
    // a new one, within the same deadline.
    if (connection_ && (Clock::now() - connection_->last_used > idle_limit || connection_->transport.peer_gone()))
      connection_.reset();
    if (!connection_) {
      auto connection = std::make_unique<Connection>();
      if (!connection->reader) return StoreError{StoreError::Kind::internal, "no memory for the reader"};
      if (auto problem = connection->transport.open(settings_.location, settings_.tls, deadline))
        return scrubbed(*problem, settings_.location.password);
      if (auto problem = connection->start(settings_.location, deadline))
        return scrubbed(*problem, settings_.location.password);
      connection_ = std::move(connection);
    }
    auto answer = connection_->exchange(commands, deadline);
    connection_->last_used = Clock::now();
    if (auto* problem = std::get_if<StoreError>(&answer)) {
      connection_.reset();  // its state is unknown: the next call connects again
      return scrubbed(*problem, settings_.location.password);
    }
    for (const RedisReply& reply : std::get<std::vector<RedisReply>>(answer))
      if (reply.kind == RedisReply::Kind::error)
        return scrubbed(StoreError{StoreError::Kind::reply, reply.text}, settings_.location.password);
    return answer;
  } catch (const std::exception& error) {
    connection_.reset();
    return scrubbed(StoreError{StoreError::Kind::internal, error.what()}, settings_.location.password);
  }
}

}  // namespace retryx::store
