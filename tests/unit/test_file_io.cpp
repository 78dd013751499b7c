#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "file_io.hpp"
#include "temp_files.hpp"

using namespace retryx;
using retryx::testing::temp_dir;

namespace {

// A pipe: {reader, writer}, both close-on-exec.
std::array<UniqueFd, 2> make_pipe() {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

std::string target_of(int fd) {
  char link[4096];
  const ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), link, sizeof link);
  REQUIRE(n > 0);
  return std::string(link, static_cast<std::size_t>(n));
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("write_all waits out EAGAIN on a non-blocking pipe - every byte arrives in order") {
  auto [reader, writer] = make_pipe();
  REQUIRE(::fcntl(writer.get(), F_SETFL, O_NONBLOCK) == 0);
  // 1 MiB, 16 times a pipe's buffer, with a pattern that shows a lost or
  // repeated piece.
  std::string data;
  for (int i = 0; data.size() < (1 << 20); ++i) data += std::to_string(i) + '\n';
  std::string got;
  std::thread slow_reader([&, fd = reader.get()] {
    // Starts late and reads in small pieces: the writer meets a full pipe.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    char buffer[1000];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
  });
  const bool ok = write_all(writer.get(), data);
  const int flags = ::fcntl(writer.get(), F_GETFL);
  writer.reset();
  slow_reader.join();
  CHECK(ok);
  CHECK(got.size() == data.size());
  const bool same = got == data;  // not CHECK(got == data): doctest would print both
  CHECK(same);
  CHECK((flags & O_NONBLOCK) != 0);  // the descriptor's flags are left as they were
}

TEST_CASE("write_all with no reader: false and EPIPE") {
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(::sigaction(SIGPIPE, &ignore, &old) == 0);
  auto [reader, writer] = make_pipe();
  reader.reset();
  errno = 0;
  CHECK_FALSE(write_all(writer.get(), "lost"));
  CHECK(errno == EPIPE);
  ::sigaction(SIGPIPE, &old, nullptr);
}

TEST_CASE("write_all on /dev/full: false and ENOSPC") {
  const UniqueFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  REQUIRE(full);
  errno = 0;
  CHECK_FALSE(write_all(full.get(), "lost"));
  CHECK(errno == ENOSPC);
  CHECK(write_all(full.get(), ""));  // nothing to write: nothing fails
}

TEST_CASE("make_temp_file: an unlinked close-on-exec file in TMPDIR, else /tmp") {
  const std::string dir = temp_dir();
  {
    const ScopedEnv tmpdir("TMPDIR", dir.c_str());
    const UniqueFd fd(make_temp_file("retryx-unit"));
    REQUIRE(fd);
    const std::string target = target_of(fd.get());
    CHECK(target.rfind(dir + "/retryx-unit.", 0) == 0);
    CHECK(target.find("(deleted)") != std::string::npos);
    CHECK((::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
    CHECK(write_all(fd.get(), "held"));
  }
  for (const char* unset_or_empty : {static_cast<const char*>(nullptr), ""}) {
    const ScopedEnv tmpdir("TMPDIR", unset_or_empty);
    const UniqueFd fd(make_temp_file("retryx-unit"));
    REQUIRE(fd);
    CHECK(target_of(fd.get()).rfind("/tmp/retryx-unit.", 0) == 0);
  }
  {
    const ScopedEnv tmpdir("TMPDIR", (dir + "/missing").c_str());
    errno = 0;
    CHECK(make_temp_file("retryx-unit") == -1);
    CHECK(errno == ENOENT);
  }
  CHECK(::rmdir(dir.c_str()) == 0);  // nothing was left behind in it
}

TEST_CASE("create_beside: a new 0600 close-on-exec file in the target's directory") {
  const std::string dir = temp_dir();
  const std::string target = dir + "/state.json";
  std::string temp;
  {
    const UniqueFd fd = create_beside(target, temp);
    REQUIRE(fd);
    CHECK(temp.rfind(target + ".tmp.", 0) == 0);
    CHECK(temp.size() == target.size() + 11);
    struct stat st {};
    REQUIRE(::stat(temp.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK((::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
  }
  CHECK(::unlink(temp.c_str()) == 0);
  errno = 0;
  CHECK_FALSE(create_beside(dir + "/missing/state.json", temp));
  CHECK(errno == ENOENT);
  CHECK(::rmdir(dir.c_str()) == 0);
}

TEST_CASE("UniqueFd closes what it owns, once") {
  auto [reader, writer] = make_pipe();
  const int fd = writer.get();
  UniqueFd moved(std::move(writer));
  CHECK_FALSE(writer);
  CHECK(writer.get() == -1);
  CHECK(moved.get() == fd);
  UniqueFd assigned;
  assigned = std::move(moved);
  CHECK(is_open(fd));
  assigned.reset();
  CHECK_FALSE(is_open(fd));

  const int kept = reader.get();
  CHECK(reader.release() == kept);
  CHECK_FALSE(reader);
  reader.reset();  // owns nothing: closes nothing
  CHECK(is_open(kept));
  UniqueFd adopted(kept);
  adopted.reset(-1);
  CHECK_FALSE(is_open(kept));
}

TEST_CASE("read_all reads to the end, or stops past its limit, and says a read error") {
  const std::string dir = retryx::testing::temp_dir();
  const std::string path = dir + "/f";
  const std::string content(200000, 'x');
  {
    const UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    REQUIRE(write_all(out.get(), content));
  }
  const UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string text;
  CHECK(read_all(in.get(), text));
  CHECK(text == content);

  const UniqueFd again(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string limited;
  CHECK(read_all(again.get(), limited, 1000));
  CHECK(limited.size() > 1000);  // told apart from a file of at most 1000 bytes
  CHECK(limited.size() < content.size());

  const UniqueFd directory(::open(dir.c_str(), O_RDONLY | O_CLOEXEC));
  std::string none;
  CHECK_FALSE(read_all(directory.get(), none));
  CHECK(errno == EISDIR);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}
