#pragma once

#include <string>

namespace sluice::test {

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const;

 private:
  std::string path_;
};

// A control endpoint no other test uses: a socket path inside `dir` on POSIX,
// a unique pipe name on Windows.
std::string unique_endpoint(const TempDir& dir);

}  // namespace sluice::test
