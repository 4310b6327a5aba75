"""Checks gemma4_torch.Gemma4 against a slow float64 transcription of gemma4-model.md §3 that loops
over tokens and heads, on small random models (dense and MoE, with and without attn_v on full
layers), and checks the export/load round trip and the exported tensor set.

    /usr/bin/python3 tools/train/test_gemma4_torch.py
"""

import math
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gemma4_torch as g4  # noqa: E402


def base_cfg(**kw):
    cfg = dict(name="test", n_layer=4, n_embd=32, n_ctx=64, n_vocab=50, n_head=4, n_kv_head_swa=2,
               n_kv_head_full=1, head_dim_swa=8, head_dim_full=16, n_ff=48, full_period=3,
               full_has_v=False, n_swa=5, n_expert=0, n_expert_used=0, n_ff_expert=0,
               rope_base_swa=10000.0, rope_base_full=1000000.0, partial_rotary_full=0.25,
               rms_eps=1e-6, final_softcap=30.0)
    cfg.update(kw)
    return cfg


def randomize(model, seed):
    """Moves every vector away from its init so that a swapped norm or scale shows up."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for nm, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(p * (1 + 0.5 * torch.rand(p.shape, generator=gen)) +
                        0.1 * torch.randn(p.shape, generator=gen))
            elif "gate_inp" in nm:
                p.copy_(torch.randn(p.shape, generator=gen) * 3)


# ---- naive float64 reference ------------------------------------------------------------------


def w64(t):
    return t.detach().double().numpy()


def rms_np(x, w, eps):
    y = x / np.sqrt(np.mean(x * x) + eps)
    return y if w is None else y * w


def gelu_np(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def rope_np(u, p, base, ff):
    D = u.shape[0]
    out = u.copy()
    for i in range(D // 2):
        th = p * base ** (-2.0 * i / D) / ff[i]
        c, s = math.cos(th), math.sin(th)
        out[i] = u[i] * c - u[i + D // 2] * s
        out[i + D // 2] = u[i] * s + u[i + D // 2] * c
    return out


def reference(model, ids):
    c = model.shape
    n, eps = c["n_embd"], c["rms_eps"]
    E_tok = w64(model.token_embd)
    h = [E_tok[t] * math.sqrt(n) for t in ids]
    T = len(ids)
    ff_full = g4.rope_freqs(c).astype(np.float64)
    routes = []
    for L in model.layers:
        full = g4.is_full(c, L.l)
        D, Hq, Hkv = L.D, L.Hq, L.Hkv
        base = c["rope_base_full"] if full else c["rope_base_swa"]
        ff = ff_full if full else np.ones(D // 2)
        K, Vv, Q = [], [], []
        for p in range(T):
            x = rms_np(h[p], w64(L.attn_norm), eps)
            q = w64(L.attn_q) @ x
            kr = w64(L.attn_k) @ x
            vr = w64(L.attn_v) @ x if L.has_v else kr
            Q.append([rope_np(rms_np(q[j * D:(j + 1) * D], w64(L.attn_q_norm), eps), p, base, ff)
                      for j in range(Hq)])
            K.append([rope_np(rms_np(kr[j * D:(j + 1) * D], w64(L.attn_k_norm), eps), p, base, ff)
                      for j in range(Hkv)])
            Vv.append([rms_np(vr[j * D:(j + 1) * D], None, eps) for j in range(Hkv)])
        a_list = []
        for p in range(T):
            o = []
            for a in range(Hq):
                g = a // (Hq // Hkv)
                js = [j for j in range(p + 1) if full or p - j < c["n_swa"]]
                s = np.array([Q[p][a] @ K[j][g] for j in js])
                w = np.exp(s - s.max())
                w /= w.sum()
                o.append(sum(wj * Vv[j][g] for wj, j in zip(w, js)))
            o = np.concatenate(o)
            a_list.append(h[p] + rms_np(w64(L.attn_output) @ o, w64(L.post_attention_norm), eps))
        new_h = []
        for p in range(T):
            a = a_list[p]
            u = rms_np(a, w64(L.ffn_norm), eps)
            mlp = w64(L.ffn_down) @ (gelu_np(w64(L.ffn_gate) @ u) * (w64(L.ffn_up) @ u))
            if not L.moe:
                a = a + rms_np(mlp, w64(L.post_ffw_norm), eps)
            else:
                y_sh = rms_np(mlp, w64(L.post_ffw_norm_1), eps)
                r = rms_np(a, None, eps) / math.sqrt(n) * w64(L.ffn_gate_inp_scale)
                lg = w64(L.ffn_gate_inp) @ r
                P = np.exp(lg - lg.max())
                P /= P.sum()
                S = sorted(range(L.E), key=lambda e: (-P[e], e))[:L.k]
                routes.append(sorted(S))
                tot = sum(P[e] for e in S)
                u2 = rms_np(a, w64(L.pre_ffw_norm_2), eps)
                y = np.zeros(n)
                for e in S:
                    gu = w64(L.ffn_gate_up_exps)[e] @ u2
                    act = gelu_np(gu[:L.Fe]) * gu[L.Fe:]
                    y += P[e] / tot * w64(L.ffn_down_exps_scale)[e] * (w64(L.ffn_down_exps)[e] @ act)
                y_moe = rms_np(y, w64(L.post_ffw_norm_2), eps)
                a = a + rms_np(y_sh + y_moe, w64(L.post_ffw_norm), eps)
            new_h.append(a * w64(L.layer_output_scale)[0])
        h = new_h
    ys = [rms_np(x, w64(model.output_norm), eps) for x in h]
    cap = c["final_softcap"]
    logits = np.array([cap * np.tanh(E_tok @ y / cap) for y in ys])
    return logits, np.array(ys), routes


def check(cfg, seed, T=12):
    torch.manual_seed(seed)
    model = g4.Gemma4(cfg)
    randomize(model, seed)
    model.eval()
    ids = torch.randint(0, cfg["n_vocab"], (T,), generator=torch.Generator().manual_seed(seed))
    ref_logits, ref_y, _ = reference(model, ids.tolist())
    with torch.no_grad():
        logits, y = model(ids, return_hidden=True)
        logits_bf16 = model(ids, precision="bf16")
    err = np.abs(logits[0].double().numpy() - ref_logits).max()
    err_y = np.abs(y[0].double().numpy() - ref_y).max()
    err_bf16 = np.abs(logits_bf16[0].double().numpy() - ref_logits).max()
    print(f"{cfg['name']}: max |logit - ref| f32 {err:.2e}, bf16 {err_bf16:.2e}; hidden {err_y:.2e}")
    assert err < 2e-3 and err_y < 2e-3, "f32 forward differs from the reference"
    assert err_bf16 < 0.5, "bf16 forward far from the reference"

    # Batched windows equal single ones.
    ids2 = torch.stack([ids, ids.flip(0)])
    with torch.no_grad():
        both = model(ids2)
        single = model(ids.flip(0)[None])
    assert (both[1] - single[0]).abs().max() < 1e-4

    # Export / load round trip, and the tensor set.
    with tempfile.TemporaryDirectory() as d:
        tensors = g4.export_weights(model, d)
        names = {nm for nm, _, _ in tensors}
        files = {f[:-4] for f in os.listdir(d) if f.endswith(".f32")}
        assert names == files
        expect = expected_names(cfg)
        assert names == expect, (sorted(names ^ expect))
        for nm, t, ne in tensors:
            assert os.path.getsize(os.path.join(d, nm + ".f32")) == 4 * int(np.prod(ne))
        m2 = g4.load_weights(d)
        with torch.no_grad():
            assert torch.equal(m2(ids), logits)
        # Element order: GGUF row r of attn_q ({n, D*Hq}) is output r.
        a = np.fromfile(os.path.join(d, "blk.0.attn_q.weight.f32"), dtype="<f4")
        assert np.array_equal(a[:cfg["n_embd"]], model.layers[0].attn_q[0].detach().numpy())
        if cfg["n_expert"]:
            F2 = 2 * cfg["n_ff_expert"]
            a = np.fromfile(os.path.join(d, "blk.0.ffn_gate_up_exps.weight.f32"), dtype="<f4")
            row = a.reshape(-1, cfg["n_embd"])[F2 + 3]  # expert 1, gate row 3
            assert np.array_equal(row, model.layers[0].ffn_gate_up_exps[1, 3].detach().numpy())
    return model


def expected_names(cfg):
    names = {"token_embd.weight", "output_norm.weight", "rope_freqs.weight"}
    for l in range(cfg["n_layer"]):
        b = f"blk.{l}."
        per = ["attn_norm", "attn_q", "attn_k", "attn_output", "attn_q_norm", "attn_k_norm",
               "post_attention_norm", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down",
               "post_ffw_norm", "layer_output_scale"]
        full = l + 1 == cfg["n_layer"] or l % cfg["full_period"] == cfg["full_period"] - 1
        if not full or cfg["full_has_v"]:
            per.append("attn_v")
        names |= {b + p + ".weight" for p in per}
        if cfg["n_expert"]:
            names |= {b + p for p in ["ffn_gate_inp.weight", "ffn_gate_inp.scale",
                                      "pre_ffw_norm_2.weight", "post_ffw_norm_1.weight",
                                      "post_ffw_norm_2.weight", "ffn_gate_up_exps.weight",
                                      "ffn_down_exps.weight", "ffn_down_exps.scale"]}
    return names


def check_rope_freqs():
    c = base_cfg(head_dim_full=128, partial_rotary_full=0.25)
    ff = g4.rope_freqs(c)
    assert ff.shape == (64,) and (ff[:16] == 1).all() and (ff[16:] == np.float32(1e30)).all()


def check_training_step():
    cfg = base_cfg(name="moe-train", n_expert=6, n_expert_used=2, n_ff_expert=16)
    model = g4.Gemma4(cfg, precision="bf16")
    model.train()
    ids = torch.randint(0, cfg["n_vocab"], (2, 16))
    stats = {}
    logits = model(ids, stats=stats)
    loss = torch.nn.functional.cross_entropy(logits.view(-1, cfg["n_vocab"]), ids.view(-1))
    aux = torch.stack(stats["aux"]).mean()
    (loss + 0.01 * aux).backward()
    for nm, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), nm
    assert model.layers[0].ffn_gate_inp.grad.abs().sum() > 0
    print(f"moe training step: loss {loss.item():.3f}, aux {aux.item():.3f}; all grads finite")


def check_fused_loss():
    """The fused softcap + cross-entropy equals the plain one, value and gradients."""
    for cfg in [base_cfg(name="loss"), base_cfg(name="loss-nocap", final_softcap=0.0)]:
        torch.manual_seed(5)
        model = g4.Gemma4(cfg)
        randomize(model, 5)
        ids = torch.randint(0, cfg["n_vocab"], (2, 10))
        tg = torch.randint(0, cfg["n_vocab"], (2, 10))
        grads = []
        for fused in (False, True):
            model.zero_grad()
            if fused:
                loss = model(ids, targets=tg)
            else:
                logits = model(ids)
                loss = torch.nn.functional.cross_entropy(logits.reshape(-1, cfg["n_vocab"]),
                                                         tg.reshape(-1))
            loss.backward()
            grads.append((loss.item(), [p.grad.clone() for p in model.parameters()]))
        (l0, g0), (l1, g1) = grads
        err = max((a - b).abs().max().item() for a, b in zip(g0, g1))
        print(f"{cfg['name']}: fused loss {l1:.6f} vs {l0:.6f}, max grad diff {err:.2e}")
        assert abs(l0 - l1) < 1e-5 and err < 1e-5


def main():
    torch.set_num_threads(2)
    check_rope_freqs()
    check(base_cfg(name="dense"), 1)
    check(base_cfg(name="dense-full-v", full_has_v=True, n_kv_head_full=2, n_layer=3), 2)
    check(base_cfg(name="moe", n_expert=6, n_expert_used=2, n_ff_expert=16), 3)
    check(base_cfg(name="moe-k1", n_expert=4, n_expert_used=1, n_ff_expert=8, n_layer=2,
                   full_period=2), 4)
    check_training_step()
    check_fused_loss()
    print("OK")


if __name__ == "__main__":
    main()
