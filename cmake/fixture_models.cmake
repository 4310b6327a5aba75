# The model fixtures, complete in one build-tree directory, VKLLM_MODELS_DIR: the GGUFs committed
# in tests/fixtures/models are copied there at configure time, and every file listed in
# tests/fixtures/models/derived.sha256 is made there at build time from tracked files:
#   NAME-MIX.gguf  `vkllm quantize NAME-f16.gguf --type MIX` (MIX: q8_0 q4_0 q4_k_m q5_k_m)
#   NAME.gguf      extracted from NAME.gguf.tar.xz
# and must match its sha256 there, or the build fails naming the file. The quantized ones were
# made by llama.cpp's llama-quantize, so the check pins `vkllm quantize` to its exact bytes.
# Keeping them out of git keeps the tracked tree small. Tests and scripts/run-main.sh read the
# models from here only; the source tree is never written.

set(VKLLM_MODELS_DIR ${CMAKE_BINARY_DIR}/fixtures/models)
set(fixture_src ${PROJECT_SOURCE_DIR}/tests/fixtures/models)
set(fixture_sums ${fixture_src}/derived.sha256)
set(fixture_verify ${PROJECT_SOURCE_DIR}/cmake/verify_fixture.cmake)
set(fixture_staging ${VKLLM_MODELS_DIR}/.staging)
file(MAKE_DIRECTORY ${fixture_staging})

set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${fixture_sums})
file(STRINGS ${fixture_sums} fixture_lines REGEX "^[^#]")
set(derived_names)
set(derived_models)
foreach(line ${fixture_lines})
    if(NOT line MATCHES "^([0-9a-f]+)  ([A-Za-z0-9_.-]+)$")
        message(FATAL_ERROR "${fixture_sums}: bad line '${line}' (expected '<sha256>  <file>')")
    endif()
    set(sha ${CMAKE_MATCH_1})
    set(name ${CMAKE_MATCH_2})
    set(output ${VKLLM_MODELS_DIR}/${name})
    set(verify ${CMAKE_COMMAND} -DFILE=${fixture_staging}/${name} -DOUTPUT=${output}
        -DEXPECTED=${sha} -DSUMS=${fixture_sums} -P ${fixture_verify})
    set(mix "")
    if(name MATCHES "^(.+)-(q8_0|q4_0|q4_k_m|q5_k_m)\\.gguf$")
        set(source ${fixture_src}/${CMAKE_MATCH_1}-f16.gguf)
        set(mix ${CMAKE_MATCH_2})
    endif()
    if(EXISTS ${fixture_src}/${name}.tar.xz)
        add_custom_command(OUTPUT ${output}
            COMMAND ${CMAKE_COMMAND} -E tar xf ${fixture_src}/${name}.tar.xz
            COMMAND ${verify}
            WORKING_DIRECTORY ${fixture_staging}
            DEPENDS ${fixture_src}/${name}.tar.xz ${fixture_sums} ${fixture_verify}
            COMMENT "Extracting fixture ${name}" VERBATIM)
    elseif(mix AND EXISTS ${source})
        add_custom_command(OUTPUT ${output}
            COMMAND vkllm quantize ${source} ${fixture_staging}/${name} --type ${mix}
            COMMAND ${verify}
            DEPENDS vkllm ${source} ${fixture_sums} ${fixture_verify}
            COMMENT "Quantizing fixture ${name} with vkllm quantize" VERBATIM)
    else()
        message(FATAL_ERROR "${fixture_sums}: no recipe for '${name}': it needs "
                            "${name}.tar.xz or a NAME-f16.gguf source next to it")
    endif()
    list(APPEND derived_names ${name})
    list(APPEND derived_models ${output})
endforeach()

file(GLOB committed_models CONFIGURE_DEPENDS ${fixture_src}/*.gguf)
foreach(model ${committed_models})
    get_filename_component(name ${model} NAME)
    if(NOT name IN_LIST derived_names)  # a derived one is always made, never copied
        configure_file(${model} ${VKLLM_MODELS_DIR}/${name} COPYONLY)
    endif()
endforeach()

# In ALL, so scripts/build.sh leaves the default model of scripts/run-main.sh in place.
add_custom_target(vkllm_fixture_models ALL DEPENDS ${derived_models})
