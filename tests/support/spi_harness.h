#pragma once

// Plays ws2_32's part for sluice_lsp.dll, since Wine's ws2_32 never loads an LSP:
// loads the DLL, gives it an upcall table (socket handles, APCs, events) and a
// lower provider that forwards to real Winsock (winsock_base_provider), starts it
// for the four protocol chains the catalog installer creates (TCP and UDP over
// IPv4 and IPv6) and hands tests its procedure table. Socket handles are real
// kernel handles (named pipe instances), so a test can put them on a completion
// port as a program does, and WPUCompleteOverlappedRequest then posts to it.

#include <winsock2.h>
#include <ws2spi.h>

#include <string>
#include <vector>

namespace sluice::test {

class SpiHarness {
 public:
  // Loads and starts the LSP at `dll_path`. Throws std::runtime_error on failure.
  explicit SpiHarness(const std::string& dll_path);
  ~SpiHarness();
  SpiHarness(const SpiHarness&) = delete;
  SpiHarness& operator=(const SpiHarness&) = delete;

  // The LSP's procedure table, as ws2_32 would call it.
  const WSPPROC_TABLE& lsp() const { return procedures_; }

  // A socket through the LSP (overlapped, as socket() and WSASocket give), or
  // INVALID_SOCKET with *error set.
  SOCKET socket(int family, int type, int* error) const;

  // What CreateIoCompletionPort does for a program's socket.
  static bool associate(SOCKET s, HANDLE port, ULONG_PTR key);

  // The lpThreadId ws2_32 passes for calls made on the calling thread.
  static LPWSATHREADID this_thread();

  // What WPUPostMessage was asked to post, in order (WSPAsyncSelect's messages).
  struct PostedMessage {
    HWND window;
    UINT message;
    WPARAM wparam;
    LPARAM lparam;
  };
  static std::vector<PostedMessage> posted_messages();

  // The loaded DLL; unloaded (FreeLibrary) by the destructor after the last
  // WSPCleanup, as ws2_32 unloads a provider.
  HMODULE dll() const { return dll_; }

  // Program handles the LSP created and has not closed yet.
  static int open_handles();

 private:
  HMODULE dll_ = nullptr;
  WSPPROC_TABLE procedures_{};
  int startups_ = 0;
};

}  // namespace sluice::test
