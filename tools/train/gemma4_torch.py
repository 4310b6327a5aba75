"""A torch model of the Gemma 4 target forward exactly as vkllm runs it (docs: gemma4-model.md §3).

Only what tools/train/ can produce: no per-layer embeddings (PLE), no shared KV layers, tied LM
head, fused expert gate/up tensors. The config is a dict with the `Gemma4Shape` fields
(synth/gemma4_shape.h) listed in SHAPE_FIELDS; other keys (training hyperparameters) are ignored
here.

Numerics. `model.precision` picks how the matrix products run:
  * "f32"  (default): every product in float32 (check_forward.py, exact evaluation). Linear
    layers go through a 1x1 convolution, which this torch build runs with oneDNN; plain
    torch.mm would use the reference netlib BLAS, several times slower.
  * "bf16": products take bfloat16 inputs (oneDNN, with f32 accumulation) and their results are
    converted back to float32; norms, RoPE, softmax, gelu, residuals and the loss stay in f32.
    This is mixed-precision training with f32 master weights.

Export: export_weights(model, out_dir) writes config.json plus one raw little-endian f32 file per
GGUF tensor (`<name>.f32`, GGUF element order = the row-major bytes of the torch tensor).
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SHAPE_FIELDS = [
    "name", "n_layer", "n_embd", "n_ctx", "n_vocab", "n_head", "n_kv_head_swa", "n_kv_head_full",
    "head_dim_swa", "head_dim_full", "n_ff", "full_period", "full_has_v", "n_swa", "n_expert",
    "n_expert_used", "n_ff_expert", "rope_base_swa", "rope_base_full", "partial_rotary_full",
    "rms_eps", "final_softcap",
]
_INT_FIELDS = {
    "n_layer", "n_embd", "n_ctx", "n_vocab", "n_head", "n_kv_head_swa", "n_kv_head_full",
    "head_dim_swa", "head_dim_full", "n_ff", "full_period", "n_swa", "n_expert", "n_expert_used",
    "n_ff_expert",
}
_FLOAT_FIELDS = {"rope_base_swa", "rope_base_full", "partial_rotary_full", "rms_eps", "final_softcap"}


def shape_config(cfg):
    """The Gemma4Shape fields of cfg only, with the JSON types the C++ reader expects."""
    out = {}
    for k in SHAPE_FIELDS:
        if k not in cfg:
            raise ValueError(f"config: missing {k!r}")
        v = cfg[k]
        if k in _INT_FIELDS:
            v = int(v)
        elif k in _FLOAT_FIELDS:
            v = float(v)
        elif k == "full_has_v":
            v = bool(v)
        else:
            v = str(v)
        out[k] = v
    if out["n_expert"] > 0 and not (1 <= out["n_expert_used"] <= out["n_expert"]):
        raise ValueError("config: n_expert_used must be 1..n_expert")
    if out["n_head"] % out["n_kv_head_swa"] or out["n_head"] % out["n_kv_head_full"]:
        raise ValueError("config: n_head must be a multiple of both KV head counts")
    return out


def is_full(cfg, l):
    """Layer l is full-attention iff it is the last layer or l % full_period == full_period - 1."""
    return l + 1 == cfg["n_layer"] or l % cfg["full_period"] == cfg["full_period"] - 1


def has_v(cfg, l):
    return (not is_full(cfg, l)) or bool(cfg["full_has_v"])


def rope_freqs(cfg):
    """§2.2: head_dim_full/2 entries, 1.0 for the m = int(D_full * partial / 2) rotating pairs,
    1e30 for the rest. m is computed in f32 like synth/tensor_plan.cpp does."""
    half = cfg["head_dim_full"] // 2
    m = int(np.float32(cfg["head_dim_full"]) * np.float32(cfg["partial_rotary_full"]) / np.float32(2))
    ff = np.full(half, 1e30, dtype=np.float32)
    ff[:m] = 1.0
    return ff


# ----------------------------------------------------------------------------------------------
# Primitive ops


def rms(x, w, eps):
    """RMS_w(x) = x * rsqrt(mean(x^2) + eps) * w over the last axis (w None: no weight)."""
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return y if w is None else y * w


def _linear_f32(x, w):
    # y = x @ w^T as a 1x1 convolution over a batch of N "images" of in channels: oneDNN runs it
    # (torch.mm would use the slow reference BLAS in this build). Works for any leading dims.
    lead = x.shape[:-1]
    x2 = x.reshape(-1, x.shape[-1])
    y = F.conv2d(x2.view(x2.shape[0], x2.shape[1], 1, 1), w.view(w.shape[0], w.shape[1], 1, 1))
    return y.view(*lead, w.shape[0])


def linear(x, w, precision):
    """x @ w^T (w in torch Linear layout (out, in)); result in float32."""
    if precision == "bf16":
        return F.linear(x.to(torch.bfloat16), w.to(torch.bfloat16)).float()
    if x.numel() == 0:
        return x.new_zeros(*x.shape[:-1], w.shape[0])
    return _linear_f32(x, w)


def matmul(a, b, precision):
    if precision == "bf16":
        return torch.matmul(a.to(torch.bfloat16), b.to(torch.bfloat16)).float()
    return torch.matmul(a, b)


def gelu(x):
    return F.gelu(x, approximate="tanh")


def apply_rope(x, cos, sin):
    """NEOX pairing on the last axis (length D): pairs (i, i + D/2). cos/sin: (T, D/2), x: (B, T, H, D)."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    c = cos[:, None, :]
    s = sin[:, None, :]
    return torch.cat((x1 * c - x2 * s, x1 * s + x2 * c), dim=-1)


class _SoftcapCrossEntropy(torch.autograd.Function):
    """mean_t CE(cap * tanh(z_t / cap), target_t) with few passes over the (tokens, V) logits."""

    @staticmethod
    def forward(ctx, z, targets, cap):
        t = z.to(torch.float32, copy=True)
        if cap != 0:
            t.mul_(1.0 / cap).tanh_()
            s = t * cap
        else:
            s = t
        lse = torch.logsumexp(s, dim=-1)
        loss = (lse - s.gather(1, targets[:, None])[:, 0]).mean()
        ctx.save_for_backward(t, targets, lse)
        ctx.cap, ctx.z_dtype = cap, z.dtype
        return loss

    @staticmethod
    def backward(ctx, g):
        t, targets, lse = ctx.saved_tensors
        cap = ctx.cap
        p = t * cap if cap != 0 else t.clone()
        p.sub_(lse[:, None]).exp_()  # softmax
        p.scatter_add_(1, targets[:, None], p.new_full((p.shape[0], 1), -1.0))
        p.mul_(g / p.shape[0])
        if cap != 0:
            p.mul_(1 - t * t)  # d(cap tanh(z/cap))/dz
        return p.to(ctx.z_dtype), None, None


def softcap_cross_entropy(z, targets, cap):
    """z: (N, V) raw logits (before the softcap), targets: (N,) int64."""
    return _SoftcapCrossEntropy.apply(z, targets, float(cap))


# ----------------------------------------------------------------------------------------------
# Model


class Gemma4Layer(nn.Module):
    """One block. Parameter attribute names are the GGUF names with '.' -> '_' (see gguf_tensors)."""

    def __init__(self, cfg, l, post_norm_init=1.0):
        super().__init__()
        self.l = l
        self.full = is_full(cfg, l)
        n = cfg["n_embd"]
        self.D = D = cfg["head_dim_full"] if self.full else cfg["head_dim_swa"]
        self.Hq = Hq = cfg["n_head"]
        self.Hkv = Hkv = cfg["n_kv_head_full"] if self.full else cfg["n_kv_head_swa"]
        self.has_v = has_v(cfg, l)
        self.eps = float(cfg["rms_eps"])
        f = cfg["n_ff"]

        def mat(out_f, in_f):
            return nn.Parameter(torch.randn(out_f, in_f) / math.sqrt(in_f))

        def vec(size, value):
            return nn.Parameter(torch.full((size,), float(value)))

        self.attn_norm = vec(n, 1.0)
        self.attn_q = mat(D * Hq, n)
        self.attn_k = mat(D * Hkv, n)
        if self.has_v:
            self.attn_v = mat(D * Hkv, n)
        self.attn_output = mat(n, D * Hq)
        # Their product stands in for the missing 1/sqrt(D) score scale.
        self.attn_q_norm = vec(D, D ** -0.25)
        self.attn_k_norm = vec(D, D ** -0.25)
        self.post_attention_norm = vec(n, post_norm_init)
        self.ffn_norm = vec(n, 1.0)
        self.ffn_gate = mat(f, n)
        self.ffn_up = mat(f, n)
        self.ffn_down = mat(n, f)
        self.post_ffw_norm = vec(n, post_norm_init)
        self.layer_output_scale = vec(1, 1.0)

        self.moe = cfg["n_expert"] > 0
        if self.moe:
            E, Fe = cfg["n_expert"], cfg["n_ff_expert"]
            self.E, self.Fe, self.k = E, Fe, cfg["n_expert_used"]
            self.ffn_gate_inp = nn.Parameter(torch.randn(E, n) * cfg.get("router_init_std", 0.1))
            self.ffn_gate_inp_scale = vec(n, 1.0)
            self.pre_ffw_norm_2 = vec(n, 1.0)
            self.post_ffw_norm_1 = vec(n, post_norm_init)
            self.post_ffw_norm_2 = vec(n, post_norm_init)
            self.ffn_gate_up_exps = nn.Parameter(torch.randn(E, 2 * Fe, n) / math.sqrt(n))
            self.ffn_down_exps = nn.Parameter(torch.randn(E, n, Fe) / math.sqrt(Fe))
            self.ffn_down_exps_scale = vec(E, 1.0)

    # -- attention ------------------------------------------------------------------------------
    def kv_from_raw(self, k_raw, v_raw, cos, sin):
        """What the KV cache holds (§3.4 step 3): normalised, RoPE'd K and normalised V."""
        return apply_rope(rms(k_raw, self.attn_k_norm, self.eps), cos, sin), rms(v_raw, None, self.eps)

    def kv(self, h, cos, sin, precision):
        """The cached K and V, each (B, T, Hkv, D), of residual h (B, T, n) without the rest of
        the attention (the MTP drafter reads them, §4.4)."""
        x = rms(h, self.attn_norm, self.eps)
        B, T, _ = x.shape
        k_raw = linear(x, self.attn_k, precision).view(B, T, self.Hkv, self.D)
        v_raw = (linear(x, self.attn_v, precision).view(B, T, self.Hkv, self.D)
                 if self.has_v else k_raw)
        return self.kv_from_raw(k_raw, v_raw, cos, sin)

    def attention(self, h, cos, sin, mask, precision):
        B, T, _ = h.shape
        D, Hq, Hkv = self.D, self.Hq, self.Hkv
        G = Hq // Hkv
        x = rms(h, self.attn_norm, self.eps)
        # One product for Q, K (and V): the weights are concatenated row-wise.
        ws = [self.attn_q, self.attn_k] + ([self.attn_v] if self.has_v else [])
        parts = linear(x, torch.cat(ws, 0), precision).split([w.shape[0] for w in ws], dim=-1)
        q = parts[0].view(B, T, Hq, D)
        k_raw = parts[1].view(B, T, Hkv, D)
        v_raw = parts[2].view(B, T, Hkv, D) if self.has_v else k_raw
        q = apply_rope(rms(q, self.attn_q_norm, self.eps), cos, sin)
        k, v = self.kv_from_raw(k_raw, v_raw, cos, sin)
        # Query head a uses KV head a // G: view the query heads as (Hkv, G).
        q = q.view(B, T, Hkv, G, D).permute(0, 2, 3, 1, 4).reshape(B, Hkv, G * T, D)
        k = k.permute(0, 2, 3, 1)  # (B, Hkv, D, T)
        v = v.permute(0, 2, 1, 3)  # (B, Hkv, T, D)
        s = matmul(q, k, precision).view(B, Hkv, G, T, T)  # scale 1.0, no softcap
        p = torch.softmax(s + mask, dim=-1).view(B, Hkv, G * T, T)
        o = matmul(p, v, precision)  # (B, Hkv, G*T, D)
        o = o.view(B, Hkv, G, T, D).permute(0, 3, 1, 2, 4).reshape(B, T, Hq * D)
        return h + rms(linear(o, self.attn_output, precision), self.post_attention_norm, self.eps)

    # -- feed-forward ---------------------------------------------------------------------------
    def mlp(self, u, precision):
        g, up = linear(u, torch.cat((self.ffn_gate, self.ffn_up), 0), precision).chunk(2, dim=-1)
        return linear(gelu(g) * up, self.ffn_down, precision)

    def dense_ffn(self, a, precision):
        u = rms(a, self.ffn_norm, self.eps)
        return a + rms(self.mlp(u, precision), self.post_ffw_norm, self.eps)

    def moe_ffn(self, a, precision, stats):
        B, T, n = a.shape
        E, k = self.E, self.k
        y_sh = rms(self.mlp(rms(a, self.ffn_norm, self.eps), precision), self.post_ffw_norm_1,
                   self.eps)

        a2 = a.reshape(B * T, n)
        N = a2.shape[0]
        # Router: RMS_1(a) / sqrt(n) * scale, logits in f32 (the choice is discrete).
        r = rms(a2, None, self.eps) * (1.0 / math.sqrt(n)) * self.ffn_gate_inp_scale
        logits = linear(r, self.ffn_gate_inp, "f32")
        P = torch.softmax(logits, dim=-1)
        top_p, top_i = torch.topk(P, k, dim=-1)  # descending
        wts = top_p / top_p.sum(-1, keepdim=True).clamp_min(6.103515625e-5)

        u2 = rms(a2, self.pre_ffw_norm_2, self.eps)
        flat_e = top_i.reshape(-1)  # (N*k,) slot s of token t at t*k + s
        order = torch.argsort(flat_e, stable=True)
        counts = torch.bincount(flat_e, minlength=E)
        tok = order // k
        wdt = torch.bfloat16 if precision == "bf16" else torch.float32
        xs = u2.to(wdt).index_select(0, tok)  # the slots grouped by expert
        # One unbind per tensor (not E index ops: each would back-propagate a full-size zero
        # gradient), cast once for bf16.
        w_gu = self.ffn_gate_up_exps.to(wdt).unbind(0)
        w_d = self.ffn_down_exps.to(wdt).unbind(0)
        # torch.split, not slices: a slice back-propagates a zero tensor of the whole input.
        outs = []
        for e, xe in enumerate(torch.split(xs, counts.tolist())):
            if xe.shape[0] == 0:
                continue
            g, u = linear(xe, w_gu[e], precision).chunk(2, dim=-1)
            outs.append(linear(gelu(g) * u, w_d[e], precision))
        # Each slot's output times its routing weight w_e and its expert's scale c_e.
        row_scale = (wts.reshape(-1).index_select(0, order) *
                     self.ffn_down_exps_scale.index_select(0, flat_e.index_select(0, order)))
        ys = torch.cat(outs, 0) * row_scale[:, None]
        y_moe = torch.zeros_like(a2).index_add(0, tok, ys)
        y_moe = rms(y_moe, self.post_ffw_norm_2, self.eps).view(B, T, n)

        if stats is not None:
            frac = counts.float() / float(N * k)
            if self.training:
                # Switch-transformer load balancing: E * sum_e f_e * mean_t P_e (1 when uniform).
                stats.setdefault("aux", []).append(E * (frac.detach() * P.mean(0)).sum())
            stats.setdefault("counts", []).append(counts.detach())
        return a + rms(y_sh + y_moe, self.post_ffw_norm, self.eps)

    def forward(self, h, cos, sin, mask, precision, stats):
        a = self.attention(h, cos, sin, mask, precision)
        a = self.moe_ffn(a, precision, stats) if self.moe else self.dense_ffn(a, precision)
        return a * self.layer_output_scale


class Gemma4(nn.Module):
    def __init__(self, cfg, post_norm_init=1.0, precision="f32"):
        super().__init__()
        self.cfg = dict(cfg)
        self.shape = shape_config(cfg)
        s = self.shape
        n, V = s["n_embd"], s["n_vocab"]
        self.precision = precision
        # N(0, 1/n): the sqrt(n) input scale makes h start at unit RMS; tied head logits ~ N(0, 1).
        self.token_embd = nn.Parameter(torch.randn(V, n) / math.sqrt(n))
        self.output_norm = nn.Parameter(torch.ones(n))
        self.layers = nn.ModuleList([Gemma4Layer(s, l, post_norm_init) for l in range(s["n_layer"])])
        self.register_buffer("rope_freqs", torch.from_numpy(rope_freqs(s)), persistent=False)
        self._tables = {}

    # RoPE tables and masks per sequence length, computed in float64 then rounded to f32.
    def _rope(self, T, full):
        key = ("rope", T, full)
        if key not in self._tables:
            s = self.shape
            D = s["head_dim_full"] if full else s["head_dim_swa"]
            base = s["rope_base_full"] if full else s["rope_base_swa"]
            i = np.arange(D // 2, dtype=np.float64)
            inv = base ** (-2.0 * i / D)
            if full:
                inv = inv / rope_freqs(s).astype(np.float64)
            theta = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]
            self._tables[key] = (torch.from_numpy(np.cos(theta).astype(np.float32)),
                                 torch.from_numpy(np.sin(theta).astype(np.float32)))
        return self._tables[key]

    def _mask(self, T, full):
        key = ("mask", T, full)
        if key not in self._tables:
            p = torch.arange(T)[:, None]
            j = torch.arange(T)[None, :]
            ok = j <= p
            if not full:
                ok = ok & (p - j < self.shape["n_swa"])
            self._tables[key] = torch.zeros(T, T).masked_fill(~ok, float("-inf"))
        return self._tables[key]

    def forward(self, ids, return_hidden=False, stats=None, precision=None, targets=None):
        """ids: (B, T) int64 at positions 0..T-1. Returns softcapped f32 logits (B, T, V), and with
        return_hidden also the post-output-norm hidden y (B, T, n). With `targets` ((B, T) int64)
        it returns the mean cross-entropy instead of the logits (fused with the softcap; the
        training path). If `stats` is a dict, MoE layers append their expert slot counts
        (stats["counts"]) and, in training mode, their load-balancing losses (stats["aux"])."""
        prec = precision or self.precision
        s = self.shape
        n = s["n_embd"]
        if ids.dim() == 1:
            ids = ids[None]
        T = ids.shape[1]
        h = F.embedding(ids, self.token_embd) * float(np.float32(math.sqrt(n)))
        for layer in self.layers:
            cos, sin = self._rope(T, layer.full)
            h = layer(h, cos, sin, self._mask(T, layer.full), prec, stats)
        y = rms(h, self.output_norm, s["rms_eps"])
        cap = s["final_softcap"]
        if targets is not None:
            yv = y.reshape(-1, n)
            if prec == "bf16":
                z = F.linear(yv.to(torch.bfloat16), self.token_embd.to(torch.bfloat16))
            else:
                z = linear(yv, self.token_embd, prec)
            loss = softcap_cross_entropy(z, targets.reshape(-1), cap)
            return (loss, y) if return_hidden else loss
        logits = linear(y, self.token_embd, prec)
        if cap != 0:
            logits = cap * torch.tanh(logits / cap)
        return (logits, y) if return_hidden else logits


# ----------------------------------------------------------------------------------------------
# GGUF names


def gguf_tensors(model):
    """[(gguf name, torch tensor, ne)] for every tensor the trained-weights directory holds.
    ne is the GGUF shape (ne[0] fastest) = the torch shape reversed."""
    s = model.shape
    out = [("token_embd.weight", model.token_embd),
           ("output_norm.weight", model.output_norm),
           ("rope_freqs.weight", torch.from_numpy(rope_freqs(s)))]
    for layer in model.layers:
        b = f"blk.{layer.l}."
        names = ["attn_norm", "attn_q", "attn_k"] + (["attn_v"] if layer.has_v else []) + [
            "attn_output", "attn_q_norm", "attn_k_norm", "post_attention_norm", "ffn_norm",
            "ffn_gate", "ffn_up", "ffn_down", "post_ffw_norm", "layer_output_scale"]
        for nm in names:
            out.append((b + nm + ".weight", getattr(layer, nm)))
        if layer.moe:
            out += [(b + "ffn_gate_inp.weight", layer.ffn_gate_inp),
                    (b + "ffn_gate_inp.scale", layer.ffn_gate_inp_scale),
                    (b + "pre_ffw_norm_2.weight", layer.pre_ffw_norm_2),
                    (b + "post_ffw_norm_1.weight", layer.post_ffw_norm_1),
                    (b + "post_ffw_norm_2.weight", layer.post_ffw_norm_2),
                    (b + "ffn_gate_up_exps.weight", layer.ffn_gate_up_exps),
                    (b + "ffn_down_exps.weight", layer.ffn_down_exps),
                    (b + "ffn_down_exps.scale", layer.ffn_down_exps_scale)]
    return [(nm, t, list(reversed(t.shape))) for nm, t in out]


def write_weights_dir(out_dir, shape, tensors):
    """The trained-weights directory `vkllm pack` reads: out_dir/config.json (`shape`) and
    out_dir/<gguf name>.f32 for each (name, tensor) of `tensors`. Stale .f32 files from another
    shape are removed so the directory holds exactly this set."""
    os.makedirs(out_dir, exist_ok=True)
    keep = {nm + ".f32" for nm, _ in tensors}
    for f in os.listdir(out_dir):
        if f.endswith(".f32") and f not in keep:
            os.remove(os.path.join(out_dir, f))
    for nm, t in tensors:
        a = t.detach().to(torch.float32).contiguous().numpy().astype("<f4", copy=False)
        tmp = os.path.join(out_dir, nm + ".f32.tmp")
        a.tofile(tmp)
        os.replace(tmp, os.path.join(out_dir, nm + ".f32"))
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(shape, f, indent=2)
        f.write("\n")


def export_weights(model, out_dir):
    """Writes the target's trained-weights directory (shape fields only in config.json)."""
    tensors = gguf_tensors(model)
    write_weights_dir(out_dir, model.shape, [(nm, t) for nm, t, _ in tensors])
    return tensors


def load_weights(weights_dir, precision="f32"):
    """Builds a Gemma4 from a directory written by export_weights."""
    with open(os.path.join(weights_dir, "config.json")) as f:
        cfg = json.load(f)
    model = Gemma4(cfg, precision=precision)
    expected = set()
    with torch.no_grad():
        for nm, t, ne in gguf_tensors(model):
            path = os.path.join(weights_dir, nm + ".f32")
            expected.add(nm + ".f32")
            a = np.fromfile(path, dtype="<f4")
            if a.size != t.numel():
                raise ValueError(f"{path}: {a.size} values, expected {t.numel()} (ne {ne})")
            if nm == "rope_freqs.weight":
                if not np.array_equal(a, t.numpy()):
                    raise ValueError(f"{path}: differs from the config's rope_freqs")
                continue
            t.copy_(torch.from_numpy(a).view(t.shape))
    extra = [f for f in os.listdir(weights_dir) if f.endswith(".f32") and f not in expected]
    if extra:
        raise ValueError(f"{weights_dir}: unexpected tensors {sorted(extra)[:5]}")
    model.eval()
    return model
