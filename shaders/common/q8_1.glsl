// The q8_1 rounding of activations (runtime/ops/quantize_q8.h), shared by every kernel that writes
// it (quantize_q8_1.comp, rms_norm.comp's fused output), so all of them give the same bytes.

// d of a 32-element block from its largest magnitude.
float q8_1_scale(float amax) { return amax / 127.0; }

// Codes of four values of a block with scale d: round half to even, within +-127.
ivec4 q8_1_codes(vec4 v, float d) {
    const float id = d > 0.0 ? 1.0 / d : 0.0;
    return clamp(ivec4(roundEven(v * id)), ivec4(-127), ivec4(127));
}

// Four codes as one little-endian word of signed bytes.
uint q8_1_pack(ivec4 q) {
    const uvec4 b = uvec4(q) & 0xFFu;
    return b.x | (b.y << 8) | (b.z << 16) | (b.w << 24);
}
