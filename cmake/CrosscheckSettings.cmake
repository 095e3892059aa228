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
