#pragma once
// Classification (spec §3): every attempt is a success, a retryable failure
// or a fatal one, with the rule that decided it in words.
#include <string>

#include "outcome.hpp"
#include "policy.hpp"

namespace retryx {

enum class Verdict { success, retryable, fatal };

struct Classification {
  Verdict verdict;
  std::string reason;  // e.g. "exit code 127 is in --stop-on"
};

// The rules, in order:
//  1. success: not timed out, exited with a code in --success, and, with
//     --until-output, printed a matching line; but a success code with a
//     line matching --fail-if-output is a failure, retried unless
//     --stop-if-output matched or --retry-if-output is given and did not
//     (--retry-on and --stop-on do not see it: it ended with a success code);
//  2. killed by SIGINT: fatal, whatever --retry-on says (someone pressed Ctrl-C);
//  3. matched by --stop-on, or printed a line matching --stop-if-output: fatal;
//  4. --retry-on given and not matching, or --retry-if-output given and no
//     line matching it: fatal;
//  5. otherwise retryable.
// A command that could not be started counts as exit code 127 / 126.
Classification classify(const AttemptResult& result, const ClassifyPolicy& policy);

}  // namespace retryx
