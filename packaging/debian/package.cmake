# The Debian package: programs in /usr/bin, the LD_PRELOAD provider in
# /usr/lib/sluice (sluice-run and sluicectl look in ../lib/sluice).
install(TARGETS sluiced sluicectl sluice-run RUNTIME DESTINATION bin)
install(TARGETS sluice_preload LIBRARY DESTINATION lib/sluice)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
