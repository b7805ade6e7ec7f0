// The control pipe's DACL as the system reports it back (Windows only): SYSTEM and
// Administrators in full, authenticated users may connect, read and write but not
// create pipe instances, so no user can put up a server instance of the service's
// pipe and receive other users' connections.

#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
#include <gtest/gtest.h>

#include <string>

#include "control/transport/transport.h"
#include "tests/support/temp_dir.h"

namespace sluice::transport {
namespace {

// The access mask the DACL grants to the well-known SID `sid`, 0 when none.
ACCESS_MASK granted_to(PACL dacl, WELL_KNOWN_SID_TYPE sid_type) {
  BYTE sid[SECURITY_MAX_SID_SIZE];
  DWORD size = sizeof sid;
  if (!CreateWellKnownSid(sid_type, nullptr, sid, &size)) return 0;
  ACCESS_MASK mask = 0;
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    void* ace = nullptr;
    if (!GetAce(dacl, i, &ace)) continue;
    auto* header = static_cast<ACE_HEADER*>(ace);
    if (header->AceType != ACCESS_ALLOWED_ACE_TYPE) continue;
    auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
    if (EqualSid(&allowed->SidStart, sid)) mask |= allowed->Mask;
  }
  return mask;
}

TEST(PipeSecurityTest, TheControlPipeCarriesTheDocumentedDacl) {
  test::TempDir dir;
  const std::string endpoint = test::unique_endpoint(dir);
  auto listener = listen(endpoint);
  const std::wstring name(endpoint.begin(), endpoint.end());
  HANDLE pipe = CreateFileW(name.c_str(), READ_CONTROL, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  ASSERT_NE(pipe, INVALID_HANDLE_VALUE) << GetLastError();
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  ASSERT_EQ(GetSecurityInfo(pipe, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                            nullptr, nullptr, &dacl, nullptr, &descriptor),
            static_cast<DWORD>(ERROR_SUCCESS));
  ASSERT_NE(dacl, nullptr) << "a null DACL would grant everyone everything";

  // Full control, as the SDDL's GA or mapped to the file rights (Windows maps generic
  // rights when the object is created; Wine keeps them as written).
  auto full = [](ACCESS_MASK mask) { return (mask & GENERIC_ALL) != 0 || (mask & FILE_ALL_ACCESS) == FILE_ALL_ACCESS; };
  EXPECT_TRUE(full(granted_to(dacl, WinLocalSystemSid)));
  EXPECT_TRUE(full(granted_to(dacl, WinBuiltinAdministratorsSid)));
  const ACCESS_MASK users = granted_to(dacl, WinAuthenticatedUserSid);
  EXPECT_EQ(users & (FILE_READ_DATA | FILE_WRITE_DATA | SYNCHRONIZE), FILE_READ_DATA | FILE_WRITE_DATA | SYNCHRONIZE);
  // FILE_APPEND_DATA is FILE_CREATE_PIPE_INSTANCE on a pipe.
  EXPECT_EQ(users & FILE_CREATE_PIPE_INSTANCE, 0u);
  EXPECT_EQ(users & (WRITE_DAC | WRITE_OWNER | DELETE), 0u);
  EXPECT_EQ(granted_to(dacl, WinWorldSid), 0u) << "Everyone (anonymous included) gets nothing";

  LocalFree(descriptor);
  CloseHandle(pipe);
  listener->close();
}

}  // namespace
}  // namespace sluice::transport
