// The facts endpoint_distrust judges, from stat(2). Symbolic links are followed:
// what counts is the socket a connect reaches and the directory that holds it.

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "control/transport/endpoint_trust.h"

namespace sluice::transport {

namespace {

PathFacts facts_of(const std::string& path) {
  PathFacts facts;
  struct stat st {};
  const int saved_errno = errno;  // the preload provider runs inside programs
  if (::stat(path.c_str(), &st) == 0) {
    facts.exists = true;
    facts.is_directory = S_ISDIR(st.st_mode);
    facts.is_socket = S_ISSOCK(st.st_mode);
    facts.owner = st.st_uid;
    facts.mode = st.st_mode & 07777;
  }
  errno = saved_errno;
  return facts;
}

}  // namespace

std::optional<std::string> control_socket_distrust(const std::string& path) {
  return endpoint_distrust(path, facts_of(endpoint_directory(path)), facts_of(path), static_cast<std::uint32_t>(::geteuid()));
}

}  // namespace sluice::transport
