#include "store/store_service.hpp"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <fmt/format.h>
#include <optional>
#include <unistd.h>

#include "file_io.hpp"
#include "store/redis_client.hpp"
#include "store/redis_script.hpp"
#include "store_frames.hpp"

namespace retryx::store {

namespace {

using Clock = std::chrono::steady_clock;

// An error message is cut to this many bytes: a reply is bounded, and
// nobody reads more than this in a log line.
constexpr std::size_t message_limit = 2000;

std::optional<std::size_t> whole_number(const std::string& text, std::size_t limit) {
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty() || value > limit) return std::nullopt;
  return value;
}

Frame error_frame(const std::string& kind, std::string message) {
  if (message.size() > message_limit) message = message.substr(0, message_limit) + "...";
  return {"error", kind + ": " + message};
}

// The script's reply as integers, or an error for anything else.
Frame ok_frame(const RedisReply& reply) {
  Frame frame{"ok"};
  const auto unexpected = [](const RedisReply& what) {
    static constexpr const char* names[] = {"a string", "a status", "an integer", "a nil", "an array", "an error"};
    return error_frame("protocol", fmt::format("the script's reply is not integers (it holds {})",
                                               names[static_cast<int>(what.kind)]));
  };
  switch (reply.kind) {
    case RedisReply::Kind::integer: frame.push_back(std::to_string(reply.integer)); return frame;
    case RedisReply::Kind::nil: return frame;
    case RedisReply::Kind::array:
      for (const RedisReply& element : reply.elements) {
        if (element.kind != RedisReply::Kind::integer) return unexpected(element);
        frame.push_back(std::to_string(element.integer));
      }
      return frame;
    default: return unexpected(reply);
  }
}

class Service {
 public:
  // The reply to a request: ["ready"] to connect (an unusable URL is the
  // error of every script), the script's answer to a script.
  Frame answer(const Frame& request, Clock::time_point received) {
    if (!request.empty() && request[0] == "connect" && request.size() == 7) {
      connect(request);
      return {"ready"};
    }
    if (request.size() >= 4 && request[0] == "script") return script(request, received);
    return error_frame("internal", "a request retryx-store does not know");
  }

 private:
  void connect(const Frame& request) {
    std::optional<std::string> env_password;
    if (request[2] == "1") env_password = request[3];
    auto parsed = parse_redis_url(request[1], env_password);
    if (auto* problem = std::get_if<std::string>(&parsed)) {
      setup_problem_ = *problem;
      return;
    }
    client_.emplace(RedisClientSettings{std::get<RedisLocation>(parsed), {request[4], request[5], request[6]},
                                        std::chrono::milliseconds(250)});
  }

  Frame script(const Frame& request, Clock::time_point received) {
    const auto deadline_ms = whole_number(request[1], 3'600'000);
    const auto key_count = whole_number(request[3], request.size() - 4);
    if (!deadline_ms || !key_count) return error_frame("internal", "a script request retryx-store cannot read");
    if (!client_) return error_frame("url", setup_problem_.empty() ? "no connect request came first" : setup_problem_);
    const auto keys_end = request.begin() + 4 + static_cast<std::ptrdiff_t>(*key_count);
    const std::vector<std::string> keys(request.begin() + 4, keys_end), args(keys_end, request.end());
    const auto result = run_script(*client_, RedisScript(request[2]), keys, args,
                                   received + std::chrono::milliseconds(*deadline_ms));
    if (auto* problem = std::get_if<StoreError>(&result)) return error_frame(kind_name(problem->kind), problem->message);
    return ok_frame(std::get<ScriptRun>(result).reply);
  }

  std::optional<RedisClient> client_;
  std::string setup_problem_;
};

}  // namespace

int serve_store_requests(int in_fd, int out_fd) {
  Service service;
  std::string pending;
  char buffer[65536];
  for (;;) {
    const auto decoded = decode_frame(pending);
    if (decoded.status == FrameDecode::Status::malformed) return 1;
    if (decoded.status == FrameDecode::Status::complete) {
      pending.erase(0, decoded.consumed);
      const auto bytes = encode_frame(service.answer(decoded.frame, Clock::now()));
      if (!bytes || !write_all(out_fd, *bytes)) return 1;
      continue;
    }
    const ssize_t got = ::read(in_fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return 1;
    if (got == 0) return pending.empty() ? 0 : 1;
    pending.append(buffer, static_cast<std::size_t>(got));
  }
}

}  // namespace retryx::store
