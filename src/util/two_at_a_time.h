// run_two_at_a_time: bulk work split by field (restore, compaction, a
// checkpoint's image) on the calling thread and, on a machine with more
// than one core, one helper thread. Fields are independent — each has its
// own dictionary — so two proceed at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <system_error>
#include <thread>

namespace caserepo::util {

// Runs task(0) .. task(n-1), each exactly once, taken in order (put the
// largest first). An exception (bad_alloc) in either thread stops further
// tasks and reaches the caller once both threads are done.
template <class Task>
void run_two_at_a_time(std::size_t n, Task&& task) {
  std::atomic<std::size_t> next{0};
  std::exception_ptr failed[2];
  auto worker = [&](int w) {
    try {
      for (std::size_t i; (i = next.fetch_add(1)) < n;) task(i);
    } catch (...) {
      failed[w] = std::current_exception();
      next = n;
    }
  };
  std::thread helper;
  if (std::thread::hardware_concurrency() > 1) {
    try {
      helper = std::thread(worker, 1);
    } catch (const std::system_error&) {
      // no thread to be had: the calling thread does it all
    }
  }
  worker(0);
  if (helper.joinable()) helper.join();
  for (const auto& e : failed) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace caserepo::util
