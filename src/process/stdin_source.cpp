#include "process/stdin_source.hpp"

#include "process_layer.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace retryx::process {

namespace {

std::string temp_dir_error(const char* option) {
  const char* tmpdir = std::getenv("TMPDIR");
  return fmt::format("{}: cannot create a temporary file in {}: {}", option, tmpdir && *tmpdir ? tmpdir : "/tmp",
                     std::strerror(errno));
}

void store(int fd, std::string_view data) {
  if (!write_all(fd, data))
    throw std::runtime_error(fmt::format("--stdin replay: cannot store stdin: {}", std::strerror(errno)));
}

// All of stdin, read once, kept in memory (a memfd) up to a bound and in an
// unlinked temporary file beyond it.
UniqueFd store_stdin(const std::function<std::optional<int>()>& stop_requested) {
  constexpr std::size_t memory_bound = 4 << 20;
  UniqueFd kept(::memfd_create("retryx-stdin", MFD_CLOEXEC));
  if (!kept) throw std::runtime_error(fmt::format("--stdin replay: memfd_create: {}", std::strerror(errno)));
  std::size_t stored = 0;
  bool spilled = false;
  std::vector<char> buffer(1 << 16);
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      // Nothing has started yet: a stop ends retryx now, not at stdin's end.
      if (const auto signal = stop_requested()) die_by_signal(*signal);
      continue;
    }
    if (n < 0 && errno != EBADF)
      throw std::runtime_error(fmt::format("--stdin replay: cannot read stdin: {}", std::strerror(errno)));
    if (n <= 0) break;
    if (!spilled && stored + static_cast<std::size_t>(n) > memory_bound) {
      UniqueFd file(make_temp_file("retryx-stdin"));
      if (!file) throw std::runtime_error(temp_dir_error("--stdin replay"));
      ::lseek(kept.get(), 0, SEEK_SET);
      // In small pieces: a buffer of the whole bound would add to the peak.
      std::vector<char> copy(1 << 16);
      ssize_t got;
      while ((got = ::read(kept.get(), copy.data(), copy.size())) > 0 || (got < 0 && errno == EINTR))
        if (got > 0) store(file.get(), std::string_view(copy.data(), static_cast<std::size_t>(got)));
      kept = std::move(file);
      spilled = true;
    }
    store(kept.get(), std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    stored += static_cast<std::size_t>(n);
  }
  return kept;
}

}  // namespace

void check_temp_dir(const char* option) {
  const int fd = make_temp_file("retryx-check");
  if (fd < 0) throw std::runtime_error(temp_dir_error(option));
  ::close(fd);
}

StdinSource::StdinSource(StdinMode mode, const std::function<std::optional<int>()>& stop_requested)
    : mode_(mode) {
  // Hooks read /dev/null whatever the mode.
  null_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_) throw std::runtime_error(fmt::format("cannot open /dev/null: {}", std::strerror(errno)));
  switch (mode) {
    case StdinMode::inherit: {
      struct stat st {};
      if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
        const off_t offset = ::lseek(STDIN_FILENO, 0, SEEK_CUR);
        if (offset >= 0) offset_ = offset;
      }
      break;
    }
    case StdinMode::replay:
      check_temp_dir("--stdin replay");
      replay_ = store_stdin(stop_requested);
      break;
    case StdinMode::null: break;
  }
}

UniqueFd StdinSource::for_attempt(bool is_hook) {
  if (is_hook || mode_ == StdinMode::null) {
    UniqueFd fd(::fcntl(null_.get(), F_DUPFD_CLOEXEC, 0));
    if (!fd) throw std::runtime_error(fmt::format("cannot open /dev/null for {}: {}",
                                                  is_hook ? "a hook" : "--stdin null", std::strerror(errno)));
    return fd;
  }
  if (mode_ == StdinMode::replay) {
    // A fresh open file description: every attempt reads from offset 0,
    // whatever an earlier attempt's leftovers do with theirs.
    UniqueFd fd(::open(fmt::format("/proc/self/fd/{}", replay_.get()).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      // No /proc: the same description, rewound (earlier attempts are gone).
      fd.reset(::fcntl(replay_.get(), F_DUPFD_CLOEXEC, 0));
      if (fd && ::lseek(fd.get(), 0, SEEK_SET) != 0) fd.reset();
    }
    if (!fd) throw std::runtime_error(fmt::format("--stdin replay: cannot reopen the stored stdin: {}",
                                                  std::strerror(errno)));
    return fd;
  }
  if (offset_) ::lseek(STDIN_FILENO, *offset_, SEEK_SET);
  return {};
}

}  // namespace retryx::process
