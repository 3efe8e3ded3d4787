"""The `probe` phase of record_lora_fixtures.py: fp8_lora_probe.safetensors / .json.

Runs inside the oracle's venv and calls ComfyUI's own functions (ModelPatcher, comfy.lora.load_lora,
comfy.ops, comfy.float) on small made-up weights, records what they produce, and checks each result against
record_lora_fixtures.independent_stochastic_round (the README rule written independently).
"""
import hashlib
import json
import os
import sys
import zlib

import record_lora_fixtures as R
import torch
from safetensors.torch import save_file


def _import_comfy(oracle):
    root = os.path.join(oracle, "ComfyUI")
    if root not in sys.path:
        sys.path.insert(0, root)
    import comfy.cli_args  # ComfyUI's package (the oracle's root is first on sys.path), not Kiln's

    comfy.cli_args.args.cpu = True
    import comfy.float
    import comfy.lora
    import comfy.model_management
    import comfy.model_patcher
    import comfy.ops
    import comfy.sd
    import comfy.utils
    return comfy


def _nest(path, leaf):
    """A module tree whose state-dict key for the leaf's weight is path + '.weight'."""
    root = torch.nn.Module()
    cur = root
    parts = path.split(".")
    for p in parts[:-1]:
        nxt = torch.nn.Module()
        cur.add_module(p, nxt)
        cur = nxt
    cur.add_module(parts[-1], leaf)
    return root


def u8(t):
    return t.contiguous().view(torch.uint8)


def sha(t):
    return hashlib.sha256(t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()).hexdigest()


def fp8_weight(shape, dtype, seed, std):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g) * std).to(dtype)


def lora_pair(out_f, in_f, rank, seed, up_std, dtype=torch.float16):
    g = torch.Generator().manual_seed(seed)
    down = (torch.randn([rank, in_f], generator=g) / in_f ** 0.5).to(dtype)
    up = (torch.randn([out_f, rank], generator=g) * up_std).to(dtype)
    return up, down


def patch_through_comfy(comfy, key, weight, loras, scale_weight=None):
    """loras: list of (up, down, alpha, strength). Returns the weight the ModelPatcher leaves in the module."""
    out_f, in_f = weight.shape
    if scale_weight is None:
        lin = comfy.ops.manual_cast.Linear(in_f, out_f, bias=False, dtype=weight.dtype)
    else:
        lin = comfy.ops.scaled_fp8_ops(override_dtype=weight.dtype).Linear(in_f, out_f, bias=False, dtype=weight.dtype)
        lin.scale_weight = torch.nn.Parameter(torch.tensor(scale_weight, dtype=torch.float32), requires_grad=False)
    lin.weight = torch.nn.Parameter(weight.clone(), requires_grad=False)
    model = _nest(key[:-len(".weight")], lin)
    patcher = comfy.model_patcher.ModelPatcher(model, torch.device("cpu"), torch.device("cpu"))
    for i, (up, down, alpha, strength) in enumerate(loras):
        sd = {f"probe{i}.lora_up.weight": up, f"probe{i}.lora_down.weight": down}
        if alpha is not None:
            sd[f"probe{i}.alpha"] = torch.tensor(alpha)
        patches = comfy.lora.load_lora(sd, {f"probe{i}": key})
        added = patcher.add_patches(patches, strength)
        assert list(added) == [key], added
    patcher.patch_model(device_to=torch.device("cpu"))
    w = model.state_dict()[key].detach().clone()
    patcher.unpatch_model()
    assert torch.equal(u8(model.state_dict()[key]), u8(weight)), "unpatch did not restore"
    return w


def rule(key, weight, loras, scale_weight=None):
    w = weight.float()
    if scale_weight is not None:
        w = w * torch.tensor(scale_weight, dtype=torch.float32)
    for (up, down, alpha, strength) in loras:
        w = w + R.lora_delta(up, down, alpha, strength)
    if scale_weight is not None:
        w = w / torch.tensor(scale_weight, dtype=torch.float32)
    return R.independent_stochastic_round(w, weight.dtype, R.crc32_seed(key)), w


def main(args):
    comfy = _import_comfy(args.oracle)
    from comfy.model_patcher import string_to_seed
    tensors, meta = {}, {"probes": {}, "string_to_seed": {}, "direct_stochastic_rounding": {}}

    keys = [R.T5_Q0, R.T5_WO0, "t5xxl.transformer.encoder.block.23.layer.1.DenseReluDense.wo.weight",
            "diffusion_model.double_blocks.0.img_attn.qkv.weight", "clip_l.transformer.text_model.encoder.layers.0.mlp.fc1.weight",
            "", "a"]
    for k in keys:
        s = string_to_seed(k)
        meta["string_to_seed"][k] = {"comfy": s, "zlib_crc32": zlib.crc32(k.encode()) & 0xFFFFFFFF}
        assert s == meta["string_to_seed"][k]["zlib_crc32"]

    E4, E5 = torch.float8_e4m3fn, torch.float8_e5m2
    small = [
        # name, key, dtype, shape, weight std, loras [(rank, alpha, strength, up_std)], scale_weight
        ("e4m3fn_plain", R.T5_Q0, E4, (8, 16), 0.05, [(4, 2.0, 0.8, 0.05)], None),
        ("e5m2_plain", R.T5_Q0, E5, (8, 16), 0.05, [(4, 2.0, 0.8, 0.05)], None),
        ("e4m3fn_no_alpha_negative_strength", "x.weight", E4, (6, 10), 0.5, [(2, None, -1.5, 0.3)], None),
        ("e4m3fn_scaled", R.T5_Q0, E4, (8, 16), 1.0, [(4, 2.0, 0.8, 0.05)], 0.037),
        ("e5m2_scaled", R.T5_Q0, E5, (8, 16), 1.0, [(4, 4.0, 1.0, 0.05)], 0.0123),
        ("e4m3fn_two_loras", R.T5_WO0, E4, (8, 16), 0.05, [(4, 2.0, 0.8, 0.05), (2, 1.0, -0.5, 0.1)], None),
        ("e4m3fn_large_wo_shape", R.T5_WO0, E4, (4096, 10240), 0.02, [(4, 2.0, 0.7, 0.25)], None),
        ("e4m3fn_scaled_large_wo_shape", R.T5_WO0, E4, (4096, 10240), 1.0, [(4, 2.0, 0.7, 0.25)], 0.0195),
    ]
    for pi, (name, key, dtype, shape, wstd, loras_spec, scale) in enumerate(small):
        weight = fp8_weight(shape, dtype, 100 + pi, wstd)
        loras = []
        for li, (rank, alpha, strength, up_std) in enumerate(loras_spec):
            up, down = lora_pair(shape[0], shape[1], rank, 1000 + 10 * pi + li, up_std)
            loras.append((up, down, alpha, strength))
        got = patch_through_comfy(comfy, key, weight, loras, scale)
        mine, w32 = rule(key, weight, loras, scale)
        rne = w32.to(dtype)
        big = weight.numel() > 1 << 20
        d = {"key": key, "seed": R.crc32_seed(key), "dtype": str(dtype).replace("torch.", ""), "shape": list(shape),
             "scale_weight": scale,
             "loras": [{"rank": r, "alpha": a, "strength": s} for (r, a, s, _) in loras_spec],
             "patched_sha256": sha(got), "weight_sha256": sha(weight),
             "bit_equal_to_readme_rule": bool(torch.equal(u8(got), u8(mine))),
             "fraction_differing_from_round_to_nearest": float((u8(got) != u8(rne)).float().mean()),
             "n_slices_rows": None}
        rows = shape[0]
        n_sl = max(1, (shape[0] * shape[1]) / (4096 * 4096))
        step = max(1, round(rows / n_sl))
        d["n_slices_rows"] = [[r0, min(rows, r0 + step)] for r0 in range(0, rows, step)]
        if big:
            d["inputs"] = ("weight = (torch.randn(shape, generator=torch.Generator().manual_seed(%d)) * %r).to(dtype); "
                           "lora i: g = torch.Generator().manual_seed(%d + i); down = (torch.randn([rank, in], generator=g) "
                           "/ in**0.5).half(); up = (torch.randn([out, rank], generator=g) * up_std).half(), up_std %r"
                           % (100 + pi, wstd, 1000 + 10 * pi, [spec[3] for spec in loras_spec]))
            sel = torch.cat([torch.arange(0, 2), torch.arange(step - 2, step + 2), torch.arange(2 * step - 2, 2 * step + 2),
                             torch.arange(rows - 2, rows)])
            d["stored_rows"] = sel.tolist()
            d["stored_columns"] = [0, 512]
            tensors[name + "/patched_rows_u8"] = u8(got)[sel][:, :512].contiguous()
            tensors[name + "/weight_rows_u8"] = u8(weight)[sel][:, :512].contiguous()
        else:
            tensors[name + "/weight_u8"] = u8(weight)
            tensors[name + "/patched_u8"] = u8(got)
            tensors[name + "/patched_f32"] = got.float()
            tensors[name + "/weight_plus_lora_f32"] = w32
        for li, (up, down, _alpha, _strength) in enumerate(loras):
            if not big:
                tensors[f"{name}/lora{li}_up"] = up
                tensors[f"{name}/lora{li}_down"] = down
        meta["probes"][name] = d
        print(name, d["bit_equal_to_readme_rule"], d["fraction_differing_from_round_to_nearest"], flush=True)

    # direct calls of comfy.float.stochastic_rounding on edge values
    vals = torch.tensor([0.0, -0.0, 1e-9, -3e-8, 2.0 ** -10, 0.0019, 0.015624, 0.0156, 0.01563, 0.02, -0.02, 0.3, -0.7,
                         0.99951171875, 1.0, 1.3, 255.9, 300.0, 447.0, 460.0, 500.0, 1000.0, 57000.0, 60000.0, -60000.0],
                        dtype=torch.float32)
    grid = vals.repeat(32, 1)  # 32 rows: 32 independent draws per value
    tensors["direct/values_f32"] = vals
    for dtype in (E4, E5):
        for seed in (0, R.crc32_seed(R.T5_Q0)):
            got = comfy.float.stochastic_rounding(grid, dtype, seed=seed)
            mine = R.independent_stochastic_round(grid, dtype, seed)
            nm = f"{str(dtype).replace('torch.', '')}_seed{seed}"
            tensors[f"direct/{nm}_u8"] = u8(got)
            meta["direct_stochastic_rounding"][nm] = {"seed": seed, "shape": list(grid.shape),
                                                      "bit_equal_to_readme_rule": bool(torch.equal(u8(got), u8(mine)))}
            print(nm, meta["direct_stochastic_rounding"][nm], flush=True)
    # values just below a power of two whose float16 log2 rounds up to the next integer (the exponent quirk)
    qv = torch.tensor([255.875, 2.0 ** -6 * (1 - 2.0 ** -11), -(2.0 ** -3) * (1 - 2.0 ** -11), 3.0 * 2.0 ** -9],
                      dtype=torch.float32)
    qgrid = qv.repeat(4096, 1)
    tensors["direct/quirk_values_f32"] = qv
    for dtype in (E4, E5):
        seed = R.crc32_seed(R.T5_Q0)
        got = comfy.float.stochastic_rounding(qgrid, dtype, seed=seed)
        mine = R.independent_stochastic_round(qgrid, dtype, seed)
        nm = f"quirk_{str(dtype).replace('torch.', '')}_seed{seed}"
        tensors[f"direct/{nm}_u8"] = u8(got)
        vals_seen = {}
        for j in range(qv.numel()):
            col = got[:, j].float()
            uniq, cnt = torch.unique(col, return_counts=True)
            vals_seen[repr(float(qv[j]))] = {repr(float(a)): int(c) for a, c in zip(uniq, cnt, strict=True)}
        meta["direct_stochastic_rounding"][nm] = {"seed": seed, "shape": list(qgrid.shape),
                                                  "bit_equal_to_readme_rule": bool(torch.equal(u8(got), u8(mine))),
                                                  "outcomes_per_value": vals_seen}
        print(nm, meta["direct_stochastic_rounding"][nm], flush=True)
    for dtype in (torch.float16, torch.bfloat16, torch.float32):
        got = comfy.float.stochastic_rounding(grid, dtype, seed=1)
        meta["direct_stochastic_rounding"][str(dtype).replace("torch.", "")] = {
            "equals_plain_to_dtype": bool(torch.equal(got, grid.to(dtype)))}
    # torch.rand(float16) facts
    g = torch.Generator().manual_seed(R.crc32_seed(R.T5_Q0))
    tensors["direct/rand_f16_first64_seed_t5q0"] = torch.rand([64], dtype=torch.float16, generator=g)
    meta["environment"] = {"comfyui_commit": R.COMFY_COMMIT, "torch": torch.__version__, "device": "cpu"}
    save_file(tensors, os.path.join(R.FIX, "fp8_lora_probe.safetensors"))
    old_path = os.path.join(R.FIX, "fp8_lora_probe.json")
    if os.path.exists(old_path):  # keep the sections written by the other phases (t5-variants)
        for k, v in json.load(open(old_path)).items():
            if k.startswith("t5_"):
                meta[k] = v
    with open(os.path.join(R.FIX, "fp8_lora_probe.json"), "w") as f:
        json.dump(meta, f, indent=1)


def t5_variants(args):
    """How much the Flux conditioning moves when the patched fp8 T5 weights are rounded differently
    (to size the tolerance a re-implementation needs if it does not reproduce the stochastic rounding)."""
    import time

    comfy = _import_comfy(args.oracle)
    te = os.path.join(args.models, "text_encoders")
    clip = comfy.sd.load_clip([os.path.join(te, "ref-clip_l.safetensors"), os.path.join(te, "ref-t5xxl_fp8_e4m3fn.safetensors")],
                              clip_type=comfy.sd.CLIPType.FLUX)
    lora = comfy.utils.load_torch_file(os.path.join(args.work, "models", "loras", "kiln-lora-flux-comfy.safetensors"), safe_load=True)
    original = comfy.float.stochastic_rounding
    variants = {  # name: (rounding function, strength_clip)
        "comfyui": (original, 1.0),
        "round_to_nearest": (lambda value, dtype, seed=0: value.to(dtype), 1.0),
        "keep_float32": (lambda value, dtype, seed=0: value.to(torch.float32), 1.0),
        "comfyui_strength_0.1": (original, 0.1),
        "keep_float32_strength_0.1": (lambda value, dtype, seed=0: value.to(torch.float32), 0.1),
        "no_lora": (original, 0.0),
    }
    results, conds = {}, {}
    for name, (fn, strength) in variants.items():
        comfy.float.stochastic_rounding = fn
        if strength == 0.0:
            c = clip
        else:
            _, c = comfy.sd.load_lora_for_models(None, clip, lora, 0.0, strength)
        t0 = time.time()
        cond, pooled = c.encode_from_tokens(c.tokenize("a photo of a cat"), return_pooled=True)
        conds[name] = (cond.float(), pooled.float())
        results[name] = {"encode_s": round(time.time() - t0, 1), "cond_sha256": sha(cond.float().contiguous())}
        print(name, results[name], flush=True)
        del c
    comfy.float.stochastic_rounding = original
    ref_c, ref_p = conds["comfyui"]
    for name in variants:
        c, p = conds[name]
        results[name]["cond_max_abs_diff_vs_comfyui"] = float((c - ref_c).abs().max())
        results[name]["cond_rows0_7_max_abs_diff_vs_comfyui"] = float((c[:, :8] - ref_c[:, :8]).abs().max())
        results[name]["pooled_max_abs_diff_vs_comfyui"] = float((p - ref_p).abs().max())
        nc, _ = conds["no_lora"]
        results[name]["cond_rel_l2_vs_no_lora"] = float((c - nc).double().norm() / nc.double().norm())
    path = os.path.join(R.FIX, "fp8_lora_probe.json")
    meta = json.load(open(path))
    meta["t5_rounding_variants"] = {
        "what": ("Flux CLIP-L + ref-t5xxl_fp8_e4m3fn + kiln-lora-flux-comfy.safetensors at strength_clip 1.0, "
                 "'a photo of a cat', encoded in-process with comfy.float.stochastic_rounding replaced: comfyui = "
                 "unchanged; round_to_nearest = patched weights cast with .to(dtype) (fp8 RNE, fp16 RNE); keep_float32 = "
                 "patched weights kept in float32 (CLIP-L's too); *_strength_0.1 = strength_clip 0.1; no_lora = the "
                 "plain text encoders"),
        "results": results}
    with open(path, "w") as f:
        json.dump(meta, f, indent=1)


def t5_threads(args):
    """Flux text encoding with kiln-lora-flux-comfy at torch 1 thread, against the 2-thread server fixture."""
    torch.set_num_threads(1)
    from safetensors.torch import load_file

    comfy = _import_comfy(args.oracle)
    te = os.path.join(args.models, "text_encoders")
    clip = comfy.sd.load_clip([os.path.join(te, "ref-clip_l.safetensors"), os.path.join(te, "ref-t5xxl_fp8_e4m3fn.safetensors")],
                              clip_type=comfy.sd.CLIPType.FLUX)
    lora = comfy.utils.load_torch_file(os.path.join(args.work, "models", "loras", "kiln-lora-flux-comfy.safetensors"), safe_load=True)
    _, c = comfy.sd.load_lora_for_models(None, clip, lora, 0.0, 1.0)
    cond, pooled = c.encode_from_tokens(c.tokenize("a photo of a cat"), return_pooled=True)
    ref = load_file(os.path.join(R.FIX, "flux_dev_lora_comfy.safetensors"))
    refj = json.load(open(os.path.join(R.FIX, "flux_dev_lora_comfy.json")))
    sd = c.cond_stage_model.state_dict()
    patched_equal = {k: sha(sd[k]) == v["patched_sha256"] for k, v in refj["patched_weights"].items() if k in sd}
    out = {"what": "kiln-lora-flux-comfy at strength_clip 1.0 encoded in-process with torch.set_num_threads(1), "
                   "compared with flux_dev_lora_comfy (server, 2 threads)",
           "torch_threads": torch.get_num_threads(),
           "cond_rows0_7_max_abs_diff": float((cond[:, :8].float() - ref["cond_positive_rows0_7"]).abs().max()),
           "pooled_max_abs_diff": float((pooled.float() - ref["pooled_positive"]).abs().max()),
           "cond_sha256_equal": sha(cond.float().contiguous()) == refj["cond_sha256"]["positive"],
           "all_patched_text_encoder_weights_bit_equal": all(patched_equal.values()), "n_patched_checked": len(patched_equal)}
    print(out, flush=True)
    path = os.path.join(R.FIX, "fp8_lora_probe.json")
    meta = json.load(open(path))
    meta["t5_threads1"] = out
    with open(path, "w") as f:
        json.dump(meta, f, indent=1)
