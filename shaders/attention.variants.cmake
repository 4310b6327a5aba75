# Flash attention and KV-cache stores (docs/design/attention.md). K/V element types (f16, q8_0),
# head dim, tile sizes and softcap are specialization constants, so each kernel is one module.
vkllm_shader(flash_attn flash_attn.comp)
vkllm_shader(flash_attn_split_reduce flash_attn_split_reduce.comp)
vkllm_shader(kv_store kv_store.comp)
vkllm_shader(kv_store_turbo kv_store_turbo.comp)
