# CMake toolchain file: build Windows kernel drivers on Linux, macOS or Windows with
# clang-cl and lld-link, through hvci-build's wrappers (HVCI-safe flags, and
# every linked driver checked; a failing driver does not stay in the build tree).
#   cmake -G Ninja -B build-cmake -DCMAKE_TOOLCHAIN_FILE=cmake/clang-cl-windows.cmake
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)

# hvci-build: -DHVCI_BUILD=..., $HVCI_BUILD, or the project's node_modules/.bin or PATH.
if(NOT HVCI_BUILD AND DEFINED ENV{HVCI_BUILD})
  set(HVCI_BUILD "$ENV{HVCI_BUILD}")
endif()
# On Windows npm installs hvci-build.cmd beside an `hvci-build` sh script cmd cannot run,
# and find_program tries only .com and .exe by itself: name the .cmd first.
if(CMAKE_HOST_WIN32)
  set(_hvci_build_names hvci-build.cmd hvci-build.exe)
else()
  set(_hvci_build_names hvci-build)
endif()
find_program(HVCI_BUILD NAMES ${_hvci_build_names} HINTS "${CMAKE_CURRENT_LIST_DIR}/../node_modules/.bin" REQUIRED)
# CMake's compiler checks run in sub-projects: pass the setting on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES HVCI_BUILD)
# The LLVM installer's directory on Windows, which it puts on PATH only when asked.
set(_hvci_llvm_dirs "$ENV{ProgramW6432}/LLVM/bin" "$ENV{ProgramFiles}/LLVM/bin")
find_program(CLANG_CL NAMES clang-cl clang-cl-21 clang-cl-20 clang-cl-19 PATHS ${_hvci_llvm_dirs} REQUIRED)
find_program(LLD_LINK NAMES lld-link lld-link-21 lld-link-20 lld-link-19 PATHS ${_hvci_llvm_dirs} REQUIRED)

set(CMAKE_C_COMPILER "${CLANG_CL}")
set(CMAKE_LINKER "${LLD_LINK}")
set(CMAKE_C_COMPILER_TARGET x86_64-pc-windows-msvc)
# The launchers put hvci-build in front of the real tools.
set(CMAKE_C_COMPILER_LAUNCHER "${HVCI_BUILD};launch")
set(CMAKE_C_LINKER_LAUNCHER "${HVCI_BUILD};launch")
# A driver links against nothing CMake would add by default.
set(CMAKE_C_STANDARD_LIBRARIES "" CACHE STRING "" FORCE)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# CMake links through `cmake -E vs_link_exe`, which runs a manifest tool unless
# the link makes none; drivers need no manifest, and no incremental linking.
set(CMAKE_EXE_LINKER_FLAGS_INIT "/MANIFEST:NO /INCREMENTAL:NO")
# No C runtime and no run-time checks in kernel code.
set(CMAKE_C_FLAGS_DEBUG_INIT "/Zi /Od")
set(CMAKE_MSVC_RUNTIME_LIBRARY "")
