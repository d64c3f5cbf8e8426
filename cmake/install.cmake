# What `cmake --install` puts where (besides the two programs, installed by app/CMakeLists.txt),
# and the Debian package CPack builds from it (`cpack -G DEB` in a build directory).
#
#   bin/graph-threads, bin/graph-threads-emulator
#   share/man/man1/graph-threads.1.gz, graph-threads-emulator.1.gz
#   share/bash-completion/completions/graph-threads        (bash-completion loads it on demand)
#   share/zsh/vendor-completions/_graph-threads            (in Debian's default $fpath)
#   share/fish/vendor_completions.d/graph-threads.fish     (fish loads it on demand)
#
# tests/shell/package_test.sh installs into a scratch prefix and builds the package, and checks
# both.

# Man pages are installed compressed with gzip -9n, as Debian policy asks (man reads them as they
# are); -n leaves name and time out, so the same page gives the same bytes.
find_program(GT_GZIP gzip REQUIRED)
set(gt_man_pages graph-threads.1 graph-threads-emulator.1)
set(gt_man_gz "")
foreach(page IN LISTS gt_man_pages)
  add_custom_command(
    OUTPUT ${PROJECT_BINARY_DIR}/man/${page}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${GT_GZIP} -9nc ${PROJECT_SOURCE_DIR}/man/${page} > ${PROJECT_BINARY_DIR}/man/${page}.gz
    DEPENDS ${PROJECT_SOURCE_DIR}/man/${page}
    COMMENT "Compressing man/${page}"
    VERBATIM)
  list(APPEND gt_man_gz ${PROJECT_BINARY_DIR}/man/${page}.gz)
endforeach()
add_custom_target(gt_man_pages ALL DEPENDS ${gt_man_gz})
install(FILES ${gt_man_gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES completions/graph-threads.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME graph-threads)
install(FILES completions/_graph-threads DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES completions/graph-threads.fish
        DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)

# One package, graph-threads, with both programs: the emulator is what the README's examples, a
# user's own script tests and CI jobs run against, and it adds a few MB.
# Build it from a Release build: a sanitized build (GT_SANITIZE, scripts/test) links libasan and
# libubsan, and dpkg-shlibdeps duly puts them in Depends.
set(GT_PACKAGE_MAINTAINER "graph-threads maintainers <maintainers@users.noreply.r-seed-bd2dd157.example>"
    CACHE STRING "Maintainer field of the Debian package")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME graph-threads)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${GT_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# Debian's extended description: lines of at most 80 columns (CPack indents each by one space).
set(CPACK_PACKAGE_DESCRIPTION
    "graph-threads creates, lists, shows, replies to, locks, unlocks and deletes
conversation threads of Microsoft 365 groups through Microsoft Graph, from
terminals, scripts and CI jobs. It checks input before anything is sent, never
re-sends a create that may have happened, and tells with its exit code what
happened. graph-threads-emulator is a local Microsoft Graph stand-in for trying
the tool and testing scripts without a tenant.")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: the Debian runtime libraries the programs link (libc6, libssl3, libstdc++6, Boost's
# json and url libraries, ...), as dpkg-shlibdeps (dpkg-dev) reads them from the binaries.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
