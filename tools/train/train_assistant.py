#!/usr/bin/python3
"""Trains the MTP assistant (gemma4-assistant, gemma4-model.md §4) of a trained dense target.

The target is frozen. For every position p of a training window the target gives, without
gradients: its post-norm hidden y_{p-1} (§4.2), its greedy next token g_p = argmax logits_p, and
the normalised, RoPE'd K and normalised V of its last sliding layer (L-2) and last full layer
(L-1), which the assistant's sliding and full layers read (§4.4). The assistant then runs the
gamma draft steps of one round (§4.6) for every p at once, all at position p over the target's
keys j < p:
  step 0: token x_p, hidden y_{p-1}      -> predicts g_p      (the target's next token)
  step s: token x_{p+s}, hidden h_s      -> predicts g_{p+s}  (h_s = post_projection of step s-1)
Inputs are the corpus tokens (what a round holds once its drafts are accepted, since the target
then agreed with them), labels are the target's own greedy choices: the drafter learns to guess
the target, not the corpus. Loss: cross-entropy summed over the steps.

Evaluation (the issue's acceptance check, until the runtime drafts): greedy simulation on
held-out prompts. The target continues each prompt greedily; then rounds walk the continuation
as the server would (§4.6-4.8): at position p the assistant drafts gamma tokens from (x_p,
y_{p-1}); the target accepts the longest prefix that equals its own greedy tokens, k of them;
k + 1 tokens are emitted and the next round starts at p + k + 1. Reported: mean k (accepted
draft length) and mean k + 1 (tokens per verification step).

Usage: /usr/bin/python3 tools/train/train_assistant.py --target WEIGHTS --config CONFIG.json
           --data DIR --out DIR --minutes M [--resume] [--eval-only]
Writes out/train.log, out/ckpt.pt, out/weights/ (config.json + <tensor>.f32 for `vkllm pack`).
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpu_setup  # noqa: E402,F401  (before torch)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import gemma4_torch as g4  # noqa: E402
from train import Log, get_batch, load_data  # noqa: E402


# ----------------------------------------------------------------------------------------------
# The frozen target: logits, post-norm hidden and the K/V the assistant reads


@torch.no_grad()
def target_pass(target, ids, precision="bf16"):
    """ids (B, T) -> logits (B, T, V), y (B, T, n), {"swa": (k, v), "full": (k, v)} with k, v of
    shape (B, T, Hkv, D) from target layers L-2 (sliding) and L-1 (full)."""
    s = target.shape
    L, T = s["n_layer"], ids.shape[1]
    if g4.is_full(s, L - 2) or not g4.is_full(s, L - 1):
        raise ValueError("the target's layer L-2 must be sliding and L-1 full (§4.4)")
    h = F.embedding(ids, target.token_embd) * float(np.float32(math.sqrt(s["n_embd"])))
    kv = {}
    for layer in target.layers:
        cos, sin = target._rope(T, layer.full)
        if layer.l >= L - 2:
            kv["full" if layer.full else "swa"] = layer.kv(h, cos, sin, precision)
        h = layer(h, cos, sin, target._mask(T, layer.full), precision, None)
    y = g4.rms(h, target.output_norm, s["rms_eps"])
    logits = g4.linear(y, target.token_embd, precision)
    cap = s["final_softcap"]
    if cap != 0:
        logits = cap * torch.tanh(logits / cap)
    return logits, y, kv


# ----------------------------------------------------------------------------------------------
# The assistant (§4.3)


class AssistantLayer(nn.Module):
    def __init__(self, cfg, l):
        super().__init__()
        self.l = l
        self.full = g4.is_full(cfg, l)
        n = cfg["n_embd"]
        self.D = D = cfg["head_dim_full"] if self.full else cfg["head_dim_swa"]
        self.Hq = cfg["n_head"]
        self.Hkv = cfg["n_kv_head_full"] if self.full else cfg["n_kv_head_swa"]
        self.eps = float(cfg["rms_eps"])
        f = cfg["n_ff"]

        def mat(out_f, in_f):
            return nn.Parameter(torch.randn(out_f, in_f) / math.sqrt(in_f))

        def vec(size, value):
            return nn.Parameter(torch.full((size,), float(value)))

        self.attn_norm = vec(n, 1.0)
        self.attn_q = mat(D * self.Hq, n)
        self.attn_q_norm = vec(D, D ** -0.25)
        self.attn_output = mat(n, D * self.Hq)
        self.post_attention_norm = vec(n, 1.0)
        self.ffn_norm = vec(n, 1.0)
        self.ffn_gate = mat(f, n)
        self.ffn_up = mat(f, n)
        self.ffn_down = mat(n, f)
        self.post_ffw_norm = vec(n, 1.0)
        self.layer_output_scale = vec(1, 1.0)

    def forward(self, x, k, v, cos, sin, mask, pr):
        """x (B, Q, n) queries at positions given by cos/sin (Q, D/2); k, v (B, T, Hkv, D) the
        target's cache; mask (Q, T) additive."""
        B, Q, _ = x.shape
        D, Hq, Hkv = self.D, self.Hq, self.Hkv
        G = Hq // Hkv
        xh = g4.rms(x, self.attn_norm, self.eps)
        q = g4.linear(xh, self.attn_q, pr).view(B, Q, Hq, D)
        q = g4.apply_rope(g4.rms(q, self.attn_q_norm, self.eps), cos, sin)
        q = q.view(B, Q, Hkv, G, D).permute(0, 2, 3, 1, 4).reshape(B, Hkv, G * Q, D)
        s = g4.matmul(q, k.permute(0, 2, 3, 1), pr).view(B, Hkv, G, Q, -1)  # scale 1.0
        p = torch.softmax(s + mask, dim=-1).view(B, Hkv, G * Q, -1)
        o = g4.matmul(p, v.permute(0, 2, 1, 3), pr)
        o = o.view(B, Hkv, G, Q, D).permute(0, 3, 1, 2, 4).reshape(B, Q, Hq * D)
        a = x + g4.rms(g4.linear(o, self.attn_output, pr), self.post_attention_norm, self.eps)
        u = g4.rms(a, self.ffn_norm, self.eps)
        m = g4.linear(g4.gelu(g4.linear(u, self.ffn_gate, pr)) * g4.linear(u, self.ffn_up, pr),
                      self.ffn_down, pr)
        a = a + g4.rms(m, self.post_ffw_norm, self.eps)
        return a * self.layer_output_scale


class Assistant(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.shape = g4.shape_config(cfg)
        self.shape["n_embd_out"] = int(cfg["n_embd_out"])
        s = self.shape
        n, B, V = s["n_embd"], s["n_embd_out"], s["n_vocab"]
        self.token_embd = nn.Parameter(torch.randn(V, n) / math.sqrt(n))
        self.output_norm = nn.Parameter(torch.ones(n))
        self.pre_projection = nn.Parameter(torch.randn(n, 2 * B) / math.sqrt(2 * B))
        self.post_projection = nn.Parameter(torch.randn(B, n) / math.sqrt(n))
        self.layers = nn.ModuleList([AssistantLayer(s, l) for l in range(s["n_layer"])])
        # Matrix products in bf16 with f32 accumulation while training (gemma4_torch.py), f32
        # for the simulation and export checks.
        self.precision = "bf16"

    def rope(self, positions, full):
        """cos/sin (Q, D/2) at the given integer positions, computed in float64."""
        s = self.shape
        D = s["head_dim_full"] if full else s["head_dim_swa"]
        base = s["rope_base_full"] if full else s["rope_base_swa"]
        inv = base ** (-2.0 * np.arange(D // 2, dtype=np.float64) / D)
        if full:
            inv = inv / g4.rope_freqs(s).astype(np.float64)
        theta = np.asarray(positions, dtype=np.float64)[:, None] * inv[None, :]
        return (torch.from_numpy(np.cos(theta).astype(np.float32)),
                torch.from_numpy(np.sin(theta).astype(np.float32)))

    def mask(self, positions, T, full):
        """Query at position p sees target keys j < p (the committed ones) and, in sliding
        layers, p - j < n_swa."""
        p = torch.as_tensor(positions)[:, None]
        j = torch.arange(T)[None, :]
        ok = j < p
        if not full:
            ok = ok & (p - j < self.shape["n_swa"])
        return torch.zeros(ok.shape).masked_fill(~ok, float("-inf"))

    def step(self, target_embd, tokens, hidden, kv, positions):
        """One draft step for queries (B, Q): tokens (B, Q), hidden (B, Q, B_out) -> logits
        (B, Q, V), next hidden (B, Q, B_out)."""
        s = self.shape
        Bw = s["n_embd_out"]
        e = F.embedding(tokens, target_embd) * float(np.float32(math.sqrt(Bw)))
        pr = self.precision
        x = g4.linear(torch.cat([e, hidden], -1), self.pre_projection, pr)
        T = kv["swa"][0].shape[1]
        for layer in self.layers:
            k, v = kv["full" if layer.full else "swa"]
            cos, sin = self.rope(positions, layer.full)
            x = layer(x, k, v, cos, sin, self.mask(positions, T, layer.full), pr)
        y = g4.rms(x, self.output_norm, s["rms_eps"])
        return g4.linear(y, self.token_embd, pr), g4.linear(y, self.post_projection, pr)


def gguf_tensors(model):
    out = [("token_embd.weight", model.token_embd), ("output_norm.weight", model.output_norm),
           ("nextn.pre_projection.weight", model.pre_projection),
           ("nextn.post_projection.weight", model.post_projection),
           ("rope_freqs.weight", torch.from_numpy(g4.rope_freqs(model.shape)))]
    for layer in model.layers:
        for nm in ["attn_norm", "attn_q", "attn_q_norm", "attn_output", "post_attention_norm",
                   "ffn_norm", "ffn_gate", "ffn_up", "ffn_down", "post_ffw_norm",
                   "layer_output_scale"]:
            out.append((f"blk.{layer.l}.{nm}.weight", getattr(layer, nm)))
    return out


# ----------------------------------------------------------------------------------------------
# Training and the greedy simulation


def round_losses(model, target, ids, gamma):
    """Summed cross-entropy of the gamma draft steps at every position p in [1, T - gamma)."""
    logits_t, y, kv = target_pass(target, ids)
    greedy = logits_t.argmax(-1)  # g_p
    T = ids.shape[1]
    pos = np.arange(1, T - gamma + 1)
    hidden = y[:, pos - 1]
    loss, correct = 0.0, []
    for s in range(gamma):
        logits, hidden = model.step(target.token_embd, ids[:, pos + s], hidden, kv, pos)
        labels = greedy[:, pos + s]
        loss = loss + F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        correct.append((logits.argmax(-1) == labels).float().mean().item())
    return loss / gamma, correct


@torch.no_grad()
def greedy_continue(target, prompts, n_new):
    seq = prompts
    for _ in range(n_new):
        nxt = target(seq, precision="f32")[:, -1].argmax(-1, keepdim=True)
        seq = torch.cat([seq, nxt], 1)
    return seq


@torch.no_grad()
def simulate(model, target, held, gamma, n_prompts=24, prompt_len=64, n_new=64, seed=7):
    """Greedy speculative decoding replayed on held-out prompts; returns (mean accepted drafts,
    tokens per verification step, rounds)."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, held.size - prompt_len - 1, size=n_prompts)
    prompts = torch.from_numpy(
        np.stack([held[s:s + prompt_len] for s in starts]).astype(np.int64))
    seq = greedy_continue(target, prompts, n_new)
    _, y, kv = target_pass(target, seq, "f32")
    model.precision = "f32"
    T = seq.shape[1]
    pos = np.arange(prompt_len, T - gamma)
    drafts = []
    hidden = y[:, pos - 1]
    tokens = seq[:, pos]
    for s in range(gamma):
        logits, hidden = model.step(target.token_embd, tokens, hidden, kv, pos)
        tokens = logits.argmax(-1)
        drafts.append(tokens)
    drafts = torch.stack(drafts, -1)  # (B, P, gamma): drafts for the round at pos[i]
    accepted = []
    for b in range(seq.shape[0]):
        i = 0  # round at position prompt_len + i
        while i < len(pos):
            p = pos[i]
            k = 0
            while k < gamma and drafts[b, i, k].item() == seq[b, p + 1 + k].item():
                k += 1
            accepted.append(k)
            i += k + 1
    a = np.asarray(accepted, dtype=np.float64)
    return float(a.mean()), float((a + 1).mean()), len(a)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", required=True, help="the dense target's weights directory")
    ap.add_argument("--config", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--eval-only", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    with open(args.config) as f:
        cfg = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    log = Log(os.path.join(args.out, "train.log"))
    target = g4.load_weights(args.target)
    for p in target.parameters():
        p.requires_grad_(False)
    for k in ["n_vocab", "n_swa", "head_dim_swa", "head_dim_full", "n_kv_head_swa",
              "n_kv_head_full"]:
        if cfg[k] != target.shape[k]:
            raise ValueError(f"assistant {k} = {cfg[k]} must equal the target's {target.shape[k]}")
    if cfg["n_embd_out"] != target.shape["n_embd"]:
        raise ValueError("assistant n_embd_out must be the target's n_embd")
    train, held, _ = load_data(args.data, cfg["n_vocab"])
    torch.manual_seed(cfg.get("seed", 4321))
    model = Assistant(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], betas=(0.9, 0.95),
                            weight_decay=0.0)
    rng = np.random.default_rng(cfg.get("seed", 4321))
    state = {"step": 0, "seconds": 0.0}
    ckpt = os.path.join(args.out, "ckpt.pt")
    if args.resume or args.eval_only:
        c = torch.load(ckpt)
        model.load_state_dict(c["model"])
        opt.load_state_dict(c["opt"])
        state = c["state"]
        rng.bit_generator.state = c["rng"]
    gamma, T, B = cfg["gamma"], cfg["train_seq_len"], cfg["batch_size"]
    budget = args.minutes * 60.0
    t0 = time.time() - state["seconds"]
    last_ckpt = time.time()

    def save():
        state["seconds"] = time.time() - t0
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state,
                    "rng": rng.bit_generator.state}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)

    while not args.eval_only and time.time() - t0 < budget:
        # Cosine decay over the wall-clock budget after a 50-step warm-up.
        prog = min(1.0, (time.time() - t0) / budget)
        lr = cfg["lr"] * min(1.0, (state["step"] + 1) / 50) * (0.1 + 0.9 * 0.5 *
                                                               (1 + math.cos(math.pi * prog)))
        for gparam in opt.param_groups:
            gparam["lr"] = lr
        x, _ = get_batch(rng, train, B, T)
        loss, correct = round_losses(model, target, x, gamma)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        if state["step"] % 10 == 0:
            log(f"step {state['step']} loss {loss.item():.4f} step-accuracy "
                f"{' '.join(f'{c:.3f}' for c in correct)} lr {lr:.2e} "
                f"elapsed {time.time() - t0:.0f}s")
        if time.time() - last_ckpt > 120:
            save()
            last_ckpt = time.time()
    if not args.eval_only:
        save()
    model.eval()
    mean_k, per_step, rounds = simulate(model, target, held, gamma)
    log(f"greedy simulation on held-out text, gamma {gamma}: mean accepted draft length "
        f"{mean_k:.3f}, tokens per verification step {per_step:.3f} over {rounds} rounds")
    g4.write_weights_dir(os.path.join(args.out, "weights"), model.shape, gguf_tensors(model))
    log(f"exported {os.path.join(args.out, 'weights')} after {state['step']} steps")


if __name__ == "__main__":
    main()
