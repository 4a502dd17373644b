# The LLVM backend (codegen/emit_llvm.c): LLVM 19 through its C API, and the
# runtime kernels as LLVM bitcode, one linked module per instruction set,
# compiled by clang-19 while ghostcc is built and embedded in it. Included by
# the top-level CMakeLists.txt after ghostcc_core and RUNTIME_SOURCES.
#
# Targets:
#   ghostcc_llvm            INTERFACE: LLVM's headers and libraries plus the
#                           embedded bitcode; whatever compiles emit_llvm.c
#                           links it (ghostcc_core, the fuzz build's core).
#   ghostcc_runtime_bitcode STATIC: the generated runtime_bitcode.c, data only.

# LLVM's version file compares major.minor, so "19" alone matches nothing.
find_package(LLVM 19.1 REQUIRED CONFIG)
message(STATUS "LLVM ${LLVM_PACKAGE_VERSION} from ${LLVM_DIR}")

# The bitcode must come from the same LLVM that reads it back: this LLVM's
# own clang and llvm-link, not whichever clang is first on PATH.
find_program(GHOSTCC_BITCODE_CLANG NAMES clang clang-19
             PATHS ${LLVM_TOOLS_BINARY_DIR} NO_DEFAULT_PATH REQUIRED)
find_program(GHOSTCC_LLVM_LINK NAMES llvm-link llvm-link-19
             PATHS ${LLVM_TOOLS_BINARY_DIR} NO_DEFAULT_PATH REQUIRED)

# What emit_llvm.c calls: building IR, reading and writing bitcode, the new
# pass manager, and code generation for the two architectures it targets.
set(GHOSTCC_LLVM_COMPONENTS core analysis passes target bitreader bitwriter
    X86CodeGen X86AsmParser X86Desc X86Info
    AArch64CodeGen AArch64AsmParser AArch64Desc AArch64Info)

add_library(ghostcc_llvm INTERFACE)
target_include_directories(ghostcc_llvm SYSTEM INTERFACE ${LLVM_INCLUDE_DIRS})
if(LLVM_LINK_LLVM_DYLIB)
  # Debian's LLVM is one shared library holding every component: linking it
  # takes a moment, where the static components would add ~100 MB to each
  # test executable.
  target_link_libraries(ghostcc_llvm INTERFACE LLVM)
else()
  llvm_map_components_to_libnames(GHOSTCC_LLVM_LIBS ${GHOSTCC_LLVM_COMPONENTS})
  target_link_libraries(ghostcc_llvm INTERFACE ${GHOSTCC_LLVM_LIBS})
endif()

# The instruction sets: name (codegen/emit_llvm.c looks modules up by it)
# and clang flags. The kernels stay external functions here (GHR_API is
# empty); emit_llvm.c internalises them once the model's code is in the
# module. -fPIC, not the PIE default, so the object also fits a shared
# library.
set(GHOSTCC_BITCODE_SETS x86_64 x86_64_v3 x86_64_v4 aarch64)
set(GHOSTCC_BITCODE_FLAGS_x86_64 --target=x86_64-linux-gnu -march=x86-64)
set(GHOSTCC_BITCODE_FLAGS_x86_64_v3 --target=x86_64-linux-gnu -march=x86-64-v3
    -DGHR_ISA_AVX2)
set(GHOSTCC_BITCODE_FLAGS_x86_64_v4 --target=x86_64-linux-gnu -march=x86-64-v4
    -DGHR_ISA_AVX512)
set(GHOSTCC_BITCODE_FLAGS_aarch64 --target=aarch64-linux-gnu -DGHR_ISA_NEON)
# Optimised but neither vectorised nor unrolled: that waits until LLVM sees
# the model's constant shapes (emit_llvm.c runs -O3 after specialising).
# No ident, no debug info and relative paths: the bytes depend on the
# sources alone.
set(GHOSTCC_BITCODE_COMMON_FLAGS -std=c11 -O2 -fno-vectorize -fno-slp-vectorize
    -fno-unroll-loops -fPIC -fno-ident -Wall -Wextra -Werror)

set(bitcode_sources "")
set(bitcode_headers "${CMAKE_SOURCE_DIR}/runtime/ghr.h"
                    "${CMAKE_SOURCE_DIR}/runtime/ghr_simd.h")
foreach(src IN LISTS RUNTIME_SOURCES)
  if(src MATCHES "\\.c$")
    list(APPEND bitcode_sources ${src})
  else()
    list(APPEND bitcode_headers ${CMAKE_SOURCE_DIR}/${src})
  endif()
endforeach()
file(GLOB runtime_headers ${CMAKE_SOURCE_DIR}/runtime/*.h)
list(APPEND bitcode_headers ${runtime_headers})
list(REMOVE_DUPLICATES bitcode_headers)

set(bitcode_dir ${CMAKE_BINARY_DIR}/runtime_bitcode)
set(linked_modules "")
foreach(set IN LISTS GHOSTCC_BITCODE_SETS)
  file(MAKE_DIRECTORY ${bitcode_dir}/${set})
  set(objects "")
  foreach(src IN LISTS bitcode_sources)
    get_filename_component(stem ${src} NAME_WE)
    set(bc ${bitcode_dir}/${set}/${stem}.bc)
    add_custom_command(
      OUTPUT ${bc}
      COMMAND ${GHOSTCC_BITCODE_CLANG} ${GHOSTCC_BITCODE_FLAGS_${set}}
              ${GHOSTCC_BITCODE_COMMON_FLAGS} -c -emit-llvm ${src} -o ${bc}
      WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
      DEPENDS ${CMAKE_SOURCE_DIR}/${src} ${bitcode_headers}
      COMMENT "Compiling ${src} to LLVM bitcode (${set})"
      VERBATIM)
    list(APPEND objects ${bc})
  endforeach()
  set(linked ${bitcode_dir}/${set}.bc)
  add_custom_command(
    OUTPUT ${linked}
    COMMAND ${GHOSTCC_LLVM_LINK} ${objects} -o ${linked}
    DEPENDS ${objects}
    COMMENT "Linking the runtime bitcode (${set})"
    VERBATIM)
  list(APPEND linked_modules ${linked})
endforeach()

add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/runtime_bitcode.c
  COMMAND ${CMAKE_COMMAND} -DOUTPUT=${CMAKE_BINARY_DIR}/runtime_bitcode.c
          "-DNAMES=${GHOSTCC_BITCODE_SETS}" "-DFILES=${linked_modules}"
          -P ${CMAKE_SOURCE_DIR}/cmake/embed_bitcode.cmake
  DEPENDS ${linked_modules} ${CMAKE_SOURCE_DIR}/cmake/embed_bitcode.cmake
  COMMENT "Embedding the runtime bitcode"
  VERBATIM)
add_library(ghostcc_runtime_bitcode STATIC ${CMAKE_BINARY_DIR}/runtime_bitcode.c)
target_include_directories(ghostcc_runtime_bitcode PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(ghostcc_llvm INTERFACE ghostcc_runtime_bitcode)

target_sources(ghostcc_core PRIVATE codegen/emit_llvm.c)
target_link_libraries(ghostcc_core PUBLIC ghostcc_llvm)
