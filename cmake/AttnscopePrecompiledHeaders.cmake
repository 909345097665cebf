# Precompiled headers, with ATTNSCOPE_PCH only. GCC takes a precompiled header only into a
# compilation with the same -f, -O and -m options, so the Catch2 test executables share one
# (they are built alike; REUSE_FROM makes them wait for the one holding it), the Qt test
# executables another, and each Qt library has its own. Never on a target whose sources
# configure Catch before including it (catch_main.cpp, gui_test_main.cpp).
set(ATTNSCOPE_PCH_TEST_HEADERS <catch2/catch.hpp> <nlohmann/json.hpp>)
set(ATTNSCOPE_PCH_QT_HEADERS <QWidget> <QLabel> <QVBoxLayout> <QHBoxLayout> <QPushButton> <QComboBox> <QString>)

# A Catch2 test executable. The first one given holds the header, the others reuse it.
function(attnscope_test_pch target)
  if(NOT ATTNSCOPE_PCH)
    return()
  endif()
  get_property(holder GLOBAL PROPERTY ATTNSCOPE_TEST_PCH_HOLDER)
  if(holder)
    target_precompile_headers(${target} REUSE_FROM ${holder})
  else()
    target_precompile_headers(${target} PRIVATE ${ATTNSCOPE_PCH_TEST_HEADERS})
    set_property(GLOBAL PROPERTY ATTNSCOPE_TEST_PCH_HOLDER ${target})
  endif()
endfunction()

# A Qt target; REUSE_FROM another Qt target built with the same options, or extra headers.
function(attnscope_qt_pch target)
  cmake_parse_arguments(ARG "" "REUSE_FROM" "HEADERS" ${ARGN})
  if(NOT ATTNSCOPE_PCH)
    return()
  endif()
  if(ARG_REUSE_FROM)
    target_precompile_headers(${target} REUSE_FROM ${ARG_REUSE_FROM})
  else()
    target_precompile_headers(${target} PRIVATE ${ATTNSCOPE_PCH_QT_HEADERS} ${ARG_HEADERS})
  endif()
endfunction()
