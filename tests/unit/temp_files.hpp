#pragma once
// Files for the unit tests that touch the file system: a new directory
// under /tmp (the test removes it), and the text of a file.
#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>
#include <iterator>
#include <string>

namespace retryx::testing {

inline std::string temp_dir() {
  char pattern[] = "/tmp/retryx-unit.XXXXXX";
  REQUIRE(::mkdtemp(pattern) != nullptr);
  return pattern;
}

inline std::string file_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace retryx::testing
