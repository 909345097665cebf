# Finds what the build needs. Everything comes from Debian packages (and CUDA);
# ATTNSCOPE_SYSROOT_PREFIX adds a folder where -dev packages were unpacked by hand.
include(CheckLanguage)
find_package(PkgConfig QUIET)
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)

set(_attnscope_inc_hints "")
set(_attnscope_lib_hints "")
if(ATTNSCOPE_SYSROOT_PREFIX)
  list(APPEND _attnscope_inc_hints ${ATTNSCOPE_SYSROOT_PREFIX}/usr/include
       ${ATTNSCOPE_SYSROOT_PREFIX}/usr/include/x86_64-linux-gnu)
  list(APPEND _attnscope_lib_hints ${ATTNSCOPE_SYSROOT_PREFIX}/usr/lib/x86_64-linux-gnu)
endif()

# A library found by header + shared object; the object may be a bare runtime
# .so.N where no -dev symlink exists.
function(attnscope_import_library target header header_suffixes)
  cmake_parse_arguments(ARG "" "" "NAMES;LIB_SUFFIXES" ${ARGN})
  find_path(${target}_INCLUDE ${header} HINTS ${_attnscope_inc_hints}
            PATH_SUFFIXES ${header_suffixes})
  find_library(${target}_LIBRARY NAMES ${ARG_NAMES} HINTS ${_attnscope_lib_hints}
               PATH_SUFFIXES ${ARG_LIB_SUFFIXES})
  if(NOT ${target}_INCLUDE OR NOT ${target}_LIBRARY)
    message(FATAL_ERROR "AttnScope needs ${header} and one of ${ARG_NAMES} "
            "(run scripts/setup.sh to install the Debian packages)")
  endif()
  add_library(attnscope::${target} UNKNOWN IMPORTED GLOBAL)
  set_target_properties(attnscope::${target} PROPERTIES
    IMPORTED_LOCATION ${${target}_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${${target}_INCLUDE})
endfunction()

attnscope_import_library(pcre2 pcre2.h "" NAMES pcre2-8 libpcre2-8.so.0)
attnscope_import_library(blas cblas.h "openblas-openmp;x86_64-linux-gnu/openblas-openmp;openblas-pthread;x86_64-linux-gnu/openblas-pthread"
  NAMES openblas libopenblas.so.0 LIB_SUFFIXES openblas-openmp openblas-pthread)
attnscope_import_library(sqlite3 sqlite3.h "" NAMES sqlite3 libsqlite3.so.0)

# The sysroot's copy first: a machine with its own nlohmann-json (another version, so
# another ABI namespace) would otherwise give the library one copy through a private
# sysroot include and its users the other, and their json arguments would not link.
set(_attnscope_json_hints "")
if(ATTNSCOPE_SYSROOT_PREFIX)
  set(_attnscope_json_hints HINTS ${ATTNSCOPE_SYSROOT_PREFIX}/usr)
endif()
find_package(nlohmann_json 3.10 QUIET ${_attnscope_json_hints})
if(NOT TARGET nlohmann_json::nlohmann_json)
  find_path(NLOHMANN_JSON_INCLUDE nlohmann/json.hpp HINTS ${_attnscope_inc_hints} REQUIRED)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED GLOBAL)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${NLOHMANN_JSON_INCLUDE})
endif()

if(ATTNSCOPE_BUILD_TESTS)
  # Debian 12 ships Catch2 v2 (single header).
  find_path(CATCH2_INCLUDE catch2/catch.hpp HINTS ${_attnscope_inc_hints})
  if(NOT CATCH2_INCLUDE)
    message(FATAL_ERROR "Tests need Catch2 (Debian package catch2) or -DATTNSCOPE_BUILD_TESTS=OFF")
  endif()
  add_library(attnscope::catch2 INTERFACE IMPORTED GLOBAL)
  set_target_properties(attnscope::catch2 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${CATCH2_INCLUDE})
endif()

# CUDA: detected unless switched off.
set(ATTNSCOPE_CUDA_ENABLED OFF)
if(NOT ATTNSCOPE_CUDA STREQUAL "OFF")
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(ATTNSCOPE_CUDA_ENABLED ON)
  elseif(ATTNSCOPE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "ATTNSCOPE_CUDA=ON but no CUDA compiler was found")
  endif()
endif()

# GUI: Qt 6 Widgets + OpenGL, QtCharts (the mask lab's curves), QtSvg (views exported as
# SVG) and Dear ImGui. Debian's libimgui-dev is a static library with the OpenGL 3
# renderer backend inside; its font code calls libstb.
set(ATTNSCOPE_GUI_ENABLED OFF)
if(NOT ATTNSCOPE_GUI STREQUAL "OFF")
  find_package(Qt6 QUIET COMPONENTS Widgets OpenGL OpenGLWidgets Charts Svg)
  find_path(IMGUI_INCLUDE imgui.h HINTS ${_attnscope_inc_hints} PATH_SUFFIXES imgui)
  find_library(IMGUI_LIBRARY NAMES imgui HINTS ${_attnscope_lib_hints})
  find_library(STB_LIBRARY NAMES stb libstb.so.0 HINTS ${_attnscope_lib_hints})
  if(Qt6_FOUND AND IMGUI_INCLUDE AND IMGUI_LIBRARY AND STB_LIBRARY
     AND EXISTS ${IMGUI_INCLUDE}/backends/imgui_impl_opengl3.h)
    set(ATTNSCOPE_GUI_ENABLED ON)
    add_library(attnscope::imgui UNKNOWN IMPORTED GLOBAL)
    set_target_properties(attnscope::imgui PROPERTIES
      IMPORTED_LOCATION ${IMGUI_LIBRARY}
      INTERFACE_INCLUDE_DIRECTORIES ${IMGUI_INCLUDE}
      INTERFACE_LINK_LIBRARIES "${STB_LIBRARY};${CMAKE_DL_LIBS}")
    # Optional: QtTest drives the GUI tests.
    find_package(Qt6 QUIET COMPONENTS Test)
  elseif(ATTNSCOPE_GUI STREQUAL "ON")
    message(FATAL_ERROR "ATTNSCOPE_GUI=ON but Qt 6 (qt6-base-dev, qt6-charts-dev, qt6-svg-dev) or Dear ImGui "
            "with its OpenGL 3 backend (libimgui-dev, libstb-dev) was not found (run scripts/setup.sh)")
  else()
    message(STATUS "AttnScope: no desktop app (needs qt6-base-dev, qt6-charts-dev, qt6-svg-dev, libimgui-dev, "
            "libstb-dev)")
  endif()
endif()
