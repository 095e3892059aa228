# The layering check: each folder is one library, and an include may only
# point down this list (a folder may include itself and what it lists).
# Fails naming the file, the line and the arrow that points the wrong way.
# Run as: cmake -DSOURCE_DIR=<repo> -P check_layers.cmake
#
#   base       vocabulary (Expected): nothing of ours; every folder may use it
#   consensus  the pure engine: nothing of ours but base
#   json       the JSON text writer, JSON mappings of consensus types -> consensus
#   config     -> consensus
#   net        -> config consensus
#   probes     -> net config consensus
#   storage    -> consensus config json
#   lab        -> probes net config consensus
#   escalation -> net config consensus json
#   snapshot   -> escalation probes net config consensus json
#   peers      -> snapshot escalation probes net config consensus json
#   api        -> peers snapshot escalation storage probes net config consensus json
#                 (storage: its health types, for /healthz and /metrics)
#   daemon     -> api peers snapshot escalation storage probes net config consensus json
#   cli        -> daemon lab api peers snapshot escalation storage probes net config consensus json
#                 (main.cpp, the crosscheck executable, is in cli/)
set(allowed_consensus "")
set(allowed_json consensus)
set(allowed_config consensus)
set(allowed_net config consensus)
set(allowed_probes net config consensus)
set(allowed_storage consensus config json)
set(allowed_lab probes net config consensus)
set(allowed_escalation net config consensus json)
set(allowed_snapshot escalation probes net config consensus json)
set(allowed_peers snapshot escalation probes net config consensus json)
set(allowed_api peers snapshot escalation storage probes net config consensus json)
set(allowed_daemon api peers snapshot escalation storage probes net config consensus json)
set(allowed_cli daemon lab api peers snapshot escalation storage probes net config consensus json)
set(allowed_base "")
set(layers base consensus json config net probes storage lab escalation snapshot peers api daemon cli)

set(violations "")
set(checked 0)
foreach(layer IN LISTS layers)
  file(GLOB sources "${SOURCE_DIR}/${layer}/*.cpp" "${SOURCE_DIR}/${layer}/*.hpp")
  if(NOT sources)
    message(FATAL_ERROR "no sources found in ${SOURCE_DIR}/${layer}")
  endif()
  foreach(source IN LISTS sources)
    math(EXPR checked "${checked} + 1")
    file(STRINGS "${source}" lines REGEX "^#include \"[a-z_]+/")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" target "${line}")
      if(target STREQUAL layer OR target STREQUAL "base")
        continue()
      endif()
      list(FIND allowed_${layer} "${target}" found)
      list(FIND layers "${target}" known)
      if(found EQUAL -1 OR known EQUAL -1)
        string(APPEND violations "${source}: ${layer} -> ${target}: ${line}\n")
      endif()
    endforeach()
  endforeach()
endforeach()
if(violations)
  message(FATAL_ERROR "includes that point the wrong way:\n${violations}")
endif()
message(STATUS "${checked} files checked: every include points down the layers")
