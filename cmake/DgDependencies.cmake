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

find_package(ZLIB)
dg_require(ZLIB_FOUND "zlib" "zlib1g-dev")

find_package(Eigen3 3.3 NO_MODULE QUIET)
dg_require(Eigen3_FOUND "Eigen (CPU GEMM, linear algebra)" "libeigen3-dev")

find_package(nlohmann_json 3 QUIET)
dg_require(nlohmann_json_FOUND "nlohmann JSON" "nlohmann-json3-dev")

find_package(CLI11 QUIET)
dg_require(CLI11_FOUND "CLI11 (command-line flags)" "libcli11-dev")

find_package(doctest QUIET)
dg_require(doctest_FOUND "doctest (unit tests)" "doctest-dev")

if(PkgConfig_FOUND)
  pkg_check_modules(STB QUIET IMPORTED_TARGET stb)
endif()
dg_require(STB_FOUND "stb_image / stb_image_write" "libstb-dev pkg-config")
