#include "held_output.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <stdexcept>
#include <unistd.h>
#include <vector>

namespace retryx {

bool write_blocking(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      // Never change the shared descriptor's flags: wait until it drains.
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    return false;
  }
  return true;
}

HeldOutput::~HeldOutput() {
  if (file_ >= 0) ::close(file_);
}

void HeldOutput::append(std::string_view data) {
  size_ += data.size();
  if (file_ < 0 && memory_.size() + data.size() <= memory_bound) {
    memory_.append(data);
    return;
  }
  if (file_ < 0) {
    const char* tmpdir = std::getenv("TMPDIR");
    std::string path = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/retryx-stdout.XXXXXX";
    file_ = ::mkostemp(path.data(), O_CLOEXEC);
    if (file_ < 0)
      throw std::runtime_error(fmt::format("--hold-stdout: cannot create a temporary file: {}", std::strerror(errno)));
    ::unlink(path.c_str());
    if (!write_blocking(file_, memory_)) throw std::runtime_error("--hold-stdout: cannot write the temporary file");
    memory_.clear();
    memory_.shrink_to_fit();
  }
  if (!write_blocking(file_, data)) throw std::runtime_error("--hold-stdout: cannot write the temporary file");
}

bool HeldOutput::release(int fd) {
  bool ok = write_blocking(fd, memory_);
  if (file_ >= 0) {
    ::lseek(file_, 0, SEEK_SET);
    std::vector<char> buffer(1 << 16);
    ssize_t n = 0;
    while (ok && ((n = ::read(file_, buffer.data(), buffer.size())) > 0 || (n < 0 && errno == EINTR)))
      if (n > 0) ok = write_blocking(fd, std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    ::close(file_);
    file_ = -1;
  }
  memory_.clear();
  size_ = 0;
  return ok;
}

}  // namespace retryx
