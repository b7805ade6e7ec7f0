# The manual pages, written in scdoc (packaging/man/*.scd) and made into roff at
# build time, so the source stays readable and the pages cannot be out of date with
# it. The .deb installs them gzipped, as Debian's policy wants; the Windows package
# has no man, so it gets them as HTML (mandoc -Thtml) in its doc folder.
# The bash completion is installed beside them on Linux.
find_program(SCDOC_PROGRAM scdoc REQUIRED DOC "scdoc (scripts/bootstrap.sh installs it)")
find_program(GZIP_PROGRAM gzip REQUIRED)
if(WIN32)
  find_program(MANDOC_PROGRAM mandoc REQUIRED DOC "mandoc (scripts/bootstrap.sh installs it)")
endif()

set(SLUICE_MAN_PAGES sluicectl.8 sluiced.8 sluice-run.1)
set(man_dir ${CMAKE_BINARY_DIR}/man)
set(man_outputs)
foreach(page IN LISTS SLUICE_MAN_PAGES)
  set(source ${CMAKE_CURRENT_LIST_DIR}/${page}.scd)
  if(WIN32)
    set(output ${man_dir}/${page}.html)
    add_custom_command(OUTPUT ${output}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${man_dir}
      COMMAND sh -c "\"$0\" < \"$1\" > \"$2.roff\" && \"$3\" -Thtml \"$2.roff\" > \"$2\""
              ${SCDOC_PROGRAM} ${source} ${output} ${MANDOC_PROGRAM}
      DEPENDS ${source} VERBATIM COMMENT "Making ${page}.html")
  else()
    set(output ${man_dir}/${page}.gz)
    add_custom_command(OUTPUT ${output}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${man_dir}
      COMMAND sh -c "\"$0\" < \"$1\" > \"$2\" && \"$3\" -9nc \"$2\" > \"$2.gz\""
              ${SCDOC_PROGRAM} ${source} ${man_dir}/${page} ${GZIP_PROGRAM}
      DEPENDS ${source} VERBATIM COMMENT "Making ${page}")
  endif()
  list(APPEND man_outputs ${output})
endforeach()
add_custom_target(man_pages ALL DEPENDS ${man_outputs})

if(WIN32)
  foreach(page IN LISTS SLUICE_MAN_PAGES)
    install(FILES ${man_dir}/${page}.html DESTINATION doc)
  endforeach()
else()
  foreach(page IN LISTS SLUICE_MAN_PAGES)
    string(REGEX MATCH "[0-9]$" section ${page})
    install(FILES ${man_dir}/${page}.gz DESTINATION share/man/man${section})
  endforeach()
  foreach(program sluicectl sluiced sluice-run)
    install(FILES ${CMAKE_CURRENT_LIST_DIR}/../bash-completion/sluice DESTINATION share/bash-completion/completions
            RENAME ${program})
  endforeach()
endif()
