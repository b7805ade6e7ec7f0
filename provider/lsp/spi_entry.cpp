// The DLL's entry points: WSPStartup, which ws2_32 calls for each protocol chain
// the LSP is in, WSPCleanup, and the test harness's hook.

#include <atomic>
#include <mutex>

#include "provider/lsp/lower_provider.h"
#include "provider/lsp/lsp_test_hooks.h"
#include "provider/lsp/spi.h"

namespace sluice::lsp {

namespace {

std::mutex startup_mutex;
int startups = 0;  // WSPStartup calls not yet matched by WSPCleanup
SluiceLspTestHooks hooks{};

// Relay associations are released when the last holder of a socket's state lets go,
// which may be the completion forwarder: the release is sent by the releaser's thread.
void send_release(std::uint64_t flow_id) {
  if (spi().steering) spi().steering->release(flow_id);
}
void release_flow(std::uint64_t flow_id) { spi().releases.post(flow_id); }

int WSPAPI lsp_cleanup(LPINT error) {
  std::lock_guard lock(startup_mutex);
  if (startups == 0) {
    *error = WSANOTINITIALISED;
    return SOCKET_ERROR;
  }
  if (--startups == 0) {
    // No thread of ours may outlive this: ws2_32 unloads the DLL next.
    spi().forwarder.stop();
    spi().releases.stop();
    spi().async_select.stop();
    stop_lower_providers();
  }
  return 0;
}

}  // namespace

Spi& spi() {
  // Never destroyed: programs call Winsock from their own static destructors.
  static Spi* state = new Spi();
  return *state;
}

namespace {

// The LSP's functions, one table for every chain it serves.
void fill_procedure_table(WSPPROC_TABLE& t) {
  t.lpWSPAccept = lsp_accept;
  t.lpWSPAddressToString = lsp_address_to_string;
  t.lpWSPAsyncSelect = lsp_async_select;
  t.lpWSPBind = lsp_bind;
  t.lpWSPCancelBlockingCall = lsp_cancel_blocking_call;
  t.lpWSPCleanup = lsp_cleanup;
  t.lpWSPCloseSocket = lsp_close_socket;
  t.lpWSPConnect = lsp_connect;
  t.lpWSPDuplicateSocket = lsp_duplicate_socket;
  t.lpWSPEnumNetworkEvents = lsp_enum_network_events;
  t.lpWSPEventSelect = lsp_event_select;
  t.lpWSPGetOverlappedResult = lsp_get_overlapped_result;
  t.lpWSPGetPeerName = lsp_get_peer_name;
  t.lpWSPGetSockName = lsp_get_sock_name;
  t.lpWSPGetSockOpt = lsp_get_sock_opt;
  t.lpWSPGetQOSByName = lsp_get_qos_by_name;
  t.lpWSPIoctl = lsp_ioctl;
  t.lpWSPJoinLeaf = lsp_join_leaf;
  t.lpWSPListen = lsp_listen;
  t.lpWSPRecv = lsp_recv;
  t.lpWSPRecvDisconnect = lsp_recv_disconnect;
  t.lpWSPRecvFrom = lsp_recv_from;
  t.lpWSPSelect = lsp_select;
  t.lpWSPSend = lsp_send;
  t.lpWSPSendDisconnect = lsp_send_disconnect;
  t.lpWSPSendTo = lsp_send_to;
  t.lpWSPSetSockOpt = lsp_set_sock_opt;
  t.lpWSPShutdown = lsp_shutdown;
  t.lpWSPSocket = lsp_socket;
  t.lpWSPStringToAddress = lsp_string_to_address;
}

}  // namespace

}  // namespace sluice::lsp

using namespace sluice::lsp;

extern "C" {

__declspec(dllexport) int WSPAPI WSPStartup(WORD version, LPWSPDATA data, LPWSAPROTOCOL_INFOW info,
                                            WSPUPCALLTABLE upcalls, LPWSPPROC_TABLE procedures) {
  if (LOBYTE(version) < 2 || (LOBYTE(version) == 2 && HIBYTE(version) < 2)) return WSAVERNOTSUPPORTED;
  if (info == nullptr || data == nullptr || procedures == nullptr) return WSAEINVAL;
  std::lock_guard lock(startup_mutex);
  Spi& state = spi();
  int error = 0;
  LowerProvider* lower = start_lower_provider(MAKEWORD(2, 2), *info, upcalls, hooks.lower_startup, &error);
  if (lower == nullptr) return error != 0 ? error : WSAEPROVIDERFAILEDINIT;

  data->wVersion = MAKEWORD(2, 2);
  data->wHighVersion = MAKEWORD(2, 2);
  wcsncpy(data->szDescription, L"Sluice traffic relay LSP", WSPDESCRIPTION_LEN);

  if (startups == 0) {
    const sluice::provider::ProviderConfig config = load_lsp_config();
    // A process told to be left alone gets the lower provider's own table: nothing
    // of ours stands between it and the network. sluiced is not exempted by name (a
    // program renamed sluiced.exe would escape): it makes its sockets from the base
    // provider's entry, so this LSP is never asked for them (net/win_base_provider.h).
    if (config.disabled) {
      *procedures = lower->calls;
      ++startups;
      return 0;
    }
    state.upcalls = upcalls;
    state.complete_overlapped = hooks.complete_overlapped != nullptr ? hooks.complete_overlapped : WPUCompleteOverlappedRequest;
    if (!state.forwarder.start(upcalls, state.complete_overlapped)) return WSAEPROVIDERFAILEDINIT;
    state.releases.start(&send_release);  // without its thread, releases are sent inline
    state.steering = std::make_unique<Steering>(config);
    sluice::provider::SocketState::set_release(&release_flow);
  } else if (!state.steering) {
    *procedures = lower->calls;
    ++startups;
    return 0;
  }
  fill_procedure_table(*procedures);
  ++startups;
  return 0;
}

__declspec(dllexport) void WINAPI SluiceLspSetTestHooks(const SluiceLspTestHooks* given) {
  std::lock_guard lock(startup_mutex);
  hooks = given != nullptr ? *given : SluiceLspTestHooks{};
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID) {
  if (reason == DLL_PROCESS_ATTACH) DisableThreadLibraryCalls(instance);
  return TRUE;
}

}  // extern "C"
