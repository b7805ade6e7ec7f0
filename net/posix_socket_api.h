#pragma once
// The socket declarations platform-neutral code needs, from POSIX headers
// (win_socket_api.h has the Winsock ones). Included as "net/socket_api.h", a header
// CMake generates to forward to this one or that.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
