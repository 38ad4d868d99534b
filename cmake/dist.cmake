# Installation, the portable release tarball, the Debian package and their
# tests (docs/design.md §13). Included at the end of CMakeLists.txt, once
# osc_core has all its sources and libraries.
include(GNUInstallDirs)

# --- install rules -------------------------------------------------------------
install(TARGETS octoscale RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/docs/octoscale.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/policies/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/octoscale/policies)
# examples/octoscale.yaml names ../policies/*.lua: beside share/octoscale/
# policies it loads as installed.
install(FILES ${CMAKE_SOURCE_DIR}/examples/octoscale.yaml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/octoscale/examples)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/scripts
                  ${CMAKE_SOURCE_DIR}/examples/runbook
        DESTINATION ${CMAKE_INSTALL_DATADIR}/octoscale/examples
        USE_SOURCE_PERMISSIONS
        PATTERN sync-template.lua EXCLUDE) # a maintainer's tool
install(FILES ${CMAKE_SOURCE_DIR}/contrib/completions/octoscale.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME octoscale)
install(FILES ${CMAKE_SOURCE_DIR}/contrib/completions/_octoscale
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)

# --- the man page and the completions agree with --help ------------------------
add_test(NAME dist/man COMMAND bash ${CMAKE_SOURCE_DIR}/tests/dist/man_drift.sh
         ${CMAKE_BINARY_DIR} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
add_test(NAME dist/install
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/dist/install.sh ${CMAKE_BINARY_DIR}
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(dist/man dist/install PROPERTIES LABELS dist TIMEOUT 120)
# `make install` and the dist fixture both run a build in this tree
set_tests_properties(dist/install PROPERTIES RESOURCE_LOCK build-tree)

# The release binary and packages are not built under the sanitizers.
if(OCTOSCALE_SANITIZE)
  return()
endif()

# --- the release binary: Lua, lua-cjson and libyaml static ---------------------
# Same sources and libraries as octoscale, built again -O2 and stripped, with
# the Lua and libyaml archives in place of their shared libraries: at run time
# it needs glibc and libcurl (with what libcurl pulls in) only, and libcurl
# only for the commands that use the network (it is loaded on first use).
find_library(LUA_STATIC NAMES liblua5.4.a HINTS ${LUA_LIBDIR} REQUIRED)
find_library(YAML_STATIC NAMES libyaml.a HINTS ${YAML_LIBDIR} REQUIRED)
get_target_property(osc_dist_sources osc_core SOURCES)
get_target_property(osc_dist_libs osc_core LINK_LIBRARIES)
get_target_property(osc_dist_defs osc_core COMPILE_DEFINITIONS)
# The engine library's sources are compiled into the release binary too.
get_target_property(osc_engine_sources osc_engine SOURCES)
list(APPEND osc_dist_sources ${osc_engine_sources})
list(REMOVE_ITEM osc_dist_libs osc_engine)
list(TRANSFORM osc_dist_libs REPLACE "^PkgConfig::LUA$" "${LUA_STATIC};dl")
list(TRANSFORM osc_dist_libs REPLACE "^PkgConfig::YAML$" "${YAML_STATIC}")
add_executable(octoscale-dist EXCLUDE_FROM_ALL core/main.c ${osc_dist_sources})
add_dependencies(octoscale-dist osc_build_info)
target_include_directories(octoscale-dist PRIVATE ${CMAKE_SOURCE_DIR}
  ${CMAKE_BINARY_DIR} ${LUACJSON_INCLUDE_DIRS} ${LUA_INCLUDE_DIRS}
  ${YAML_INCLUDE_DIRS})
target_compile_definitions(octoscale-dist PRIVATE ${osc_dist_defs})
target_compile_options(octoscale-dist PRIVATE ${OSC_WARNINGS} -O2 -g0)
target_link_options(octoscale-dist PRIVATE -s)
target_link_libraries(octoscale-dist PRIVATE ${osc_dist_libs})
set_target_properties(octoscale-dist PROPERTIES
                      RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/dist)

# `make dist`: octoscale.<version>.tar.gz (Octopus's <PackageId>.<Version>)
# holding bin/octoscale (the release binary), share/ and README.
set(OSC_DIST_TARBALL ${CMAKE_BINARY_DIR}/octoscale.${PROJECT_VERSION}.tar.gz)
add_custom_target(dist
  COMMAND ${CMAKE_COMMAND} -DBUILD=${CMAKE_BINARY_DIR}
          -DBIN=$<TARGET_FILE:octoscale-dist>
          -DSTAGE=${CMAKE_BINARY_DIR}/dist/stage
          -DREADME=${CMAKE_SOURCE_DIR}/contrib/README.dist
          -DVERSION=${PROJECT_VERSION} -DOUT=${OSC_DIST_TARBALL}
          -P ${CMAKE_SOURCE_DIR}/scripts/dist.cmake
  DEPENDS octoscale octoscale-dist
  COMMENT "Packing ${OSC_DIST_TARBALL}"
  VERBATIM)

# --- `make deb`: CPack, Depends computed by dpkg-shlibdeps ---------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME octoscale)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "octoscale maintainers <octoscale@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "keeps Octopus Deploy targets in step with Azure VM Scale Sets")
set(CPACK_PACKAGE_DESCRIPTION
    "octoscale reconciles the VMs of Azure Virtual Machine Scale Sets with the
Octopus Deploy deployment targets registered for them: it waits for
scale-outs to settle and reports the new targets, and removes the targets
of deleted VMs after a grace period, as a Lua policy decides, never on
incomplete data and within a deletion budget.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libcurl is loaded at run time (core/osc_curl.h), so dpkg-shlibdeps does
# not see it: name it. 7.80 has every function octoscale calls.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.80.0)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_BINARY_DIR}/dist)
include(CPack)

# The release tests build the packages first (a fixture), so `make` alone
# does not compile the sources twice.
add_test(NAME dist/build
         COMMAND bash -c "\"$0\" --build \"$1\" --target dist >/dev/null && cd \"$1\" && cpack -G DEB >/dev/null"
                 ${CMAKE_COMMAND} ${CMAKE_BINARY_DIR})
set_tests_properties(dist/build PROPERTIES FIXTURES_SETUP dist TIMEOUT 600
                     LABELS dist RESOURCE_LOCK build-tree)
add_test(NAME dist/tarball
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/dist/tarball.sh ${CMAKE_BINARY_DIR}
                 ${OSC_DIST_TARBALL}
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
add_test(NAME dist/deb
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/dist/deb.sh ${CMAKE_BINARY_DIR}
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(dist/tarball dist/deb PROPERTIES FIXTURES_REQUIRED dist
                     LABELS dist TIMEOUT 300 SKIP_RETURN_CODE 77)
