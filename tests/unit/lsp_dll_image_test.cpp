// provider/lsp/install/dll_image: refusing files that cannot be the LSP a catalog
// names, from their PE headers, before the catalog is touched.
#include <gtest/gtest.h>

#include <string>

#include "provider/lsp/install/dll_image.h"

using namespace sluice::lsp::install;

namespace {

// The headers of a PE file: DOS header pointing at 0x80, "PE\0\0", then the COFF
// file header with the given machine and characteristics.
std::string pe_image(std::uint16_t machine, std::uint16_t characteristics) {
  std::string image(0x100, '\0');
  image[0] = 'M';
  image[1] = 'Z';
  image[0x3C] = static_cast<char>(0x80);
  image.replace(0x80, 4, std::string("PE\0\0", 4));
  image[0x84] = static_cast<char>(machine & 0xFF);
  image[0x85] = static_cast<char>(machine >> 8);
  image[0x96] = static_cast<char>(characteristics & 0xFF);
  image[0x97] = static_cast<char>(characteristics >> 8);
  return image;
}

constexpr std::uint16_t kDll = 0x2000 | 0x0002;  // IMAGE_FILE_DLL | IMAGE_FILE_EXECUTABLE_IMAGE
constexpr std::uint16_t kProgram = 0x0002;

}  // namespace

TEST(LspDllImage, DllOfTheCatalogsArchitectureIsAccepted) {
  EXPECT_EQ(dll_image_problem(pe_image(kMachineX64, kDll), kMachineX64), std::nullopt);
  EXPECT_EQ(dll_image_problem(pe_image(kMachineX86, kDll), kMachineX86), std::nullopt);
}

TEST(LspDllImage, DllOfTheOtherArchitectureIsRefused) {
  const auto problem = dll_image_problem(pe_image(kMachineX86, kDll), kMachineX64);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("32-bit x86 DLL"), std::string::npos) << *problem;
  EXPECT_TRUE(dll_image_problem(pe_image(kMachineX64, kDll), kMachineX86));
}

TEST(LspDllImage, ProgramsAndOtherFilesAreRefused) {
  EXPECT_NE(dll_image_problem(pe_image(kMachineX64, kProgram), kMachineX64)->find("not a DLL"), std::string::npos);
  EXPECT_NE(dll_image_problem("just some text", kMachineX64)->find("no MZ header"), std::string::npos);
  EXPECT_NE(dll_image_problem("", kMachineX64)->find("no MZ header"), std::string::npos);
  std::string no_pe = pe_image(kMachineX64, kDll);
  no_pe[0x80] = 'X';
  EXPECT_NE(dll_image_problem(no_pe, kMachineX64)->find("no PE header"), std::string::npos);
}

TEST(LspDllImage, HeadersCutShortAreRefusedWithoutReadingPastTheEnd) {
  const std::string image = pe_image(kMachineX64, kDll);
  EXPECT_TRUE(dll_image_problem(image.substr(0, 0x40), kMachineX64));  // e_lfanew points past the end
  EXPECT_TRUE(dll_image_problem(image.substr(0, 0x90), kMachineX64));  // COFF header cut
}
