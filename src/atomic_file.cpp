#include "atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include "file_io.hpp"

namespace retryx {

std::string replace_file(const std::string& path, std::string_view text, mode_t mode, bool synced) {
  std::string temp;
  UniqueFd fd = create_beside(path, temp);
  if (!fd) return std::strerror(errno);
  // mkostemp's 0600 must not stick.
  const bool ok = ::fchmod(fd.get(), mode) == 0 && write_all(fd.get(), text) && (!synced || ::fsync(fd.get()) == 0);
  int error = ok ? 0 : errno;
  fd.reset();
  if (ok && ::rename(temp.c_str(), path.c_str()) != 0) error = errno;
  if (error == 0) return "";
  ::unlink(temp.c_str());
  return std::strerror(error);
}

mode_t mode_for(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return st.st_mode & 07777;
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

}  // namespace retryx
