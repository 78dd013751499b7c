#include "file_io.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace retryx {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) {
    const int saved = errno;
    ::close(fd_);  // even on EINTR the descriptor is gone on Linux: never retried
    errno = saved;
  }
  fd_ = fd;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {  // no progress and no error: not to be looped on
      errno = EIO;
      return false;
    }
    if (errno == EINTR) continue;  // retryx's handlers run without SA_RESTART
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    // Someone else made it non-blocking: wait for room, leave its flags be.
    pollfd ready{fd, POLLOUT, 0};
    if (::poll(&ready, 1, -1) < 0 && errno != EINTR && errno != EAGAIN) return false;
  }
  return true;
}

bool read_all(int fd, std::string& text, std::size_t limit) {
  char buffer[65536];
  while (text.size() <= limit) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) text.append(buffer, static_cast<std::size_t>(n));
    else if (n == 0) return true;
    else if (errno != EINTR) return false;
  }
  return true;
}

std::string temp_file_dir() {
  const char* dir = std::getenv("TMPDIR");
  return dir && *dir ? dir : "/tmp";
}

int make_temp_file(const char* stem) {
  std::string path = temp_file_dir() + "/" + stem + ".XXXXXX";
  const int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(path.c_str());
  return fd;
}

UniqueFd create_beside(const std::string& path, std::string& temp_path) {
  temp_path = path + ".tmp.XXXXXX";
  return UniqueFd(::mkostemp(temp_path.data(), O_CLOEXEC));
}

}  // namespace retryx
