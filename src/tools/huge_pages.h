// Transparent huge pages for the tools' heaps. Where the kernel's THP mode
// is "madvise" (Debian's default), glibc's malloc uses 4 KiB pages unless the
// glibc.malloc.hugetlb=1 tunable is set when the process starts, and a
// restart then spends most of its time in page faults: 1M entries load from
// a snapshot in 1.1 s with 4 KiB pages and 0.47 s with huge pages, for 3%
// more RSS (docs/format.md "Operations"). The caserepo tools set the tunable and
// execute themselves again, once, before doing anything else.
// CASEREPO_HUGE_PAGES=0 in the environment turns this off.
#pragma once

namespace caserepo::tools {

// Returns (doing nothing) when the tunable is set or not useful here, or if
// the re-execution fails; does not return when it succeeds. Call first in main.
void restart_with_huge_pages(char** argv);

}  // namespace caserepo::tools
