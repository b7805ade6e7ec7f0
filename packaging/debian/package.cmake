# The Debian package, sluice_<version>_amd64.deb:
#   /usr/bin/{sluiced,sluicectl,sluice-run}
#   /usr/lib/sluice/libsluice_preload.so  (sluice-run and sluicectl look in ../lib/sluice)
#   /etc/sluice/sluiced.conf              (a conffile: dpkg keeps the administrator's edits)
#   /lib/systemd/system/sluiced.service   (the hardened unit; see the file)
#   /usr/share/doc/sluice/{README.md,copyright}
#   /usr/share/man/man8/{sluicectl,sluiced}.8.gz, /usr/share/man/man1/sluice-run.1.gz  (../man)
#   /usr/share/bash-completion/completions/{sluicectl,sluiced,sluice-run}       (../bash-completion)
# Maintainer scripts (postinst, prerm, postrm) create the sluice-admin group, start
# and stop the unit, and clean up; each says what it does and why.
#
# /etc and /lib/systemd are absolute destinations on purpose: a package puts them
# there whatever the prefix of /usr is. CPack installs into its staging directory,
# so nothing outside the build tree is touched while packaging.
install(TARGETS sluiced sluicectl sluice-run RUNTIME DESTINATION bin)
install(TARGETS sluice_preload LIBRARY DESTINATION lib/sluice)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/../sluiced.conf DESTINATION /etc/sluice)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/../systemd/sluiced.service DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/sluice)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/../LICENSE.txt DESTINATION share/doc/sluice RENAME copyright)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Debian's own naming: sluice_0.1.0_amd64.deb.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "${CPACK_PACKAGE_DESCRIPTION_SUMMARY}
 Sluice decides, for every program on the machine, which destinations it may
 reach directly, which go through a relay that meters its bandwidth, and which
 are blocked. sluiced holds the policy (SQLite) and relays the flows; sluicectl
 administers it; an LD_PRELOAD provider (sluice-run, or /etc/ld.so.preload via
 'sluicectl provider install') asks sluiced about each new flow.
 .
 Changes to the policy need root or membership of the sluice-admin group.")
# The libraries the binaries link against (libc, libstdc++, Boost.Program_options,
# SQLite, spdlog, fmt) become Depends: as dpkg-shlibdeps computes them.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The preload library is ours and private; dpkg-shlibdeps must not look for a
# package that provides it.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/bin)
# postinst creates the group with groupadd (passwd: on every Debian system, but
# not Essential, so it is named).
set(CPACK_DEBIAN_PACKAGE_DEPENDS passwd)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_LIST_DIR}/conffiles;${CMAKE_CURRENT_LIST_DIR}/postinst;${CMAKE_CURRENT_LIST_DIR}/prerm;${CMAKE_CURRENT_LIST_DIR}/postrm")
# Scripts 0755, conffiles 0644, whatever the checkout's modes are.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
