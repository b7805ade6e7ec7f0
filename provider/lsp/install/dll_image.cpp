#include "provider/lsp/install/dll_image.h"

namespace sluice::lsp::install {
namespace {

// PE fields are little-endian at fixed offsets (the PE/COFF specification).
std::optional<std::uint32_t> read_le(std::string_view bytes, std::size_t offset, std::size_t size) {
  if (offset > bytes.size() || bytes.size() - offset < size) return std::nullopt;
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < size; ++i) value |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  return value;
}

std::string machine_name(std::uint32_t machine) {
  switch (machine) {
    case kMachineX86: return "32-bit x86";
    case kMachineX64: return "64-bit x64";
    case 0xAA64: return "ARM64";
  }
  return "machine type " + std::to_string(machine);
}

constexpr std::size_t kNewHeaderOffset = 0x3C;  // e_lfanew in the DOS header
constexpr std::uint32_t kFileDll = 0x2000;       // IMAGE_FILE_DLL

}  // namespace

std::optional<std::string> dll_image_problem(std::string_view image, std::uint16_t machine) {
  if (image.substr(0, 2) != "MZ") return "it is not a Windows executable image (no MZ header)";
  const auto pe = read_le(image, kNewHeaderOffset, 4);
  if (!pe || *pe > image.size() || image.substr(*pe, 4) != std::string_view("PE\0\0", 4)) {
    return "it is not a PE image (no PE header)";
  }
  const auto found = read_le(image, *pe + 4, 2);
  const auto characteristics = read_le(image, *pe + 22, 2);
  if (!found || !characteristics) return "its PE header is cut short";
  if (!(*characteristics & kFileDll)) return "it is a program, not a DLL";
  if (*found != machine) return "it is a " + machine_name(*found) + " DLL; this catalog needs a " + machine_name(machine) + " one";
  return std::nullopt;
}

}  // namespace sluice::lsp::install
