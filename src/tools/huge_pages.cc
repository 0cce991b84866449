#include "tools/huge_pages.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace caserepo::tools {

void restart_with_huge_pages(char** argv) {
  const char* opt_out = std::getenv("CASEREPO_HUGE_PAGES");
  if (opt_out != nullptr && std::string(opt_out) == "0") return;
  // Under valgrind /proc/self/exe is valgrind's tool, not this program.
  const char* preload = std::getenv("LD_PRELOAD");
  if (preload != nullptr && std::string(preload).find("vgpreload") != std::string::npos) return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const std::string current = tunables != nullptr ? tunables : "";
  if (current.find("glibc.malloc.hugetlb") != std::string::npos) return;  // set (by us, or by the operator)
  std::string mode;
  std::getline(std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled"), mode);
  if (mode.find("[madvise]") == std::string::npos) return;  // "always": no need; "never": no use
  const std::string wanted = current.empty() ? "glibc.malloc.hugetlb=1" : current + ":glibc.malloc.hugetlb=1";
  if (::setenv("GLIBC_TUNABLES", wanted.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // Not executed again (no /proc?): go on as we are, the environment as it was.
  if (tunables != nullptr) {
    ::setenv("GLIBC_TUNABLES", current.c_str(), 1);
  } else {
    ::unsetenv("GLIBC_TUNABLES");
  }
}

}  // namespace caserepo::tools
