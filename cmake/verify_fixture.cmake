# cmake -DFILE=made -DOUTPUT=final -DEXPECTED=sha256 -DSUMS=list -P verify_fixture.cmake
# Moves a generated fixture into place if its sha256 is the expected one; otherwise deletes it and
# fails the build with both hashes, so a stale or wrong model can never be tested against.

get_filename_component(name ${OUTPUT} NAME)
if(NOT EXISTS ${FILE})
    message(FATAL_ERROR "fixture ${name}: ${FILE} was not produced")
endif()
file(SHA256 ${FILE} actual)
if(NOT actual STREQUAL EXPECTED)
    file(REMOVE ${FILE} ${OUTPUT})
    message(FATAL_ERROR
        "fixture ${name}: sha256 ${actual} differs from the expected ${EXPECTED} (${SUMS}).\n"
        "A quantized fixture must be byte for byte what llama.cpp's llama-quantize wrote, so a "
        "change to `vkllm quantize`, the type rules (quant/quant_mix.cpp), the quantizers "
        "(quant/quantize*.cpp) or the f16 source broke that; for an extracted one, its "
        ".tar.xz changed.")
endif()
file(RENAME ${FILE} ${OUTPUT})
# An archive keeps the member's old mtime; the build must see the output as newer than its inputs.
file(TOUCH_NOCREATE ${OUTPUT})
