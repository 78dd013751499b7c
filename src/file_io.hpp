#pragma once
// Descriptors and files, the few ways retryx uses them: an owned
// descriptor, writing all of a buffer, an unlinked temporary file, and a
// new file beside another one (for an atomic replace).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace retryx {

// Owns one descriptor and closes it on destruction; -1 owns nothing.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  // Gives up ownership: the caller closes it.
  int release() noexcept { return std::exchange(fd_, -1); }
  // Closes the descriptor held (errno is left as it was), then holds fd.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

// Writes all of data to fd, blocking: retries after EINTR and short
// writes, and on EAGAIN (a descriptor someone else made non-blocking, a
// stdout or stderr shared with other writers) waits with poll(POLLOUT)
// until there is room, never changing the descriptor's flags. Returns false
// with errno set on any other error (EPIPE when the reader has gone).
bool write_all(int fd, std::string_view data);

// Reads fd to its end onto text, retrying after EINTR, or until text holds
// more than `limit` bytes (then it stops: the caller tells a file too large
// to be its own by text.size() > limit). Returns false with errno set on a
// read error.
bool read_all(int fd, std::string& text, std::size_t limit = SIZE_MAX);

// An unlinked temporary file in temp_file_dir(), close-on-exec: its
// descriptor, or -1 with errno set.
int make_temp_file(const char* stem);
// $TMPDIR, or /tmp when it is unset or empty.
std::string temp_file_dir();

// A new file beside path (the same directory, so that renaming it over path
// is atomic), named path + ".tmp.XXXXXX", mode 0600, close-on-exec. Its
// name is left in temp_path; on failure the result holds nothing, errno is
// set and nothing was created.
UniqueFd create_beside(const std::string& path, std::string& temp_path);

}  // namespace retryx
