#pragma once
// The socket declarations platform-neutral code needs, from Winsock headers
// (posix/socket_api.h has the POSIX ones; CMake puts one directory on the path).
// socklen_t, inet_ntop and inet_pton come from ws2tcpip.h.
#include <winsock2.h>
#include <ws2tcpip.h>
