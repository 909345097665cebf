# ATTNSCOPE_SANITIZE and ATTNSCOPE_FUZZ (docs/hardening.md). Both instrument every target,
# since a bug found in a test is usually in the library beneath it.
if(ATTNSCOPE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ATTNSCOPE_FUZZ=ON needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
            "-DCMAKE_C_COMPILER=clang")
  endif()
  if(NOT ATTNSCOPE_SANITIZE)
    set(ATTNSCOPE_SANITIZE address,undefined)
  endif()
  # Coverage for the fuzzer in every object; only the fuzz executables link libFuzzer's main.
  add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=fuzzer-no-link>)
  add_compile_definitions(ATTNSCOPE_FUZZING=1)
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
