#pragma once

namespace sluice {

// The release version ("0.1.0"), set by CMake from project(VERSION).
const char* version();

// The control protocol version spoken by sluiced and its clients. A client and a
// service agree when the major numbers match; minor additions are backwards compatible.
inline constexpr int kProtocolMajor = 1;
inline constexpr int kProtocolMinor = 0;

}  // namespace sluice
