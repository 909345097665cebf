# ATTNSCOPE_SANITIZE and ATTNSCOPE_FUZZ (docs/hardening.md). The sanitizers instrument
# every target, since a bug found in a test is usually in the library beneath it.
if(ATTNSCOPE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ATTNSCOPE_FUZZ=ON needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
            "-DCMAKE_C_COMPILER=clang")
  endif()
  if(NOT ATTNSCOPE_SANITIZE)
    set(ATTNSCOPE_SANITIZE address,undefined)
  endif()
  # Coverage for the fuzzer only in the code that reads what a user downloads or is sent
  # (attnscope_fuzz_coverage below) and in the fuzz targets; only the fuzz executables
  # link libFuzzer's main.
endif()

if(ATTNSCOPE_SANITIZE)
  if(ATTNSCOPE_CUDA_ENABLED)
    message(FATAL_ERROR "ATTNSCOPE_SANITIZE is for host code: configure with -DATTNSCOPE_CUDA=OFF")
  endif()
  # -fno-sanitize-recover: undefined behaviour fails the test instead of printing and going on.
  add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=${ATTNSCOPE_SANITIZE}>
                      $<$<COMPILE_LANGUAGE:C,CXX>:-fno-sanitize-recover=all>
                      $<$<COMPILE_LANGUAGE:C,CXX>:-fno-omit-frame-pointer>)
  add_link_options(-fsanitize=${ATTNSCOPE_SANITIZE} -fno-sanitize-recover=all)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # The instrumentation keeps clang from vectorising `omp simd` loops; that is expected here.
    add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-Wno-pass-failed>)
  endif()
endif()

# The parsers the fuzz targets drive get the fuzzer's coverage (edge counters and
# comparison tracing); the rest of the engine does not. The same build runs the sanitizer
# tests (scripts/sanitize.sh), and with coverage in every object its numeric loops (the
# CPU forward, the capture, the profile metrics) made unit.profile and unit.plugins 7x
# slower and more. Called from the top-level CMakeLists.txt once the targets exist.
function(attnscope_fuzz_coverage)
  if(NOT ATTNSCOPE_FUZZ)
    return()
  endif()
  set(root ${PROJECT_SOURCE_DIR})
  file(GLOB parsers CONFIGURE_DEPENDS
       ${root}/analysis/io/*.cpp ${root}/analysis/model/*.cpp ${root}/analysis/model/*/*.cpp
       ${root}/analysis/tokenizer/*.cpp ${root}/analysis/export/*.cpp)
  list(APPEND parsers ${root}/analysis/capture/capture_file_reader.cpp ${root}/analysis/capture/head_summary.cpp
       ${root}/analysis/masks/mask_plan.cpp ${root}/analysis/tasks/needle_file.cpp
       ${root}/analysis/runtime/rope_table.cpp)
  set_property(SOURCE ${parsers} TARGET_DIRECTORY attnscope_analysis APPEND PROPERTY COMPILE_OPTIONS
               -fsanitize=fuzzer-no-link)
  set_property(SOURCE ${root}/plugins/host/job_parameters.cpp ${root}/plugins/host/plugin_info.cpp
               TARGET_DIRECTORY attnscope_plugin_host APPEND PROPERTY COMPILE_OPTIONS -fsanitize=fuzzer-no-link)
  set_property(SOURCE ${root}/kernels/guarded_read.cpp TARGET_DIRECTORY attnscope_kernels APPEND PROPERTY
               COMPILE_OPTIONS -fsanitize=fuzzer-no-link)
endfunction()
