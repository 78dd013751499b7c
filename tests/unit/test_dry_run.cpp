#include <doctest/doctest.h>
#include <sstream>

#include "dry_run.hpp"

using namespace retryx;
using namespace std::chrono_literals;

namespace {
Policy policy(std::optional<std::uint64_t> attempts) {
  Policy p;
  p.max_attempts = attempts;
  p.backoff.jitter = {Jitter::Kind::none, 0};
  p.classify.success = parse_codes("0");
  return p;
}
std::string dry_run(const Policy& p) {
  std::ostringstream out;
  print_dry_run(p, {"curl", "-fsS", "it's"}, out);
  return out.str();
}
}  // namespace

TEST_CASE("one row per retry with nominal range and worst total") {
  std::string out = dry_run(policy(4));
  CHECK(out.find("command: curl -fsS 'it'\\''s'") != std::string::npos);
  CHECK(out.find("policy: attempts 4") != std::string::npos);
  CHECK(out.find("1s - 1s") != std::string::npos);
  CHECK(out.find("4s - 4s") != std::string::npos);
  CHECK(out.find("7s\n") != std::string::npos);  // 1 + 2 + 4
  CHECK(out.find("8s") == std::string::npos);    // no row for a 4th retry
}

TEST_CASE("at most 20 rows then a summary line") {
  std::string out = dry_run(policy(100));
  CHECK(out.find("\n   20 ") != std::string::npos);
  CHECK(out.find("\n   21 ") == std::string::npos);
  CHECK(out.find("... and 79 more retries, each at most 1m") != std::string::npos);
  std::string forever = dry_run(policy(std::nullopt));
  CHECK(forever.find("attempts unlimited") != std::string::npos);
  CHECK(forever.find("without limit") != std::string::npos);
}

TEST_CASE("jitter ranges and decorrelated") {
  Policy p = policy(3);
  p.backoff.jitter = {Jitter::Kind::equal, 0};
  CHECK(dry_run(p).find("500ms - 1s") != std::string::npos);
  p.backoff.kind = BackoffKind::decorrelated;
  std::string out = dry_run(p);
  CHECK(out.find("random") != std::string::npos);
  CHECK(out.find("1s - 3s") != std::string::npos);
  CHECK(out.find("1s - 9s") != std::string::npos);
}

TEST_CASE("a single attempt has no schedule") {
  CHECK(dry_run(policy(1)).find("no retries") != std::string::npos);
}
