# ghostcc_add_model: compile a YAML network spec with ghostcc at build time
# and wrap the generated code in a static library target.
#
#   ghostcc_add_model(<target> <spec>
#                     [NAME <name>] [WIDTH <w>] [RESOLUTION <r>]
#                     [WEIGHTS <file.safetensors>] [EMIT c|obj]
#                     [OPTIONS <ghostcc args>...])
#
# Runs ghostcc::ghostcc (the host executable from find_package(ghostcc), also
# in a cross build) into ${CMAKE_CURRENT_BINARY_DIR}/<target>/, which then
# holds <id>.h, <id>.c and <id>_weights.c (EMIT c, the default) or <id>.h and
# the LLVM backend's object <id>.o (EMIT obj; in a cross build, OPTIONS
# --target <triple> names the cross compiler's machine), where <id> is NAME
# (default: <target>) made a C identifier the way ghostcc does it: a plain
# name (a lower-case letter, then lower-case letters, digits and single '_',
# not ending in '_') is kept; any other becomes its letters and digits in
# lower case with '_' between the runs, "__" and 8 hex digits of a hash of
# the name (a target my-model gets my_model__<hash>), so names that differ
# only in case or punctuation get different identifiers. The C API is <id>_run,
# <ID>_INPUT_SIZE, ...; two models linked into one program need different
# NAMEs.
#
# <spec> and WEIGHTS are relative to CMAKE_CURRENT_SOURCE_DIR. The files are
# generated again when the spec, the weights, the ghostcc executable or the
# arguments change. Without WEIGHTS, OPTIONS must hold --random-weights SEED.
#
# <target> links libm and has the generated directory as PUBLIC include
# directory. The target properties GHOSTCC_NAME and GHOSTCC_OUTPUT_DIR hold
# <id> and the generated directory.

if(CMAKE_VERSION VERSION_LESS 3.18)
  message(FATAL_ERROR "ghostcc_add_model needs CMake 3.18 or newer")
endif()

# ghostcc's c_identifier() (codegen/text.c), which says why: <name> as the
# file names and C prefix of its generated code, into <out_var>.
function(_ghostcc_identifier name out_var)
  if(name MATCHES "^[a-z][a-z0-9_]*$" AND NOT name MATCHES "__|_$")
    set(${out_var} "${name}" PARENT_SCOPE)
    return()
  endif()
  # Byte by byte: the stem (letters lower-cased without the locale, digits,
  # one '_' for each run of anything else) and the 64-bit FNV-1a hash in
  # 32-bit halves, as math() has only signed 64-bit integers. The prime is
  # 2^40 + 435.
  set(stem "")
  set(hi 3421674724)  # 0xcbf29ce4
  set(lo 2216829733)  # 0x84222325
  string(HEX "${name}" hex)
  string(LENGTH "${hex}" n)
  set(i 0)
  while(i LESS n)
    string(SUBSTRING "${hex}" ${i} 2 byte)
    math(EXPR i "${i} + 2")
    math(EXPR b "0x${byte}")
    math(EXPR lo "${lo} ^ ${b}")
    # h * (2^40 + 435) mod 2^64: lo * 2^40 lands in hi as lo << 8.
    math(EXPR low_product "${lo} * 435")
    math(EXPR hi
      "(${hi} * 435 + (${low_product} >> 32) + (${lo} << 8)) & 0xffffffff")
    math(EXPR lo "${low_product} & 0xffffffff")
    if(b GREATER_EQUAL 65 AND b LESS_EQUAL 90)
      math(EXPR b "${b} + 32")
    endif()
    if((b GREATER_EQUAL 97 AND b LESS_EQUAL 122) OR
       (b GREATER_EQUAL 48 AND b LESS_EQUAL 57))
      if(stem STREQUAL "" AND b LESS_EQUAL 57)
        set(stem "m")
      endif()
      string(ASCII ${b} c)
      string(APPEND stem "${c}")
    elseif(NOT stem STREQUAL "" AND NOT stem MATCHES "_$")
      string(APPEND stem "_")
    endif()
  endwhile()
  string(REGEX REPLACE "_$" "" stem "${stem}")
  if(stem STREQUAL "")
    set(stem "m")
  endif()
  # The top half as 8 hex digits, leading zeros kept by the extra 1.
  math(EXPR hash "${hi} | 0x100000000" OUTPUT_FORMAT HEXADECIMAL)
  string(SUBSTRING "${hash}" 3 8 hash)
  set(${out_var} "${stem}__${hash}" PARENT_SCOPE)
endfunction()

function(ghostcc_add_model target spec)
  set(fn "ghostcc_add_model(${target})")
  cmake_parse_arguments(PARSE_ARGV 2 ARG ""
    "NAME;WIDTH;RESOLUTION;WEIGHTS;EMIT" "OPTIONS")
  if(ARG_UNPARSED_ARGUMENTS)
    list(JOIN ARG_UNPARSED_ARGUMENTS " " unexpected)
    message(FATAL_ERROR "${fn}: unexpected arguments: ${unexpected} "
      "(expected NAME, WIDTH, RESOLUTION, WEIGHTS, EMIT or OPTIONS)")
  endif()
  foreach(kw IN LISTS ARG_KEYWORDS_MISSING_VALUES)
    message(FATAL_ERROR "${fn}: ${kw} needs a value")
  endforeach()
  if(TARGET "${target}")
    message(FATAL_ERROR "${fn}: a target named '${target}' already exists")
  endif()
  if(NOT TARGET ghostcc::ghostcc)
    message(FATAL_ERROR "${fn}: ghostcc::ghostcc is not defined here; call "
      "find_package(ghostcc REQUIRED) in this directory or a parent")
  endif()
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if(NOT "C" IN_LIST languages)
    message(FATAL_ERROR "${fn}: the generated code is C; enable the C "
      "language (project(... LANGUAGES C) or enable_language(C))")
  endif()

  # Options given by keyword, not in OPTIONS: they decide the outputs and
  # what the command depends on.
  set(random FALSE)
  foreach(opt IN LISTS ARG_OPTIONS)
    if(opt MATCHES "^-o")
      message(FATAL_ERROR "${fn}: '-o' in OPTIONS: the output directory is "
        "always ${CMAKE_CURRENT_BINARY_DIR}/${target}")
    elseif(opt MATCHES "^--(name|weights|width|resolution|emit)(=.*)?$")
      string(TOUPPER "${CMAKE_MATCH_1}" keyword)
      message(FATAL_ERROR "${fn}: '--${CMAKE_MATCH_1}' in OPTIONS: use "
        "${keyword} instead")
    elseif(opt MATCHES "^--random-weights(=.*)?$")
      set(random TRUE)
    endif()
  endforeach()
  if(NOT DEFINED ARG_WEIGHTS AND NOT random)
    message(FATAL_ERROR "${fn}: no weights: neither WEIGHTS <file> nor "
      "OPTIONS --random-weights <seed> is given")
  endif()
  if(DEFINED ARG_WEIGHTS AND random)
    message(FATAL_ERROR "${fn}: WEIGHTS and OPTIONS --random-weights "
      "exclude each other")
  endif()

  # Inputs, relative to the current source directory. A missing one must be
  # generated by a custom command.
  get_filename_component(spec_path "${spec}" ABSOLUTE
    BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  set(inputs "${spec_path}")
  set(args "${spec_path}")
  if(DEFINED ARG_WEIGHTS)
    get_filename_component(weights_path "${ARG_WEIGHTS}" ABSOLUTE
      BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND inputs "${weights_path}")
    list(APPEND args --weights "${weights_path}")
  endif()
  foreach(input IN LISTS inputs)
    get_source_file_property(generated "${input}" GENERATED)
    if(NOT EXISTS "${input}" AND NOT generated)
      message(FATAL_ERROR "${fn}: no such file: ${input}")
    endif()
  endforeach()

  if(NOT DEFINED ARG_NAME)
    set(ARG_NAME "${target}")
  endif()
  if(ARG_NAME STREQUAL "")
    message(FATAL_ERROR "${fn}: NAME is empty")
  endif()
  _ghostcc_identifier("${ARG_NAME}" id)
  list(APPEND args --name "${ARG_NAME}")
  if(DEFINED ARG_WIDTH)
    list(APPEND args --width "${ARG_WIDTH}")
  endif()
  if(DEFINED ARG_RESOLUTION)
    list(APPEND args --resolution "${ARG_RESOLUTION}")
  endif()
  list(APPEND args ${ARG_OPTIONS})

  if(NOT DEFINED ARG_EMIT)
    set(ARG_EMIT c)
  endif()
  if(NOT ARG_EMIT MATCHES "^(c|obj)$")
    message(FATAL_ERROR "${fn}: EMIT ${ARG_EMIT}: expected c or obj")
  endif()

  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/${target}")
  if(ARG_EMIT STREQUAL "obj")
    list(APPEND args --emit obj)
    set(outputs "${out_dir}/${id}.h" "${out_dir}/${id}.o")
  else()
    set(outputs "${out_dir}/${id}.h" "${out_dir}/${id}.c"
                "${out_dir}/${id}_weights.c")
  endif()

  # The command line as a file that changes only when the arguments do, so
  # that a new WIDTH (say) regenerates with every generator, not only Ninja.
  get_target_property(exe ghostcc::ghostcc IMPORTED_LOCATION)
  set(stamp "${CMAKE_CURRENT_BINARY_DIR}/${target}.ghostcc-args")
  string(REPLACE ";" "\n" stamp_text "${exe};${args}")
  file(CONFIGURE OUTPUT "${stamp}" CONTENT "${stamp_text}\n" @ONLY)

  # ghostcc is a host program, run by path: $<TARGET_FILE:...> as argv[0]
  # never gets a CMAKE_CROSSCOMPILING_EMULATOR prepended in a cross build.
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND "$<TARGET_FILE:ghostcc::ghostcc>" ${args} -o "${out_dir}"
    DEPENDS ${inputs} "$<TARGET_FILE:ghostcc::ghostcc>" "${stamp}"
    COMMENT "ghostcc: generating ${target} (${id}) from ${spec}"
    VERBATIM)

  add_library(${target} STATIC ${outputs})
  # An object alone leaves CMake nothing to infer the archive's language from.
  set_target_properties(${target} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${target} PUBLIC "$<BUILD_INTERFACE:${out_dir}>")
  target_compile_features(${target} PRIVATE c_std_11)
  if(NOT MSVC)
    target_link_libraries(${target} PUBLIC m)
  endif()
  set_target_properties(${target} PROPERTIES
    GHOSTCC_NAME "${id}"
    GHOSTCC_OUTPUT_DIR "${out_dir}")
endfunction()
