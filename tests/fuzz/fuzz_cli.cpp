// libFuzzer target: the command line, split at NUL bytes into argv (the
// first word is argv[0]); parse_command_line either gives an Invocation or
// throws UsageError / ValueError.
#include <cstdint>
#include <string>
#include <vector>

#include "cli.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> words{"retryx"};
  std::string word;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      words.push_back(word);
      word.clear();
    } else {
      word.push_back(static_cast<char>(data[i]));
    }
  }
  words.push_back(word);
  if (words.size() > 64) return 0;
  std::vector<const char*> argv;
  for (const auto& w : words) argv.push_back(w.c_str());
  argv.push_back(nullptr);
  const char* const envp[] = {nullptr};
  try {
    (void)retryx::parse_command_line(static_cast<int>(words.size()), argv.data(), envp);
  } catch (const retryx::UsageError&) {
  } catch (const retryx::ValueError&) {
  }
  return 0;
}
