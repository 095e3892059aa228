# crosscheck_settings: language standard, sanitizers, debug assertions.
# crosscheck_warnings: the warning set (errors unless CROSSCHECK_WERROR=OFF).
add_library(crosscheck_settings INTERFACE)
target_compile_features(crosscheck_settings INTERFACE cxx_std_20)
set(CMAKE_CXX_EXTENSIONS OFF)
target_compile_definitions(crosscheck_settings INTERFACE
  $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)

if(CROSSCHECK_SANITIZE)
  target_compile_options(crosscheck_settings INTERFACE
    -fsanitize=${CROSSCHECK_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(crosscheck_settings INTERFACE -fsanitize=${CROSSCHECK_SANITIZE})
endif()

# Debian's hardening (what `DEB_BUILD_MAINT_OPTIONS=hardening=+all
# dpkg-buildflags` gives): full RELRO and bind-now for every non-sanitized
# link, and the stack protector, format checks and _FORTIFY_SOURCE for the
# optimised builds (fortify needs optimisation; the Debug dev build keeps
# -O0 for debugging and _GLIBCXX_ASSERTIONS instead).
if(NOT CROSSCHECK_SANITIZE)
  set(crosscheck_optimised "$<CONFIG:Release,RelWithDebInfo,MinSizeRel>")
  target_compile_options(crosscheck_settings INTERFACE
    $<${crosscheck_optimised}:-fstack-protector-strong -Wformat -Werror=format-security>)
  target_compile_definitions(crosscheck_settings INTERFACE
    $<${crosscheck_optimised}:_FORTIFY_SOURCE=2>)
  target_link_options(crosscheck_settings INTERFACE LINKER:-z,relro LINKER:-z,now)
endif()

add_library(crosscheck_warnings INTERFACE)
target_compile_options(crosscheck_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
  $<$<BOOL:${CROSSCHECK_WERROR}>:-Werror>)
# GCC 12 reports false -Wmaybe-uninitialized inside libstdc++ (std::regex,
# std::function) when optimising with sanitizers on; the dev build keeps it.
if(CROSSCHECK_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(crosscheck_warnings INTERFACE -Wno-maybe-uninitialized)
endif()
