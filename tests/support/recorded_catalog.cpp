#include "tests/support/recorded_catalog.h"

#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace sluice::test {
namespace {

using lsp::Guid;
using lsp::install::CatalogEntry;

// "{E70F1AA0-AB8B-11CF-8CA3-00805F48A192}"
Guid parse_guid(const std::string& text) {
  if (text.size() != 38 || text.front() != '{' || text.back() != '}') throw std::runtime_error("bad GUID " + text);
  auto hex = [&](std::size_t pos, std::size_t len) {
    const std::string part = text.substr(pos, len);
    char* end = nullptr;
    const unsigned long value = std::strtoul(part.c_str(), &end, 16);
    if (*end != '\0') throw std::runtime_error("bad GUID " + text);
    return value;
  };
  Guid guid{};
  guid.data1 = static_cast<std::uint32_t>(hex(1, 8));
  guid.data2 = static_cast<std::uint16_t>(hex(10, 4));
  guid.data3 = static_cast<std::uint16_t>(hex(15, 4));
  const std::size_t byte_at[8] = {20, 22, 25, 27, 29, 31, 33, 35};
  for (int i = 0; i < 8; ++i) guid.data4[i] = static_cast<std::uint8_t>(hex(byte_at[i], 2));
  return guid;
}

std::uint32_t parse_number(const std::string& text) {
  char* end = nullptr;
  const unsigned long value = std::strtoul(text.c_str(), &end, 0);
  if (text.empty() || *end != '\0') throw std::runtime_error("bad number " + text);
  return static_cast<std::uint32_t>(value);
}

void parse_chain(const std::string& text, CatalogEntry& e) {
  if (text == "layered") {
    e.chain_length = 0;
  } else if (text == "base") {
    e.chain_length = 1;
  } else {
    std::istringstream ids(text);
    std::string id;
    while (std::getline(ids, id, ':')) e.chain.push_back(parse_number(id));
    if (e.chain.size() < 2) throw std::runtime_error("bad chain " + text);
    e.chain_length = static_cast<int>(e.chain.size());
  }
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

CatalogEntry parse_entry(const std::string& line) {
  const auto bar = line.find(" |");
  if (bar == std::string::npos) throw std::runtime_error("no ' | ' before the DLL path");
  std::istringstream fields(line.substr(0, bar));
  std::string id, guid, chain, family, type, protocol, version, addresses, service_flags, provider_flags;
  if (!(fields >> id >> guid >> chain >> family >> type >> protocol >> version >> addresses >> service_flags >>
        provider_flags)) {
    throw std::runtime_error("fewer fields than the format has");
  }
  CatalogEntry e;
  e.id = parse_number(id);
  e.provider = parse_guid(guid);
  parse_chain(chain, e);
  e.address_family = static_cast<int>(parse_number(family));
  e.socket_type = static_cast<int>(parse_number(type));
  e.protocol = static_cast<int>(parse_number(protocol));
  e.version = static_cast<int>(parse_number(version));
  const auto dash = addresses.find('-');
  if (dash == std::string::npos) throw std::runtime_error("bad address lengths " + addresses);
  e.min_sockaddr = static_cast<int>(parse_number(addresses.substr(0, dash)));
  e.max_sockaddr = static_cast<int>(parse_number(addresses.substr(dash + 1)));
  e.service_flags1 = parse_number(service_flags);
  e.provider_flags = parse_number(provider_flags);
  std::string name;
  std::getline(fields >> std::ws, name);
  e.name = trimmed(name);
  e.dll_path = trimmed(line.substr(bar + 2));
  return e;
}

}  // namespace

lsp::install::Catalog parse_recorded_catalog(std::string_view text) {
  lsp::install::Catalog catalog;
  std::istringstream lines{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (trimmed(line).empty() || trimmed(line).front() == '#') continue;
    try {
      catalog.push_back(parse_entry(line));
    } catch (const std::exception& e) {
      throw std::runtime_error("recorded catalog line " + std::to_string(number) + ": " + e.what());
    }
  }
  return catalog;
}

lsp::install::Catalog recorded_catalog(const std::string& file_name) {
  const auto text = embedded_catalog_text(file_name);
  if (!text) throw std::runtime_error("no recorded catalog " + file_name + " in tests/data/catalogs");
  try {
    return parse_recorded_catalog(*text);
  } catch (const std::exception& e) {
    throw std::runtime_error(file_name + ": " + e.what());
  }
}

}  // namespace sluice::test
