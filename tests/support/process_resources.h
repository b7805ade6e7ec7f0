#pragma once

// What this test process holds, as the OS counts it, for tests that show a server's
// threads do not grow with its clients.

#include <cstddef>

namespace sluice::test {

// Threads of this process now (Linux: /proc/self/status; Windows: a Toolhelp snapshot).
std::size_t thread_count();

// Raises this process's descriptor limit to at least `count` where the OS has one
// (POSIX soft limit, up to the hard one); false when it cannot be had.
bool allow_descriptors(std::size_t count);

}  // namespace sluice::test
