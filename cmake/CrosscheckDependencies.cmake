# Every dependency comes from a Debian 12 package (scripts/install-deps.sh).
find_package(Boost 1.81.0 EXACT CONFIG REQUIRED COMPONENTS json url program_options)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LDNS REQUIRED IMPORTED_TARGET ldns)
if(CROSSCHECK_BUILD_TESTS)
  find_package(Catch2 2.13 REQUIRED)
endif()
