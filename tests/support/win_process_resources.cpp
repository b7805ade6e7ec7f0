#include <windows.h>
#include <tlhelp32.h>

#include "tests/support/process_resources.h"

namespace sluice::test {

std::size_t thread_count() {
  HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  if (snapshot == INVALID_HANDLE_VALUE) return 0;
  std::size_t count = 0;
  THREADENTRY32 entry{};
  entry.dwSize = sizeof entry;
  for (BOOL more = Thread32First(snapshot, &entry); more; more = Thread32Next(snapshot, &entry)) {
    if (entry.th32OwnerProcessID == GetCurrentProcessId()) ++count;
  }
  CloseHandle(snapshot);
  return count;
}

bool allow_descriptors(std::size_t) { return true; }  // handles have no per-process limit to raise

}  // namespace sluice::test
