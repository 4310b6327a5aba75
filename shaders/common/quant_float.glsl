// formats.md §2.1: F32, F16, BF16. One element per block and per item.

#define QK 1u
#define ITEMS 1u
#define RUNS 1
#define RUN_LEN 1

#if defined(TYPE_F32)
#define BLOCK_BYTES 4u
#elif defined(TYPE_F16) || defined(TYPE_BF16)
#define BLOCK_BYTES 2u
#endif

uint run_start(uint sub, uint run) { return 0u; }

void decode_item(uint b, uint sub, out float w[RUNS * RUN_LEN]) {
#if defined(TYPE_F32)
    w[0] = uintBitsToFloat(ld_u32_a4(b));
#elif defined(TYPE_F16)
    w[0] = ld_f16(b);
#else
    w[0] = ld_bf16(b);
#endif
}
