#pragma once
// The socket declarations platform-neutral code needs, from Winsock headers
// (posix_socket_api.h has the POSIX ones). Included as "net/socket_api.h", a header
// CMake generates to forward to this one or that. socklen_t comes from ws2tcpip.h.
#include <winsock2.h>
#include <ws2tcpip.h>
