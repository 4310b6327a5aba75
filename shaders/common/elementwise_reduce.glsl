// Workgroup-wide reductions for the row kernels of the elementwise family (rms_norm, softmax,
// argmax, moe_route). The includer declares `layout(constant_id = 0) const uint WG` and uses it as
// local_size_x. Each call must be reached by the whole workgroup (uniform control flow). Every
// invocation gets the same result: the subgroup partials are combined in subgroup order by every
// invocation, so the value is deterministic and uniform across the workgroup.

shared float wg_red_f[WG];
shared uint wg_red_u[WG];

float wg_sum(float v) {
    v = subgroupAdd(v);
    if (subgroupElect()) wg_red_f[gl_SubgroupID] = v;
    barrier();
    float r = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; ++i) r += wg_red_f[i];
    barrier();  // the scratch is reused by the next call
    return r;
}

float wg_max(float v) {
    v = subgroupMax(v);
    if (subgroupElect()) wg_red_f[gl_SubgroupID] = v;
    barrier();
    float r = wg_red_f[0];
    for (uint i = 1; i < gl_NumSubgroups; ++i) r = max(r, wg_red_f[i]);
    barrier();
    return r;
}

uint wg_min_u(uint v) {
    v = subgroupMin(v);
    if (subgroupElect()) wg_red_u[gl_SubgroupID] = v;
    barrier();
    uint r = wg_red_u[0];
    for (uint i = 1; i < gl_NumSubgroups; ++i) r = min(r, wg_red_u[i]);
    barrier();
    return r;
}

// Linear workgroup id of a grid folded into y when it exceeds the x limit (ops/row_parts.h).
uint wg_linear_id() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }
