// retryx: run a command and retry it with jittered backoff. main is thin:
// the program is retryx::run; this is the one place that reports retryx's
// own fatal errors (status 125, as timeout(1) does), a failed write of
// --help, --version or --dry-run among them ("write error: ...").
#include <cstdio>
#include <exception>
#include <unistd.h>

#include "attempt_log.hpp"
#include "cli.hpp"
#include "retryx.hpp"

extern char** environ;

int main(int argc, char** argv) {
  try {
    return retryx::run(argc, argv, environ);
  } catch (const retryx::UsageError& e) {
    retryx::write_all(STDERR_FILENO, std::string("retryx: error: ") + e.what() +
                                         "\nTry 'retryx --help' for more information.\n");
  } catch (const std::exception& e) {
    retryx::write_all(STDERR_FILENO, std::string("retryx: error: ") + e.what() + "\n");
  }
  return 125;
}
