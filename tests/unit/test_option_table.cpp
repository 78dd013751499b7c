#include <doctest/doctest.h>
#include <set>
#include <string>

#include "option_table.hpp"

using namespace retryx;

TEST_CASE("every name is unique, and every option has help") {
  std::set<std::string> longs;
  std::set<char> shorts;
  for (const OptionGroup& group : option_table())
    for (const OptionSpec& spec : group.options) {
      CAPTURE(spec.names);
      CHECK(std::string(spec.help).size() > 0);
      for (const std::string& name : long_names(spec)) CHECK(longs.insert(name).second);
      if (auto c = short_name(spec)) CHECK(shorts.insert(*c).second);
    }
  CHECK(longs.size() > 20);
}

TEST_CASE("names are split the Program_options way") {
  const OptionSpec* spec = find_by_long_name("max");
  REQUIRE(spec != nullptr);
  CHECK(first_long_name(*spec) == "attempts");
  CHECK(long_names(*spec) == std::vector<std::string>{"attempts", "max", "max-attempts"});
  CHECK(short_name(*spec) == 'a');
  CHECK(find_by_short_name('a') == spec);
  CHECK(find_by_first_long_name("attempts") == spec);
  CHECK(find_by_first_long_name("max") == nullptr);  // an alias is not a first long name
  CHECK(find_by_long_name("nope") == nullptr);
  CHECK(find_by_short_name('Z') == nullptr);
  const OptionSpec* forever = find_by_long_name("forever");
  REQUIRE(forever != nullptr);
  CHECK_FALSE(short_name(*forever).has_value());
  CHECK(forever->metavar == nullptr);
}

TEST_CASE("environment names") {
  CHECK(env_name("attempts") == "RETRYX_ATTEMPTS");
  CHECK(env_name("max-delay") == "RETRYX_MAX_DELAY");
  // Only --help, --version and --dry-run have no environment form.
  std::set<std::string> without;
  for (const OptionGroup& group : option_table())
    for (const OptionSpec& spec : group.options)
      if (!spec.env) without.insert(first_long_name(spec));
  CHECK(without == std::set<std::string>{"dry-run", "help", "version"});
}

TEST_CASE("conflict groups name real options") {
  for (const auto& group : conflict_groups())
    for (const std::string& name : group) {
      CAPTURE(name);
      CHECK(find_by_first_long_name(name) != nullptr);
    }
}

TEST_CASE("help text: each option once, with its value name and aliases") {
  const std::string help = help_text();
  CHECK(help.find("  -a, --attempts N") != std::string::npos);
  CHECK(help.find("(also --max, --max-attempts)") != std::string::npos);
  CHECK(help.find("      --forever ") != std::string::npos);
  CHECK(help.find("  -s, --signal SIG") != std::string::npos);
}
