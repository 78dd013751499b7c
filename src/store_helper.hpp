#pragma once
// The store's link, inside retryx (internal to shared_store.cpp and its
// tests): the `retryx-store` helper process, where it is found, and
// HelperStore, the SharedStore that talks to it (open_redis_store makes
// one). The helper alone holds the Redis client, TLS and the name lookup,
// so that retryx's own start-up carries none of them.
#include <chrono>
#include <string>
#include <sys/types.h>
#include <variant>
#include <vector>

#include "file_io.hpp"
#include "shared_store.hpp"
#include "store_frames.hpp"
#include "store/redis_url.hpp"

namespace retryx {

// Where the helper may be, for a retryx at `executable` (a real path):
// beside it (the build tree), then where an install puts it relative to
// the bindir (${CMAKE_INSTALL_LIBEXECDIR}/retryx/, found relative to the
// executable, so that a relocated install works).
std::vector<std::string> store_helper_candidates(const std::string& executable);
// The first candidate that exists, else the install's (for the message).
std::string find_store_helper(const std::string& executable);
// For this retryx (/proc/self/exe).
std::string find_store_helper();

// The helper process: started with one end of a socketpair as its stdin
// and stdout and a pipe as its stderr (what the dynamic loader, glibc or a
// sanitizer writes there never reaches retryx's stderr: see said()), in a
// process group of its own (no terminal signals), with an empty signal
// mask, every signal at its default disposition, only descriptors 0, 1
// and 2, and the environment without REDISCLI_AUTH and RETRYX_* (the
// options' defaults: --circuit's URL may hold a password).
class StoreHelper {
 public:
  StoreHelper() = default;
  ~StoreHelper() { end(std::chrono::milliseconds(300)); }
  StoreHelper(const StoreHelper&) = delete;
  StoreHelper& operator=(const StoreHelper&) = delete;

  // Starts the executable at path; empty, or why it could not start
  // (strerror's words).
  std::string start(const std::string& path);
  bool running() const { return pid_ > 0; }
  int socket() const { return socket_.get(); }
  pid_t pid() const { return pid_; }

  // Closes the socket (the helper exits at the end of its stdin), waits
  // up to `wait` for it to exit, then SIGKILLs it, and reaps it. A signal
  // goes only to a process known to be this unreaped child: through its
  // pidfd, or after waitpid(pid, WNOHANG) said it still runs (retryx's
  // process layer reaps the orphans it adopts, and may reap a dead
  // helper first). After SIGKILL it waits at most kill_bound (a helper in
  // uninterruptible sleep ends when it can; then init reaps it). Returns
  // how it ended ("exit status 1", "killed by SIGKILL"), empty when it is
  // unknown (reaped elsewhere, or not ended within kill_bound).
  std::string end(std::chrono::milliseconds wait);

  // What the helper wrote on its stderr, read by end() without waiting:
  // the first said_limit bytes, raw; said_all() false when there was more.
  const std::string& said() const { return said_; }
  bool said_all() const { return said_all_; }

  static constexpr std::size_t said_limit = 1024;
  static constexpr std::chrono::milliseconds kill_bound{1000};

 private:
  void read_said();

  pid_t pid_ = 0;
  UniqueFd pidfd_;   // none where pidfd_open is refused
  UniqueFd socket_;  // retryx's end
  UniqueFd stderr_;  // the read end of the helper's stderr: non-blocking
  std::string said_;
  bool said_all_ = true;
};

// The SharedStore over the helper. The helper starts at the first
// run_script and says it is ready (its own start: exec, the dynamic
// loader binding OpenSSL and hiredis, a few ms, but far more on a machine
// busy with a storm of runs, which is this machine's load and not the
// store's slowness: bounded apart, by start_bound). Then each call has one
// deadline of 250 ms (the name lookup, connect, TLS, AUTH and the command),
// sent in the request and kept by the helper, and waits for the reply until
// that deadline and a grace of as much again: the helper's own timeout
// message arrives within the deadline unless this machine is too busy to
// run it, and a helper starved by a storm of runs on one host is not a slow
// store (retryx giving up then would fail open after the server may have
// counted the decision). A wait is abandoned, silently, once retryx has
// been told to stop (settings.stopping, asked every 50 ms). Any failure
// (the helper cannot start, ends, answers too late or not in frames, or
// answers an error) is said once, the helper is ended, and the store is
// not asked again. A problem does not name the location (location() does)
// and never holds the password.
class HelperStore final : public SharedStore {
 public:
  HelperStore(RedisStoreSettings settings, std::string helper_path);
  StoreAnswer run_script(std::string_view body, const std::vector<std::string>& keys,
                         const std::vector<std::string>& args) override;
  std::string location() const override { return location_; }
  // Ends the helper; no more requests (the user said why).
  void give_up() override {
    if (!given_up_) give_up(std::string());
  }
  pid_t helper_pid() const { return helper_.pid(); }  // 0 when not running

  static constexpr std::chrono::milliseconds deadline{250};
  static constexpr std::chrono::milliseconds grace{250};
  static constexpr std::chrono::milliseconds start_bound{2000};

 private:
  StoreAnswer give_up(std::string problem);
  // Sends out and waits for one frame until give_up_at: the frame, or the
  // answer that gives up (timeout_problem when the time is out).
  std::variant<Frame, StoreAnswer> exchange(std::string out, std::chrono::steady_clock::time_point give_up_at,
                                            const std::string& timeout_problem);
  std::string scrubbed(std::string text) const;
  // What the ended helper said on its stderr, for a problem: one line
  // ("; " between lines), without the password (store_helper.cpp).
  std::string helper_said() const;

  RedisStoreSettings settings_;
  std::string helper_path_;
  std::string location_;
  std::optional<std::string> password_;  // the one the helper will send, scrubbed from problems
  StoreHelper helper_;
  std::string received_;  // bytes from the helper not yet a frame
  bool given_up_ = false;
};

}  // namespace retryx
