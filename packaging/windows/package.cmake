# The Windows installer: sluiced.exe, sluicectl.exe and sluice_lsp.dll in one
# directory (sluicectl finds the LSP beside itself).
install(TARGETS sluiced sluicectl sluice_lsp RUNTIME DESTINATION bin)
set(CPACK_GENERATOR NSIS)
