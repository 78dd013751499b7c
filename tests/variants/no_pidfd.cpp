// $RETRYX for a scenario run where pidfd_open(2) is refused, as on Linux
// < 5.3, under valgrind 3.19 or behind an old container seccomp profile:
// installs a seccomp filter that answers pidfd_open with ENOSYS (inherited
// by every descendant) and execs the built binary, $E2E_WRAPPED, with this
// program's arguments, in the same process. Written in C++ rather than
// Python, whose start-up changes signal dispositions (PIPE, XFSZ) that the
// scenarios check the child gets back unchanged.
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int, char** argv) {
  const char* wrapped = std::getenv("E2E_WRAPPED");
  if (!wrapped || !*wrapped) {
    std::fputs("no_pidfd: E2E_WRAPPED must name the binary to run\n", stderr);
    return 125;
  }
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),  // other arches: allow
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    std::fprintf(stderr, "no_pidfd: cannot install the filter: %s\n", std::strerror(errno));
    return 125;
  }
  argv[0] = const_cast<char*>(wrapped);
  ::execv(wrapped, argv);
  std::fprintf(stderr, "no_pidfd: cannot run %s: %s\n", wrapped, std::strerror(errno));
  return 127;
}
