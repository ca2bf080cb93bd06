# Every third-party dependency comes from a Debian package. A missing one stops
# configure with the package to install.
find_package(PkgConfig QUIET)

macro(dg_require found_var what debian_package)
  if(NOT ${found_var})
    message(FATAL_ERROR "dg needs ${what}: install it with `apt-get install ${debian_package}`")
  endif()
endmacro()

find_package(Threads REQUIRED)
find_package(OpenMP)
dg_require(OpenMP_CXX_FOUND "OpenMP for C++" "libgomp1 (comes with g++)")

# DG_DEPS_DIR: a folder staged by tools/gpu-stage.sh (headers, zlib headers, doctest's
# CMake scripts) for machines without Debian packages, such as an offline GPU machine.
set(DG_DEPS_DIR "" CACHE PATH "staged dependencies (tools/gpu-stage.sh) instead of Debian packages")
if(DG_DEPS_DIR)
  message(STATUS "dg: dependencies from ${DG_DEPS_DIR} (staged), not from Debian packages")
  set(_inc ${DG_DEPS_DIR}/include)
  foreach(target Eigen3::Eigen nlohmann_json::nlohmann_json CLI11::CLI11 doctest::doctest xxHash::xxhash)
    add_library(${target} INTERFACE IMPORTED)
    set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${_inc})
  endforeach()
  set(doctest_DIR ${DG_DEPS_DIR}/cmake)
  # stb: compiled here from the staged headers (Debian ships it as libstb.so).
  file(WRITE ${CMAKE_BINARY_DIR}/stb_impl.c
       "#define STB_IMAGE_IMPLEMENTATION\n#define STB_IMAGE_WRITE_IMPLEMENTATION\n"
       "#include <stb/stb_image.h>\n#include <stb/stb_image_write.h>\n")
  enable_language(C)
  add_library(dg_stb STATIC ${CMAKE_BINARY_DIR}/stb_impl.c)
  target_include_directories(dg_stb PUBLIC ${_inc})
  add_library(PkgConfig::STB ALIAS dg_stb)
  # zlib: the staged header, the system's libz.so.1 (present on any Linux).
  find_library(DG_LIBZ NAMES z libz.so.1 REQUIRED)
  add_library(ZLIB::ZLIB INTERFACE IMPORTED)
  set_target_properties(ZLIB::ZLIB PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${_inc} INTERFACE_LINK_LIBRARIES ${DG_LIBZ})
  return()
endif()

find_package(ZLIB)
dg_require(ZLIB_FOUND "zlib" "zlib1g-dev")

find_package(Eigen3 3.3 NO_MODULE QUIET)
dg_require(Eigen3_FOUND "Eigen (CPU GEMM, linear algebra)" "libeigen3-dev")

find_package(nlohmann_json 3 QUIET)
dg_require(nlohmann_json_FOUND "nlohmann JSON" "nlohmann-json3-dev")

# xxHash, used header-only (engine/safetensors.cpp): the checksums of the files dg writes.
find_path(DG_XXHASH_INCLUDE_DIR xxhash.h)
dg_require(DG_XXHASH_INCLUDE_DIR "xxHash (checksums of checkpoints)" "libxxhash-dev")
add_library(xxHash::xxhash INTERFACE IMPORTED)
set_target_properties(xxHash::xxhash PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${DG_XXHASH_INCLUDE_DIR})

find_package(CLI11 QUIET)
dg_require(CLI11_FOUND "CLI11 (command-line flags)" "libcli11-dev")

find_package(doctest QUIET)
dg_require(doctest_FOUND "doctest (unit tests)" "doctest-dev")

if(PkgConfig_FOUND)
  pkg_check_modules(STB QUIET IMPORTED_TARGET stb)
endif()
dg_require(STB_FOUND "stb_image / stb_image_write" "libstb-dev pkg-config")
