#pragma once
// The socket declarations platform-neutral code needs, from POSIX headers
// (win/socket_api.h has the Winsock ones; CMake puts one directory on the path).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
