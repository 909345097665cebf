# Precompiled headers of the test executables, with ATTNSCOPE_PCH only (CI, together with
# ATTNSCOPE_TEST_CODE_FLAGS=-O0). GCC takes a precompiled header only into a compilation
# with the same -f, -O and -m options, so the Catch2 test executables share one (they are
# built alike; REUSE_FROM makes them wait for the one holding it) and the Qt ones another.
# Never on a target whose sources configure Catch before including it (catch_main.cpp,
# gui_test_main.cpp). Not on optimised code: at -O3 GCC 12's flow warnings (array-bounds)
# depend on the order declarations arrive in, and a precompiled header changed them once.
set(ATTNSCOPE_PCH_TEST_HEADERS <catch2/catch.hpp> <nlohmann/json.hpp>)
set(ATTNSCOPE_PCH_QT_TEST_HEADERS ${ATTNSCOPE_PCH_TEST_HEADERS} <QWidget> <QLabel> <QVBoxLayout> <QHBoxLayout>
    <QPushButton> <QComboBox> <QString> <QSignalSpy>)

# A Catch2 test executable: `kind` is TEST (the engine's tests) or QT_TEST (tests/gui). The
# first target of a kind holds the header, the others reuse it.
function(attnscope_test_pch target kind)
  if(NOT ATTNSCOPE_PCH)
    return()
  endif()
  get_property(holder GLOBAL PROPERTY ATTNSCOPE_PCH_HOLDER_${kind})
  if(holder)
    target_precompile_headers(${target} REUSE_FROM ${holder})
  else()
    target_precompile_headers(${target} PRIVATE ${ATTNSCOPE_PCH_${kind}_HEADERS})
    set_property(GLOBAL PROPERTY ATTNSCOPE_PCH_HOLDER_${kind} ${target})
  endif()
endfunction()
