#pragma once

// Tests that need the kernel to name each socket's owner skip where it names none:
// Wine's GetExtendedTcpTable/GetExtendedUdpTable report pid 0 for every socket, so
// ownership cannot be proven or refused there (docs/attacksurface.md says which
// tests skip). A macro, because GTEST_SKIP must return from the test body itself.

#include <gtest/gtest.h>

#include "service/relay/socket_owner.h"

#define SLUICE_SKIP_UNLESS_SYSTEM_REPORTS_SOCKET_OWNERS()                                      \
  do {                                                                                        \
    if (!::sluice::relay::system_reports_socket_owners()) {                                   \
      GTEST_SKIP() << "this system's socket tables name no owners (Wine: pid 0 for every socket)"; \
    }                                                                                         \
  } while (false)
