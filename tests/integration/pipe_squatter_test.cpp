// A process that is not the service holds \\.\pipe\sluice (the service stopped, or
// early boot) and answers every request with a relay verdict of its choosing. The
// clients must refuse it before writing a byte (control/transport/pipe_trust.h):
// transport::connect, sluicectl.exe and sluice_lsp.dll (through the SPI harness,
// which plays ws2_32). sluiced must not start as a second server behind it.
//
// Under Wine every process, services included, runs as the prefix's user (measured:
// S-1-5-21-0-0-0-1000), so the squatter runs as the caller's own account: on the
// default pipe that is not enough, on a pipe the caller chose it is (the control
// case, showing that the squatter's answers would be followed if trusted).
// The default pipe is one per Wine prefix: CTest runs this under RESOURCE_LOCK.

#include <winsock2.h>
#include <ws2tcpip.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "common/platform/platform.h"
#include "control/protocol/frame.h"
#include "control/protocol/jsonrpc.h"
#include "control/transport/transport.h"
#include "net/socket_address.h"
#include "tests/support/spi_harness.h"
#include "tests/support/temp_dir.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;
using protocol::json;

// Serves `endpoint`, one connection at a time, answering every request it reads
// with a relay verdict to 127.0.0.1:`relay_v4` or [::1]:`relay_v6` (by the
// destination's family); counts the requests.
class Squatter {
 public:
  Squatter(const std::string& endpoint, std::uint16_t relay_v4, std::uint16_t relay_v6)
      : listener_(transport::listen(endpoint)), relay_v4_(relay_v4), relay_v6_(relay_v6), thread_([this] { serve(); }) {}
  ~Squatter() {
    listener_->close();
    thread_.join();
  }
  int requests() const { return requests_; }
  const std::string& endpoint() const { return listener_->endpoint(); }

 private:
  void serve() {
    // accept() returns nullptr once close() was called; each client is read until
    // it hangs up or stays silent for 5 s, 1000 frames at most.
    while (auto connection = listener_->accept()) {
      protocol::FrameDecoder decoder;
      char buffer[4096];
      for (int frames = 0; frames < 1000;) {
        std::size_t n = 0;
        try {
          n = connection->read_some(buffer, sizeof buffer, 5s);
        } catch (const transport::TransportError&) {
          break;
        }
        if (n == 0) break;
        decoder.feed(buffer, n);
        std::string payload;
        while (decoder.next(payload) && frames++ < 1000) {
          ++requests_;
          const json request = json::parse(payload, nullptr, false);
          const json id = request.is_object() && request.contains("id") ? request["id"] : json();
          const bool ipv6 = request.is_object() && request.contains("params") && request["params"].is_object() &&
                            request["params"].value("destination", "").find(':') != std::string::npos;
          const json result{{"verdict", "relay"},
                            {"flow_id", 1},
                            {"relay", ipv6 ? "::1" : "127.0.0.1"},
                            {"relay_port", ipv6 ? relay_v6_ : relay_v4_},
                            {"fail_mode", "open"},
                            {"timeout_ms", 5000}};
          try {
            connection->write_all(protocol::encode_frame(json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}.dump()), 5s);
          } catch (const transport::TransportError&) {
            break;
          }
        }
      }
    }
  }
  std::unique_ptr<transport::Listener> listener_;
  std::uint16_t relay_v4_;
  std::uint16_t relay_v6_;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

// A plain Winsock listener on loopback (not through the LSP).
class LoopbackListener {
 public:
  explicit LoopbackListener(bool ipv6) {
    socket_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    auto address = net::parse_endpoint(ipv6 ? "::1" : "127.0.0.1", 0);
    sockaddr_storage s{};
    int length = net::to_sockaddr(*address, ipv6 ? AF_INET6 : AF_INET, s);
    EXPECT_EQ(bind(socket_, reinterpret_cast<sockaddr*>(&s), length), 0);
    EXPECT_EQ(listen(socket_, 8), 0);
    length = sizeof s;
    getsockname(socket_, reinterpret_cast<sockaddr*>(&s), &length);
    port_ = net::from_sockaddr(reinterpret_cast<sockaddr*>(&s), length)->port;
  }
  ~LoopbackListener() { closesocket(socket_); }
  std::uint16_t port() const { return port_; }
  // True when a connection is waiting to be accepted within `ms`.
  bool has_connection(long ms) const {
    fd_set set;
    FD_ZERO(&set);
    FD_SET(socket_, &set);
    timeval timeout{ms / 1000, (ms % 1000) * 1000};
    return select(0, &set, nullptr, nullptr, &timeout) == 1;
  }

 private:
  SOCKET socket_ = INVALID_SOCKET;
  std::uint16_t port_ = 0;
};

// The relay the squatter names, the squatter on the default pipe, and the LSP.
struct SquatSetup {
  LoopbackListener relay_v4{false};
  LoopbackListener relay_v6{true};
  std::unique_ptr<Squatter> squatter;
  std::unique_ptr<SpiHarness> harness;
};
SquatSetup* setup = nullptr;

class SquattedDefaultPipe : public ::testing::Environment {
 public:
  void SetUp() override {
    WSADATA data;
    WSAStartup(MAKEWORD(2, 2), &data);
    // As in a program that was told nothing: the LSP and sluicectl use \\.\pipe\sluice.
    SetEnvironmentVariableA("SLUICE_CONTROL", nullptr);
    SetEnvironmentVariableA("SLUICE_FAIL_MODE", "open");
    SetEnvironmentVariableA("SLUICE_PROVIDER_TIMEOUT_MS", "5000");
    setup = new SquatSetup;
    // Throws (and fails every test) if a sluiced already serves this prefix's pipe.
    setup->squatter = std::make_unique<Squatter>(platform::default_control_endpoint(), setup->relay_v4.port(),
                                                 setup->relay_v6.port());
    setup->harness = std::make_unique<SpiHarness>(SLUICE_LSP_DLL);
  }
  void TearDown() override {
    delete setup;
    WSACleanup();
  }
};

std::string own_directory() {
  char self[MAX_PATH];
  const DWORD n = GetModuleFileNameA(nullptr, self, MAX_PATH);
  std::string dir(self, n);
  return dir.substr(0, dir.find_last_of('\\') + 1);
}

struct ChildRun {
  DWORD exit_code = 999;
  std::string output;  // stdout and stderr, CRs removed
};

// Runs sluicectl.exe (beside this program) with `arguments`, bounded at 60 s.
ChildRun sluicectl(const std::string& arguments) {
  TempDir dir;
  const std::string output_file = dir.file("out.txt");
  SECURITY_ATTRIBUTES inherit{sizeof inherit, nullptr, TRUE};
  HANDLE out = CreateFileA(output_file.c_str(), GENERIC_WRITE, FILE_SHARE_READ, &inherit, CREATE_ALWAYS, 0, nullptr);
  ChildRun run;
  if (out == INVALID_HANDLE_VALUE) return run;
  const std::string program = own_directory() + "sluicectl.exe";
  std::string command = "\"" + program + "\" " + arguments;
  STARTUPINFOA startup{};
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  startup.hStdOutput = out;
  startup.hStdError = out;
  PROCESS_INFORMATION process{};
  if (CreateProcessA(program.c_str(), command.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &startup, &process)) {
    if (WaitForSingleObject(process.hProcess, 60'000) == WAIT_OBJECT_0) GetExitCodeProcess(process.hProcess, &run.exit_code);
    else TerminateProcess(process.hProcess, 998);
    CloseHandle(process.hThread);
    CloseHandle(process.hProcess);
  }
  CloseHandle(out);
  std::ifstream in(output_file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  for (char c : text.str()) {
    if (c != '\r') run.output += c;
  }
  return run;
}

std::string expected_refusal() {
  return "\\\\.\\pipe\\sluice is served by pid " + std::to_string(platform::current_pid()) + " running as ";
}

TEST(PipeSquatterTest, TransportConnectRefusesTheSquatterBeforeWritingAByte) {
  const int before = setup->squatter->requests();
  try {
    transport::connect(platform::default_control_endpoint(), 5s);
    FAIL() << "connected to the squatter";
  } catch (const transport::TransportError& e) {
    EXPECT_EQ(e.kind(), transport::ErrorKind::untrusted) << e.what();
    const std::string message = e.what();
    EXPECT_NE(message.find(expected_refusal()), std::string::npos) << message;
    EXPECT_NE(message.find("not LocalSystem"), std::string::npos) << message;
    EXPECT_NE(message.find(": refusing"), std::string::npos) << message;
  }
  std::this_thread::sleep_for(200ms);  // a request, had one been sent, has been read
  EXPECT_EQ(setup->squatter->requests(), before);
}

TEST(PipeSquatterTest, SluicectlRefusesTheSquatterOnTheDefaultPipe) {
  const int before = setup->squatter->requests();
  const ChildRun run = sluicectl("status");
  EXPECT_EQ(run.exit_code, 3u) << "unreachable: " << run.output;
  EXPECT_NE(run.output.find("sluicectl: " + expected_refusal()), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("not LocalSystem"), std::string::npos) << run.output;
  EXPECT_EQ(setup->squatter->requests(), before) << "sluicectl wrote to the squatter";
}

// The control case: the same kind of server on a pipe the caller chose, running as
// the caller's own account, is trusted, so the refusal above is the check's doing.
TEST(PipeSquatterTest, SluicectlTrustsItsOwnAccountOnAPipeItChose) {
  TempDir dir;
  Squatter own(unique_endpoint(dir), setup->relay_v4.port(), setup->relay_v6.port());
  const ChildRun run = sluicectl("--control " + own.endpoint() + " status");
  EXPECT_EQ(run.output.find("refusing"), std::string::npos) << run.output;
  EXPECT_GT(own.requests(), 0) << run.output;
}

TEST(PipeSquatterTest, SluicedDoesNotStartBehindTheSquatter) {
  try {
    transport::listen(platform::default_control_endpoint());
    FAIL() << "a second server started on the squatted pipe";
  } catch (const transport::TransportError& e) {
    EXPECT_EQ(e.kind(), transport::ErrorKind::in_use) << e.what();
    EXPECT_NE(std::string(e.what()).find("another process (pid " + std::to_string(platform::current_pid()) + ")"),
              std::string::npos)
        << e.what();
  }
}

class LspPipeSquatterTest : public ::testing::TestWithParam<bool> {};

// The squatter's relay verdict is not followed: the LSP has no answer, and the
// open fail mode sends the connection where the program meant it to go.
TEST_P(LspPipeSquatterTest, TheLspTreatsTheSquatterAsNoAnswer) {
  const bool ipv6 = GetParam();
  LoopbackListener destination(ipv6);
  const LoopbackListener& relay = ipv6 ? setup->relay_v6 : setup->relay_v4;
  const int before = setup->squatter->requests();
  int error = 0;
  SOCKET s = setup->harness->socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, &error);
  ASSERT_NE(s, INVALID_SOCKET) << error;
  auto address = net::parse_endpoint(ipv6 ? "::1" : "127.0.0.1", destination.port());
  sockaddr_storage target{};
  const int length = net::to_sockaddr(*address, ipv6 ? AF_INET6 : AF_INET, target);
  const int result = setup->harness->lsp().lpWSPConnect(s, reinterpret_cast<sockaddr*>(&target), length, nullptr, nullptr,
                                                        nullptr, nullptr, &error);
  EXPECT_EQ(result, 0) << error;
  EXPECT_TRUE(destination.has_connection(10'000)) << "the connection did not reach its own destination";
  EXPECT_FALSE(relay.has_connection(0)) << "the connection went to the squatter's relay";
  EXPECT_EQ(setup->squatter->requests(), before) << "the LSP wrote to the squatter";
  setup->harness->lsp().lpWSPCloseSocket(s, &error);
}

INSTANTIATE_TEST_SUITE_P(Families, LspPipeSquatterTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "IPv6" : "IPv4"; });

}  // namespace
}  // namespace sluice::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new sluice::test::SquattedDefaultPipe());
  return RUN_ALL_TESTS();
}
