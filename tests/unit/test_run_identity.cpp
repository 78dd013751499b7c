#include <doctest/doctest.h>
#include <set>
#include <string>
#include <unistd.h>

#include "run_identity.hpp"

using namespace retryx;

namespace {

bool is_uuid_v4(const std::string& id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return id[14] == '4' && std::string("89ab").find(id[19]) != std::string::npos;
}

}  // namespace

TEST_CASE("a run id is a version 4 UUID, new for every run") {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    const std::string id = new_run_id();
    CAPTURE(id);
    REQUIRE(is_uuid_v4(id));
    seen.insert(id);
  }
  CHECK(seen.size() == 10000);
}

TEST_CASE("a run identity holds the name, retryx's pid and the start time") {
  const auto before = std::chrono::system_clock::now();
  const RunIdentity identity = new_run_identity(std::string("nightly"));
  CHECK(is_uuid_v4(identity.run_id));
  CHECK(identity.name == std::optional<std::string>("nightly"));
  CHECK(identity.pid == ::getpid());
  CHECK(identity.started_at >= before);
  CHECK(identity.started_at <= std::chrono::system_clock::now());
}

TEST_CASE("--name: letters, digits, '.', '_', '-', 1 to 64 characters") {
  CHECK(name_problem("nightly-backup_2.db").empty());
  CHECK(name_problem(std::string(64, 'x')).empty());
  CHECK(name_problem("") == "a name needs 1 to 64 characters");
  CHECK(name_problem(std::string(65, 'x')) == "65 characters, at most 64 are allowed");
  for (const char* bad : {"two words", "a/b", "a:b", "{x}", "caf\xc3\xa9", "a\nb", "a\"b", "a$b"}) {
    CAPTURE(bad);
    CHECK(name_problem(bad) == "only letters, digits, '.', '_' and '-' are allowed");
  }
}

TEST_CASE("the job label is --name, or the command's base name") {
  CHECK(job_label(std::string("nightly"), {"/usr/bin/curl", "-f"}) == "nightly");
  CHECK(job_label(std::nullopt, {"/usr/bin/curl", "-f"}) == "curl");
  CHECK(job_label(std::nullopt, {"curl"}) == "curl");
  CHECK(job_label(std::nullopt, {"./sync-job"}) == "sync-job");
  CHECK(job_label(std::nullopt, {}) == "");
}
