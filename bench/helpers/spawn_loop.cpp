// The floor for retryx's per-attempt cost: posix_spawnp + waitpid of a
// command, N times, as tightly as a C++ program can do it.
//   usage: spawn_loop N command [args...]
#include <spawn.h>
#include <sys/wait.h>
#include <cstdio>
#include <cstdlib>

extern char **environ;

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fputs("usage: spawn_loop N command [args...]\n", stderr);
    return 2;
  }
  const long n = std::strtol(argv[1], nullptr, 10);
  for (long i = 0; i < n; ++i) {
    pid_t pid = 0;
    if (posix_spawnp(&pid, argv[2], nullptr, nullptr, argv + 2, environ) != 0) return 2;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return 2;
  }
  return 0;
}
