# Writes OUTPUT: a C file holding every runtime source as a string, so
# ghostcc carries the kernels it pastes into generated code.
# Usage: cmake -DOUTPUT=file.c -DSOURCES="a;b;c" -P embed_runtime.cmake
set(body "// Generated from runtime/ at build time; do not edit.\n#include \"codegen/codegen.h\"\n\nconst RuntimeFile runtime_files[] = {\n")
set(count 0)
foreach(src IN LISTS SOURCES)
  file(READ "${src}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
  get_filename_component(name "${src}" NAME)
  string(APPEND body "  {\"${name}\", \"${escaped}\"},\n")
  math(EXPR count "${count} + 1")
endforeach()
string(APPEND body "};\nconst int n_runtime_files = ${count};\n")
file(WRITE "${OUTPUT}.tmp" "${body}")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
