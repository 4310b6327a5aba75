"""Trains a small Gemma-4-architecture model on CPU (torch 1.13, 2 threads).

    /usr/bin/python3 tools/train/train.py --config CONFIG.json --data DIR --out DIR --minutes M
        [--resume] [--export-only] [--steps N] [--set key=value ...]

DIR holds train.npy and heldout.npy (1-D integer token ids, documents already concatenated) and
optionally chat.npy, which is appended to train.npy (windows are drawn uniformly over the joined
array). CONFIG.json holds the Gemma4Shape fields (see gemma4_torch.SHAPE_FIELDS) plus optional
training keys (TRAIN_DEFAULTS below); --set overrides either kind, e.g. --set lr=2e-3.

Schedule. AdamW, linear warmup for `warmup_steps`, then cosine decay to lr * min_lr_frac at the
last step. The number of steps is fixed once, early: the trainer times steps 5..19 (after a
held-out evaluation at step 0), subtracts the time the periodic evaluations, checkpoints and the
final evaluation are expected to take, and sets total_steps = steps that fit into --minutes.
From then on the run is a pure function of (config, data, seed, total_steps): `--steps N` skips
the timing and reproduces a run exactly. The plan is stored in the checkpoint; --resume continues
the same plan (to the same total_steps), whatever --minutes says. If the machine gets slower the
run overruns the budget rather than stopping before the decay ends; it stops early only past
`max_overrun` x the budget (logged as a warning).

Outputs in OUT: train.log (also echoed to stdout), ckpt.pt (every ckpt_minutes and at the end),
weights/ (export_weights: config.json + <gguf name>.f32) at the end. --export-only re-exports
weights/ from ckpt.pt.

Matrix products train in bfloat16 with f32 master weights (gemma4_torch "bf16" precision);
periodic held-out evaluations use bf16 too, the final one f32 (`final_eval_precision`).
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
import torch.nn.functional as F  # noqa: E402

import gemma4_torch as g4  # noqa: E402

TRAIN_DEFAULTS = {
    "train_seq_len": 256,
    "batch_size": 16,
    "lr": 3e-3,
    "min_lr_frac": 0.1,        # cosine ends at lr * min_lr_frac
    "warmup_steps": 100,       # capped at total_steps // 5
    "weight_decay": 0.1,       # matrices and the embedding only
    "beta1": 0.9,
    "beta2": 0.95,
    "grad_clip": 1.0,
    "aux_coef": 0.01,          # MoE load-balancing loss coefficient
    "post_norm_init": 1.0,
    "router_init_std": 0.1,
    "seed": 1234,
    "log_every": 10,           # steps
    "eval_every_minutes": 5.0,
    "eval_tokens": 16384,      # the fixed held-out slice of periodic evaluations (its start)
    "final_eval_tokens": 65536,  # the final evaluation: the first this many held-out tokens
    "final_eval_precision": "f32",
    "ckpt_every_minutes": 2.0,
    "max_overrun": 1.5,
    }


class Log:
    def __init__(self, path):
        self.f = open(path, "a")

    def __call__(self, msg):
        line = time.strftime("%Y-%m-%d %H:%M:%S ") + msg
        print(line, flush=True)
        self.f.write(line + "\n")
        self.f.flush()


def parse_value(v):
    try:
        return json.loads(v)
    except json.JSONDecodeError:
        return v


def load_tokens(path, n_vocab):
    a = np.load(path, mmap_mode="r")
    if a.ndim != 1:
        raise ValueError(f"{path}: expected a 1-D token array, got shape {a.shape}")
    if a.size and (int(a.max()) >= n_vocab or int(a.min()) < 0):
        raise ValueError(f"{path}: token ids outside 0..{n_vocab - 1}")
    return a


def load_data(data_dir, n_vocab):
    parts = [load_tokens(os.path.join(data_dir, "train.npy"), n_vocab)]
    chat = os.path.join(data_dir, "chat.npy")
    if os.path.exists(chat):
        parts.append(load_tokens(chat, n_vocab))
    dtype = np.uint16 if n_vocab <= 65536 else np.int32
    train = np.concatenate([p.astype(dtype, copy=False) for p in parts])
    held = np.asarray(load_tokens(os.path.join(data_dir, "heldout.npy"), n_vocab)).astype(dtype)
    return train, held, [p.size for p in parts]


def get_batch(rng, data, B, T):
    starts = rng.integers(0, data.size - T - 1, size=B)
    idx = starts[:, None] + np.arange(T + 1)[None, :]
    w = torch.from_numpy(data[idx].astype(np.int64))
    return w[:, :-1], w[:, 1:]


def lr_at(step, plan, cfg):
    base = cfg["lr"]
    W, S = plan["warmup_steps"], plan["total_steps"]
    if step < W:
        return base * (step + 1) / W
    if S is None:  # still timing: hold the peak (only reachable if warmup_steps < 20)
        return base
    prog = min(1.0, (step - W) / max(1, S - W))
    lo = base * cfg["min_lr_frac"]
    return lo + (base - lo) * 0.5 * (1 + math.cos(math.pi * prog))


def top_share(counts):
    """Fraction of routed token-slots taken by the top ceil(10%) of experts."""
    c = np.sort(np.asarray(counts, dtype=np.float64))[::-1]
    m = max(1, math.ceil(0.1 * c.size))
    return float(c[:m].sum() / max(1.0, c.sum()))


@torch.no_grad()
def evaluate(model, tokens, T, B, precision):
    """Mean NLL over non-overlapping windows of T predicted tokens from the start of `tokens`
    (each window is an independent sequence at positions 0..T-1). Returns (nll, n_tokens,
    per-layer expert counts or None)."""
    was = model.training
    model.eval()
    nwin = (tokens.size - 1) // T
    total, count, counts = 0.0, 0, None
    for i in range(0, nwin, B):
        nb = min(B, nwin - i)
        idx = (np.arange(i, i + nb) * T)[:, None] + np.arange(T + 1)[None, :]
        w = torch.from_numpy(tokens[idx].astype(np.int64))
        stats = {}
        logits = model(w[:, :-1], stats=stats, precision=precision)
        V = logits.shape[-1]
        total += F.cross_entropy(logits.reshape(-1, V), w[:, 1:].reshape(-1),
                                 reduction="sum").item()
        count += nb * T
        if stats.get("counts"):
            c = torch.stack(stats["counts"]).numpy().astype(np.int64)
            counts = c if counts is None else counts + c
    model.train(was)
    return total / max(1, count), count, counts


def unigram_nll(train, held_targets, V):
    counts = np.bincount(train, minlength=V).astype(np.float64) + 1.0
    logp = np.log(counts / counts.sum())
    return float(-logp[held_targets].mean())


def make_optimizer(model, cfg):
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.dim() >= 2 else no_decay).append(p)
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg["weight_decay"]},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]), eps=1e-8)


def save_ckpt(path, model, opt, state, rng):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state,
                "np_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state()}, tmp)
    os.replace(tmp, path)


def format_counts(counts):
    return " ".join(f"{top_share(c):.3f}" for c in counts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config")
    ap.add_argument("--data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--steps", type=int, help="fix the step count instead of timing the first steps")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    t_start = time.time()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "ckpt.pt")

    if args.export_only:
        ck = torch.load(ckpt_path)
        cfg = ck["state"]["cfg"]
        model = g4.Gemma4(cfg, post_norm_init=cfg["post_norm_init"])
        model.load_state_dict(ck["model"])
        g4.export_weights(model, os.path.join(args.out, "weights"))
        print(f"exported step {ck['state']['step']} to {os.path.join(args.out, 'weights')}")
        return

    log = Log(os.path.join(args.out, "train.log"))
    ck = None
    if args.resume:
        ck = torch.load(ckpt_path)
        cfg = ck["state"]["cfg"]
        if args.set:
            log("warning: --set is ignored with --resume (the checkpoint's config is used)")
    else:
        if not args.config:
            ap.error("--config is required (unless --resume or --export-only)")
        with open(args.config) as f:
            cfg = dict(TRAIN_DEFAULTS)
            cfg.update(json.load(f))
        for kv in args.set:
            k, _, v = kv.partition("=")
            cfg[k] = parse_value(v)
        g4.shape_config(cfg)
    if not args.data:
        ap.error("--data is required")

    torch.manual_seed(cfg["seed"])
    V, T, B = cfg["n_vocab"], cfg["train_seq_len"], cfg["batch_size"]
    train, held, part_sizes = load_data(args.data, V)
    if held.size < T + 1 or train.size < T + 2:
        raise SystemExit(f"{args.data}: train and heldout need more than train_seq_len = {T} tokens")
    model = g4.Gemma4(cfg, post_norm_init=cfg["post_norm_init"], precision="bf16")
    opt = make_optimizer(model, cfg)
    rng = np.random.default_rng(cfg["seed"])
    n_params = sum(p.numel() for p in model.parameters())
    moe = cfg["n_expert"] > 0
    eval_slice = held[:min(held.size, cfg["eval_tokens"] + 1)]

    if ck is not None:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        rng.bit_generator.state = ck["np_rng"]
        torch.set_rng_state(ck["torch_rng"])
        state = ck["state"]
        budget_s = state["budget_s"]
        log(f"resumed at step {state['step']} of {state['plan']['total_steps']}, "
            f"{state['tokens']} tokens, {state['elapsed']:.0f} s elapsed before")
    else:
        budget_s = args.minutes * 60.0
        state = {"cfg": cfg, "step": 0, "tokens": 0, "elapsed": 0.0, "budget_s": budget_s,
                 "plan": {"total_steps": args.steps,
                          "warmup_steps": cfg["warmup_steps"] if args.steps is None
                          else min(cfg["warmup_steps"], max(1, args.steps // 5))},
                 "evals": []}
        log(f"config {json.dumps(cfg, sort_keys=True)}")
        log(f"params {n_params} ({n_params - V * cfg['n_embd']} excluding the embedding); "
            f"train tokens {train.size} (parts {part_sizes}), heldout tokens {held.size}; "
            f"budget {args.minutes} min; threads {torch.get_num_threads()}")
    plan = state["plan"]

    # Wall-clock bookkeeping: `elapsed` is the run's total time across resumes (setup included).
    elapsed0 = state["elapsed"]

    def elapsed():
        return elapsed0 + time.time() - t_start

    def do_eval(tag):
        te = time.time()
        nll, n, counts = evaluate(model, eval_slice, T, B, "bf16")
        dt = time.time() - te
        msg = (f"eval step {state['step']} tokens {state['tokens']}: heldout loss {nll:.4f} "
               f"ppl {math.exp(nll):.2f} on the first {n} heldout targets ({dt:.1f} s)")
        if counts is not None:
            msg += f"; top-10% expert share per layer: {format_counts(counts)}"
        log(msg)
        state["evals"].append({"step": state["step"], "tokens": state["tokens"], "loss": nll})
        return dt

    eval_time = do_eval("start") if ck is None else None
    last_eval = elapsed()
    last_ckpt = elapsed()
    ckpt_time = 1.0

    model.train()
    log_loss, log_aux, log_n, log_t, log_tokens = 0.0, 0.0, 0, time.time(), 0
    calib = None  # (first timed step, its start time, pause seconds since)
    stopped_early = False
    while plan["total_steps"] is None or state["step"] < plan["total_steps"]:
        step = state["step"]
        if plan["total_steps"] is None and calib is None and step >= 5:
            calib = [step, time.time(), 0.0]
        if plan["total_steps"] is None and calib is not None and step - calib[0] == 15:
            step_time = (time.time() - calib[1] - calib[2]) / (step - calib[0])
            left = budget_s - elapsed()
            n_evals = left / (cfg["eval_every_minutes"] * 60)
            n_ckpt = left / (cfg["ckpt_every_minutes"] * 60)
            et = eval_time if eval_time is not None else 0.0
            # The final evaluation: more tokens, and f32 runs at about a third of bf16's speed.
            f32_factor = 3.0 if cfg["final_eval_precision"] == "f32" else 1.0
            final_eval = et * f32_factor * cfg["final_eval_tokens"] / max(1, eval_slice.size)
            reserve = n_evals * et + n_ckpt * ckpt_time + final_eval + 10.0
            plan["total_steps"] = max(step + 1, step + int((left - reserve) / step_time))
            plan["warmup_steps"] = min(plan["warmup_steps"], max(1, plan["total_steps"] // 5))
            log(f"timing: {step_time:.3f} s/step ({B * T / step_time:.0f} tokens/s) over steps "
                f"{calib[0]}..{step - 1}; reserve {reserve:.0f} s for evals/checkpoints; plan: "
                f"total_steps {plan['total_steps']}, warmup {plan['warmup_steps']}")
            continue
        if elapsed() > cfg["max_overrun"] * budget_s:
            log(f"warning: stopping at step {step} of {plan['total_steps']}: past "
                f"{cfg['max_overrun']} x the time budget")
            stopped_early = True
            break
        lr = lr_at(step, plan, cfg)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = get_batch(rng, train, B, T)
        stats = {}
        loss = model(x, stats=stats, targets=y)
        total = loss
        if moe:
            aux = torch.stack(stats["aux"]).mean()
            total = loss + cfg["aux_coef"] * aux
            log_aux += aux.item()
        opt.zero_grad(set_to_none=True)
        total.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        opt.step()
        state["step"] += 1
        state["tokens"] += B * T
        log_loss += loss.item()
        log_n += 1
        log_tokens += B * T
        if state["step"] % cfg["log_every"] == 0 or state["step"] == plan["total_steps"]:
            now = time.time()
            msg = (f"step {state['step']} tokens {state['tokens']} loss {log_loss / log_n:.4f} "
                   f"lr {lr:.2e} gnorm {gnorm.item():.2f} tok/s {log_tokens / (now - log_t):.0f} "
                   f"elapsed {elapsed():.0f}s")
            if moe:
                msg += f" aux {log_aux / log_n:.4f}"
            log(msg)
            log_loss, log_aux, log_n, log_t, log_tokens = 0.0, 0.0, 0, time.time(), 0
        pause = 0.0
        if elapsed() - last_eval > cfg["eval_every_minutes"] * 60:
            pause += do_eval("periodic")
            last_eval = elapsed()
        if elapsed() - last_ckpt > cfg["ckpt_every_minutes"] * 60:
            tc = time.time()
            state["elapsed"] = elapsed()
            save_ckpt(ckpt_path, model, opt, state, rng)
            ckpt_time = time.time() - tc
            pause += ckpt_time
            last_ckpt = elapsed()
        log_t += pause  # keep evals and checkpoints out of the throughput figure
        if calib is not None:
            calib[2] += pause

    state["elapsed"] = elapsed()
    save_ckpt(ckpt_path, model, opt, state, rng)
    log(f"checkpoint saved at step {state['step']}" + (" (stopped early)" if stopped_early else ""))

    # Final evaluation on the first final_eval_tokens held-out tokens, and the unigram baseline.
    final = held[:min(held.size, cfg["final_eval_tokens"] + 1)]
    te = time.time()
    nll, n, counts = evaluate(model, final, T, B, cfg["final_eval_precision"])
    nwin = (final.size - 1) // T
    targets = np.concatenate([final[i * T + 1:i * T + T + 1] for i in range(nwin)]).astype(np.int64)
    uni = unigram_nll(train, targets, V)
    msg = (f"final: heldout loss {nll:.4f} ppl {math.exp(nll):.2f} "
           f"({cfg['final_eval_precision']}, {n} targets = the first {nwin} windows of {T} of "
           f"the {held.size}-token heldout set, {time.time() - te:.0f} s); unigram (add-one, "
           f"from train) ppl {math.exp(uni):.2f} on the same targets")
    if counts is not None:
        msg += f"; top-10% expert share per layer: {format_counts(counts)}"
    log(msg)
    log(f"trained {state['step']} steps, {state['tokens']} tokens in {state['elapsed']:.0f} s "
        f"({state['tokens'] / max(1e-9, state['elapsed']):.0f} tokens/s overall)")
    wdir = os.path.join(args.out, "weights")
    g4.export_weights(model, wdir)
    log(f"exported weights to {wdir}")


if __name__ == "__main__":
    main()
