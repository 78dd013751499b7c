// A command for retryx to run that measures retryx from the inside.
//
//   probe sleep SECONDS OUT   CPU time (ns) of the parent (retryx) while this
//                             command sleeps; appended to OUT; exits 0.
//   probe mark STATE OUT      first run: records the parent's CPU time in
//                             STATE and exits 1 (so retryx backs off); second
//                             run: appends the parent's CPU time since then
//                             to OUT and exits 0.
//   probe ts OUT              appends "start end" CLOCK_MONOTONIC ns (at
//                             main's entry, just before exit); exits 1.
//   probe idle OUT            writes one byte to stdout, then waits for
//                             SIGTERM (blocked, taken with sigwait) and
//                             appends "written signalled" CLOCK_MONOTONIC ns
//                             (just after the write, when TERM came) to
//                             OUT; exits 1. With --idle-timeout D, the
//                             time from the last byte to the stop is
//                             signalled - written, against D.
//
// The parent's CPU time is its process CPU clock (clock_getcpuclockid on
// getppid()): user+system of all its threads, in nanoseconds, read while it
// runs. That is retryx's own CPU alone: nothing of the commands it runs.
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

long long ns(clockid_t clock) {
  timespec t{};
  if (clock_gettime(clock, &t) != 0) {
    std::perror("probe: clock_gettime");
    std::exit(2);
  }
  return static_cast<long long>(t.tv_sec) * 1000000000LL + t.tv_nsec;
}

long long parent_cpu_ns() {
  clockid_t clock{};
  if (const int e = clock_getcpuclockid(getppid(), &clock); e != 0) {
    std::fprintf(stderr, "probe: clock_getcpuclockid: %s\n", std::strerror(e));
    std::exit(2);
  }
  return ns(clock);
}

void append(const char *path, const char *text) {
  FILE *f = std::fopen(path, "a");
  if (f == nullptr || std::fputs(text, f) < 0 || std::fclose(f) != 0) {
    std::perror("probe: writing the result");
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char **argv) {
  const long long start = ns(CLOCK_MONOTONIC);
  char line[128];
  if (argc == 4 && std::strcmp(argv[1], "sleep") == 0) {
    const long long before = parent_cpu_ns();
    const double seconds = std::strtod(argv[2], nullptr);
    timespec t{static_cast<time_t>(seconds),
               static_cast<long>((seconds - static_cast<double>(static_cast<time_t>(seconds))) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
    std::snprintf(line, sizeof line, "%lld\n", parent_cpu_ns() - before);
    append(argv[3], line);
    return 0;
  }
  if (argc == 4 && std::strcmp(argv[1], "mark") == 0) {
    if (FILE *state = std::fopen(argv[2], "r")) {
      long long before = 0;
      const bool ok = std::fscanf(state, "%lld", &before) == 1;
      std::fclose(state);
      std::remove(argv[2]);
      if (!ok) return 2;
      std::snprintf(line, sizeof line, "%lld\n", parent_cpu_ns() - before);
      append(argv[3], line);
      return 0;
    }
    std::snprintf(line, sizeof line, "%lld\n", parent_cpu_ns());
    append(argv[2], line);
    return 1;
  }
  if (argc == 3 && std::strcmp(argv[1], "ts") == 0) {
    std::snprintf(line, sizeof line, "%lld %lld\n", start, ns(CLOCK_MONOTONIC));
    append(argv[2], line);
    return 1;
  }
  if (argc == 3 && std::strcmp(argv[1], "idle") == 0) {
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, nullptr);
    if (write(STDOUT_FILENO, ".", 1) != 1) {
      std::perror("probe: write");
      return 2;
    }
    const long long written = ns(CLOCK_MONOTONIC);
    int signal = 0;
    while (sigwait(&term, &signal) != 0) {}
    std::snprintf(line, sizeof line, "%lld %lld\n", written, ns(CLOCK_MONOTONIC));
    append(argv[2], line);
    return 1;
  }
  std::fputs("usage: probe sleep SECONDS OUT | probe mark STATE OUT | probe ts OUT | probe idle OUT\n", stderr);
  return 2;
}
