# Build options. GUI and CUDA are detected by default ("AUTO"); ON makes a missing
# dependency an error, OFF skips the part.
set(ATTNSCOPE_GUI AUTO CACHE STRING "Build the Qt desktop app (AUTO, ON, OFF)")
set_property(CACHE ATTNSCOPE_GUI PROPERTY STRINGS AUTO ON OFF)
set(ATTNSCOPE_CUDA AUTO CACHE STRING "Build the CUDA backend (AUTO, ON, OFF)")
set_property(CACHE ATTNSCOPE_CUDA PROPERTY STRINGS AUTO ON OFF)
option(ATTNSCOPE_BUILD_TESTS "Build the Catch2 tests" ON)
option(ATTNSCOPE_BUILD_BENCHMARKS "Build the benchmark programs" ON)
option(ATTNSCOPE_WERROR "Treat warnings as errors (CI turns this on)" OFF)
# Extra include/library prefix for machines where -dev packages were unpacked by hand
# (the GPU machine: dpkg -x into /tmp/sys).
set(ATTNSCOPE_SYSROOT_PREFIX "" CACHE PATH "Extra prefix holding unpacked -dev packages")
# Sanitizers for every target, e.g. "address,undefined" (CI's second build; docs/hardening.md).
set(ATTNSCOPE_SANITIZE "" CACHE STRING "Sanitizers for every target (-fsanitize=...), e.g. address,undefined")
# libFuzzer targets of the parsers of untrusted files (fuzz/); clang only.
option(ATTNSCOPE_FUZZ "Build the libFuzzer targets in fuzz/ (clang)" OFF)
# Two ways to build the tests faster that CI uses (docs/hardening.md, "CI time"). Flags for
# the tests' own code (tests/, the fuzz seed replays), after the build type's: CI gives -O0
# (half the compile time) while the engine, programs and plugins under test keep theirs.
set(ATTNSCOPE_TEST_CODE_FLAGS "" CACHE STRING "Extra compile flags for the tests' own code, e.g. -O0")
# Precompiled Catch2 and JSON headers for the test executables, with the -O0 above (see
# cmake/AttnscopePrecompiledHeaders.cmake). Off by default, so that a developer's build
# still checks that each test includes what it uses.
option(ATTNSCOPE_PCH "Precompile the test executables' common headers" OFF)
