#include "shared_store.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include "store_frames.hpp"
#include "store_helper.hpp"

namespace retryx {

namespace {

using Clock = std::chrono::steady_clock;

// How often a wait for the helper looks whether retryx was told to stop.
constexpr std::chrono::milliseconds stop_check{50};

std::optional<std::vector<std::int64_t>> integers(const Frame& frame) {
  std::vector<std::int64_t> values;
  for (std::size_t i = 1; i < frame.size(); ++i) {
    const std::string& text = frame[i];
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    values.push_back(value);
  }
  return values;
}

}  // namespace

HelperStore::HelperStore(RedisStoreSettings settings, std::string helper_path)
    : settings_(std::move(settings)), helper_path_(std::move(helper_path)) {
  auto parsed = store::parse_redis_url(settings_.url, settings_.env_password);
  if (auto* where = std::get_if<store::RedisLocation>(&parsed)) {
    location_ = store::describe_location(*where);
    password_ = where->password;
  } else {
    location_ = "a Redis URL that cannot be read";  // the policy checked it: not expected here
  }
}

std::string HelperStore::scrubbed(std::string text) const {
  for (const auto& secret : {password_, settings_.env_password}) {
    if (!secret || secret->empty()) continue;
    for (auto at = text.find(*secret); at != std::string::npos; at = text.find(*secret, at + 3))
      text.replace(at, secret->size(), "***");
  }
  return text;
}

StoreAnswer HelperStore::give_up(std::string problem) {
  given_up_ = true;
  helper_.end(std::chrono::milliseconds(0));
  received_.clear();
  return {std::nullopt, scrubbed(std::move(problem))};
}

StoreAnswer HelperStore::run_script(std::string_view body, const std::vector<std::string>& keys,
                                    const std::vector<std::string>& args) {
  if (given_up_) return {};
  if (!helper_.running()) {
    const auto started = Clock::now();
    if (auto failed = helper_.start(helper_path_); !failed.empty())
      return give_up(fmt::format("cannot start retryx-store ({}): {}", helper_path_, failed));
    const auto connect = encode_frame({"connect", settings_.url, settings_.env_password ? "1" : "0",
                                       settings_.env_password.value_or(""), settings_.cacert, settings_.cert,
                                       settings_.key});
    if (!connect) return give_up("the store's settings are too long for retryx-store");
    auto ready = exchange(*connect, started + start_bound,
                          fmt::format("timeout: retryx-store did not start within {} ms", start_bound.count()));
    if (auto* failed = std::get_if<StoreAnswer>(&ready)) return std::move(*failed);
    if (std::get<Frame>(ready) != Frame{"ready"}) return give_up("retryx-store answered a frame that is not a reply");
  }

  const auto until = Clock::now() + deadline;
  Frame request{"script", std::to_string(deadline.count()), std::string(body), std::to_string(keys.size())};
  request.insert(request.end(), keys.begin(), keys.end());
  request.insert(request.end(), args.begin(), args.end());
  const auto encoded = encode_frame(request);
  if (!encoded) return give_up("a script request too large for retryx-store");
  auto answer = exchange(*encoded, until + grace,
                         fmt::format("timeout: no answer from retryx-store within {} ms", deadline.count()));
  if (auto* failed = std::get_if<StoreAnswer>(&answer)) return std::move(*failed);
  const Frame& reply = std::get<Frame>(answer);
  if (!reply.empty() && reply[0] == "ok") {
    if (auto values = integers(reply)) return {std::move(values), ""};
  } else if (reply.size() == 2 && reply[0] == "error") {
    return give_up(reply[1]);
  }
  return give_up("retryx-store answered a frame that is not a reply");
}

// Writes out and reads one frame, both bounded by give_up_at. EINTR:
// retryx's signals are handled on its event loop, and only the time left
// counts.
std::variant<Frame, StoreAnswer> HelperStore::exchange(std::string out, Clock::time_point give_up_at,
                                                       const std::string& timeout_problem) {
  std::string_view unsent = out;
  char buffer[16384];
  for (;;) {
    auto decoded = decode_frame(received_);
    if (decoded.status == FrameDecode::Status::malformed)
      return give_up(fmt::format("retryx-store answered something that is not a frame ({})", decoded.error));
    if (decoded.status == FrameDecode::Status::complete) {
      received_.erase(0, decoded.consumed);
      return std::move(decoded.frame);
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(give_up_at - Clock::now());
    if (wait.count() <= 0) return give_up(timeout_problem);
    pollfd watched{helper_.socket(), static_cast<short>(POLLIN | (unsent.empty() ? 0 : POLLOUT)), 0};
    const int ready = ::poll(&watched, 1, static_cast<int>(std::min<std::int64_t>(wait.count(), stop_check.count())));
    if (ready < 0 && errno != EINTR) return give_up(fmt::format("cannot wait for retryx-store: {}", std::strerror(errno)));
    if (ready <= 0) {
      // A signal ends the run: no store problem to say, nothing more to ask.
      if (settings_.stopping && settings_.stopping()) return give_up("");
      continue;
    }
    if (!unsent.empty() && (watched.revents & POLLOUT)) {
      const ssize_t sent = ::send(helper_.socket(), unsent.data(), unsent.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent > 0) unsent.remove_prefix(static_cast<std::size_t>(sent));
      else if (errno != EINTR && errno != EAGAIN) watched.revents |= POLLHUP;  // gone: read what it said
    }
    if (watched.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t got = ::recv(helper_.socket(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (got > 0) {
        received_.append(buffer, static_cast<std::size_t>(got));
        continue;
      }
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      const std::string how = helper_.end(std::chrono::milliseconds(25));
      given_up_ = true;
      std::string problem = how.empty() ? "retryx-store ended without answering"
                                        : fmt::format("retryx-store ended without answering ({})", how);
      if (const std::string said = helper_said(); !said.empty()) problem += ": " + said;  // the loader's error...
      return StoreAnswer{std::nullopt, std::move(problem)};
    }
  }
}

std::unique_ptr<SharedStore> open_redis_store(RedisStoreSettings settings) {
  return std::make_unique<HelperStore>(std::move(settings), find_store_helper());
}

}  // namespace retryx
