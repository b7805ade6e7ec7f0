#include <windows.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "common/platform/platform.h"
#include "common/platform/win_strings.h"
#include "tests/support/child_process.h"

namespace sluice::test {

namespace {

HANDLE as_handle(std::intptr_t value) { return reinterpret_cast<HANDLE>(value); }

std::wstring quoted(const std::string& argument) { return L"\"" + platform::widen(argument) + L"\""; }

}  // namespace

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& arguments) {
  SECURITY_ATTRIBUTES inheritable{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  HANDLE read_end = nullptr;
  HANDLE write_end = nullptr;
  if (!CreatePipe(&read_end, &write_end, &inheritable, 0)) {
    throw std::runtime_error("CreatePipe: " + platform::win32_error_text(GetLastError()));
  }
  SetHandleInformation(read_end, HANDLE_FLAG_INHERIT, 0);  // only the write end goes to the child
  std::wstring command = quoted(program);
  for (const std::string& argument : arguments) command += L" " + quoted(argument);
  STARTUPINFOW startup{};
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  startup.hStdOutput = write_end;
  startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  PROCESS_INFORMATION process{};
  const BOOL started = CreateProcessW(platform::widen(program).c_str(), command.data(), nullptr, nullptr, TRUE, 0,
                                      nullptr, nullptr, &startup, &process);
  const DWORD error = GetLastError();
  CloseHandle(write_end);
  if (!started) {
    CloseHandle(read_end);
    throw std::runtime_error("CreateProcess " + program + ": " + platform::win32_error_text(error));
  }
  CloseHandle(process.hThread);
  process_ = reinterpret_cast<std::intptr_t>(process.hProcess);
  output_ = reinterpret_cast<std::intptr_t>(read_end);
}

ChildProcess::~ChildProcess() {
  kill();
  if (output_ != -1) CloseHandle(as_handle(output_));
}

bool ChildProcess::read_more(std::chrono::steady_clock::time_point deadline) {
  // An anonymous pipe has no overlapped reads: it is polled with PeekNamedPipe, so a
  // read never blocks past the deadline.
  for (;;) {
    DWORD available = 0;
    if (!PeekNamedPipe(as_handle(output_), nullptr, 0, nullptr, &available, nullptr)) return false;  // it ended
    if (available == 0) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    char buffer[256];
    DWORD n = 0;
    const DWORD wanted = available < sizeof buffer ? available : static_cast<DWORD>(sizeof buffer);
    if (!ReadFile(as_handle(output_), buffer, wanted, &n, nullptr) || n == 0) return false;
    pending_.append(buffer, n);
    return true;
  }
}

void ChildProcess::kill() {
  if (process_ == -1) return;
  TerminateProcess(as_handle(process_), 137);
  WaitForSingleObject(as_handle(process_), 10000);
  CloseHandle(as_handle(process_));
  process_ = -1;
}

std::string program_beside_this_one(const std::string& name) {
  const std::string self = platform::current_executable();
  return self.substr(0, self.find_last_of("\\/") + 1) + name + ".exe";
}

}  // namespace sluice::test
