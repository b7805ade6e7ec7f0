#include "provider/preload/launcher.h"

#include <sys/stat.h>

#include <filesystem>
#include <sstream>

namespace sluice::preload {

namespace {

constexpr const char* kLibraryName = "libsluice_preload.so";

bool takes_value(const std::string& option) {
  return option == "--control" || option == "--fail-mode" || option == "--timeout" || option == "--library";
}

}  // namespace

LaunchLine split_launch_line(const std::vector<std::string>& args) {
  LaunchLine line;
  std::size_t i = 0;
  while (i < args.size()) {
    const std::string& word = args[i];
    if (word == "--") {
      ++i;
      break;
    }
    if (word.empty() || word[0] != '-') break;
    line.options.push_back(word);
    ++i;
    if (takes_value(word) && i < args.size()) line.options.push_back(args[i++]);
  }
  line.program.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return line;
}

std::optional<std::string> find_provider_library(const std::string& own_directory,
                                                 const std::function<bool(const std::string&)>& exists) {
  for (const char* relative : {"/", "/../lib/sluice/", "/../lib/"}) {
    const std::string candidate = own_directory + relative + kLibraryName;
    if (exists(candidate)) return candidate;
  }
  return std::nullopt;
}

std::string own_directory() {
  std::error_code error;
  auto path = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string(".") : path.parent_path().string();
}

bool is_regular_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string compose_ld_preload(const std::string& existing, const std::string& library) {
  std::string out = library;
  // ld.so separates LD_PRELOAD entries with spaces or colons.
  std::string entry;
  std::istringstream in(existing);
  for (std::string word; std::getline(in, word, ':');) {
    std::istringstream words(word);
    while (words >> entry) {
      if (entry != library) out += ":" + entry;
    }
  }
  return out;
}

}  // namespace sluice::preload
