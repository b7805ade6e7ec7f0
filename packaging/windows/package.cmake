# The Windows installer, sluice-<version>-win64.exe, made by CPack with NSIS
# (makensis runs on Linux too). Layout under the install directory
# (C:\Program Files\Sluice by default):
#   bin\sluiced.exe, bin\sluicectl.exe, bin\sluice_lsp.dll  (sluicectl finds the LSP beside itself)
#   README.md, LICENSE.txt
#   doc\sluicectl.8.html, doc\sluiced.8.html, doc\sluice-run.1.html  the manual pages (../man)
#   sluiced.conf.default   the documented defaults, copied to C:\ProgramData\Sluice\sluiced.conf
#                          by the installer only when no configuration is there yet
# What the installer and the uninstaller do beyond copying files (service, LSP,
# PATH, state) is in NSIS.template.in beside this file.
# (MinGW also makes an import library for the DLL: nothing to install.)
install(TARGETS sluiced sluicectl sluice_lsp RUNTIME DESTINATION bin ARCHIVE DESTINATION lib EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${CMAKE_CURRENT_LIST_DIR}/../LICENSE.txt DESTINATION .)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/../sluiced.conf DESTINATION . RENAME sluiced.conf.default)

set(CPACK_GENERATOR NSIS)
# Our own NSIS.template.in (CPack looks in CPACK_MODULE_PATH before its own) and
# the .nsh files it includes from here.
set(CPACK_MODULE_PATH ${CMAKE_CURRENT_LIST_DIR})
set(CPACK_SLUICE_NSIS_DIR ${CMAKE_CURRENT_LIST_DIR})
set(CPACK_PACKAGE_INSTALL_DIRECTORY Sluice)
set(CPACK_NSIS_COMPRESSOR "/SOLID lzma")
