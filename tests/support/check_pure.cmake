# Fails when consensus/ does what STYLE.md forbids there: read a clock,
# sleep, log, print, open sockets or files, or include anything of ours
# outside consensus/. Run as: cmake -DSOURCE_DIR=<repo> -P check_pure.cmake
file(GLOB sources "${SOURCE_DIR}/consensus/*.cpp" "${SOURCE_DIR}/consensus/*.hpp")
set(forbidden
  "_clock::now"
  "time\\(nullptr\\)"
  "sleep_for"
  "sleep_until"
  "std::cout"
  "std::cerr"
  "spdlog"
  "fstream"
  "socket\\("
  "#include \"(config|daemon|probes|storage)/")
set(violations "")
foreach(source IN LISTS sources)
  file(STRINGS "${source}" lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    foreach(pattern IN LISTS forbidden)
      if(line MATCHES "${pattern}")
        string(APPEND violations "${source}:${number}: '${pattern}' in: ${line}\n")
      endif()
    endforeach()
  endforeach()
endforeach()
list(LENGTH sources count)
if(count EQUAL 0)
  message(FATAL_ERROR "no consensus sources found under ${SOURCE_DIR}")
endif()
if(violations)
  message(FATAL_ERROR "consensus/ must stay pure:\n${violations}")
endif()
message(STATUS "${count} consensus files checked: pure")
