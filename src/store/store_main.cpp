// retryx-store: the helper executable that alone holds the Redis client
// (Asio sockets, TLS with OpenSSL, hiredis, the name lookup), so that
// retryx's own start-up carries none of it (docs/benchmarks.md). retryx
// starts it at the first store request of a run, with one end of a
// socketpair as its stdin and stdout (store/store_service.hpp: the
// requests and replies), in a process group of its own, with an empty
// signal mask and default dispositions.
//
//   usage: retryx-store [PARENT_PID]
//
// It dies with retryx (PR_SET_PDEATHSIG; PARENT_PID closes the race of a
// parent that died before the prctl), exits 0 at the end of its stdin, and
// never writes to stderr itself.
#include <csignal>
#include <cstdlib>
#include <sys/prctl.h>
#include <unistd.h>

#include "store/store_service.hpp"

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // a reader gone is EPIPE, and the end
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc > 1 && ::getppid() != static_cast<pid_t>(std::atol(argv[1]))) return 0;
  try {
    return retryx::store::serve_store_requests(STDIN_FILENO, STDOUT_FILENO);
  } catch (...) {
    return 1;  // no memory: retryx sees the end of the stream
  }
}
