#!/usr/bin/env python
"""Record tests/fixtures/comfyui_lora/ from a running ComfyUI 0.3.64 oracle (see ../shared/reference/oracle.md).

Run it with the ORACLE's python (it needs torch, safetensors, numpy, Pillow; the `probe` phase imports ComfyUI):

    ORACLE=/root/.cache/kiln-oracle
    PY=$ORACLE/venv/bin/python
    $PY tools/oracle/record_lora_fixtures.py loras                       # make_loras.py into WORK/models/loras
    flock /tmp/kiln-flux.lock $PY tools/oracle/record_lora_fixtures.py scaled-t5   # derived scaled-fp8 T5 (4.7 GB)
    flock /tmp/kiln-flux.lock $PY tools/oracle/record_lora_fixtures.py server --batch flux-dev
    flock /tmp/kiln-flux.lock $PY tools/oracle/record_lora_fixtures.py server --batch flux-schnell
    flock /tmp/kiln-flux.lock $PY tools/oracle/record_lora_fixtures.py server --batch flux-scaled
    $PY tools/oracle/record_lora_fixtures.py server --batch sd3
    $PY tools/oracle/record_lora_fixtures.py probe                       # fp8_lora_probe.* (in-process, light)
    flock /tmp/kiln-flux.lock $PY tools/oracle/record_lora_fixtures.py t5-variants  # rounding variants (~15 min)
    flock /tmp/kiln-flux.lock $PY tools/oracle/record_lora_fixtures.py t5-threads   # 1-thread T5 encode check
    $PY tools/oracle/record_lora_fixtures.py cases-index                 # cases.json

`server` starts one fresh `main.py --cpu` per batch with a temporary custom_nodes folder holding the small
capture node below (KilnLoraCapture: writes the CLIPTextEncode outputs, ComfyUI's LoRA key map, the patch list
and a summary of every patched weight to <output>/kiln_capture/), posts each case of the batch over HTTP, fetches
the SaveLatent file and the PNG through /view, and stops the server by its PID.

This is Kiln's own code (MIT). It only drives ComfyUI (GPL-3.0) and calls its functions at run time; the fp8
rounding re-implementation below (`independent_stochastic_round`) is written from the rule in the fixtures
README and is used to check that the rule, as written there, reproduces ComfyUI's bits.
"""
import argparse
import copy
import datetime
import hashlib
import io
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zlib

import numpy as np
import torch
from safetensors.torch import load_file, save_file

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(REPO, "tests", "fixtures", "comfyui_lora")
BASE_FIX = os.path.join(REPO, "tests", "fixtures", "comfyui")
COMFY_COMMIT = "a125cd84b054a57729b5eecab930ca9408719832"

sys.path.insert(0, FIX)
import make_loras  # noqa: E402

# --------------------------------------------------------------------------------------------------------------
# the capture node (written into a temporary custom_nodes folder; never part of Kiln)
CAPTURE_NODE = r'''
import hashlib, json, os
import torch
import folder_paths
import comfy.lora
import comfy.model_management
from safetensors.torch import save_file


def _target(v):
    if isinstance(v, str):
        return v
    off = v[1] if len(v) > 1 else None
    fn = v[2] if len(v) > 2 else None
    return [v[0], list(off) if off is not None else None, getattr(fn, "__name__", None) if fn is not None else None]


def _bytes(t):
    return t.detach().contiguous().cpu().reshape(-1).view(torch.uint8).numpy().tobytes()


def _runs(mask):
    out, start = [], None
    m = mask.tolist()
    for i, x in enumerate(m + [False]):
        if x and start is None:
            start = i
        elif not x and start is not None:
            out.append([start, i])
            start = None
    return out


def _patch_list(plist):
    out = []
    for p in plist:
        strength, v, strength_model, offset, function = p
        d = {"strength": strength, "strength_model": strength_model,
             "offset": list(offset) if offset is not None else None,
             "function": getattr(function, "__name__", None) if function is not None else None,
             "adapter": type(v).__name__}
        w = getattr(v, "weights", None)
        if w is not None:
            d["up_shape"] = list(w[0].shape); d["down_shape"] = list(w[1].shape)
            d["up_dtype"] = str(w[0].dtype); d["alpha"] = w[2]
        out.append(d)
    return out


def _summary(patcher, weight_keys, tensors, prefix):
    comfy.model_management.load_models_gpu([patcher])
    sd = patcher.model.state_dict()
    out = {}
    for key in sorted(patcher.patches):
        w = sd[key]
        b = patcher.backup.get(key)
        d = {"dtype": str(w.dtype), "shape": list(w.shape), "patched_sha256": hashlib.sha256(_bytes(w)).hexdigest(),
             "patches": _patch_list(patcher.patches[key])}
        if b is not None:
            o = b.weight
            d["original_sha256"] = hashlib.sha256(_bytes(o)).hexdigest()
            delta = (w.float() - o.float()).reshape(w.shape[0], -1)
            d["delta_max_abs"] = float(delta.abs().max())
            d["changed_rows"] = _runs((delta != 0).any(dim=1))
        sk = key[:-len("weight")] + "scale_weight" if key.endswith(".weight") else None
        if sk is not None and sk in sd:
            d["scale_weight"] = float(sd[sk])
        if key in weight_keys:
            tensors[prefix + "patched::" + key] = w.detach().contiguous().cpu().view(torch.uint8) if w.element_size() == 1 else w.detach().cpu().contiguous()
            if b is not None:
                tensors[prefix + "original::" + key] = b.weight.detach().contiguous().cpu().view(torch.uint8) if w.element_size() == 1 else b.weight.detach().cpu().contiguous()
        out[key] = d
    return out


class KilnLoraCapture:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"name": ("STRING", {"default": "capture"})},
                "optional": {"conditioning": ("CONDITIONING",), "conditioning_2": ("CONDITIONING",),
                             "model": ("MODEL",), "clip": ("CLIP",), "samples": ("LATENT",),
                             "weight_keys": ("STRING", {"default": ""})}}
    RETURN_TYPES = ()
    FUNCTION = "capture"
    OUTPUT_NODE = True
    CATEGORY = "kiln_test"

    def capture(self, name, conditioning=None, conditioning_2=None, model=None, clip=None, samples=None, weight_keys=""):
        out_dir = os.path.join(folder_paths.get_output_directory(), "kiln_capture")
        os.makedirs(out_dir, exist_ok=True)
        wk = set(k for k in weight_keys.split(",") if k)
        tensors, meta = {}, {}
        for tag, c in (("positive", conditioning), ("negative", conditioning_2)):
            if c is None:
                continue
            tensors["cond_" + tag] = c[0][0].detach().float().contiguous().cpu()
            extra = c[0][1]
            if extra.get("pooled_output") is not None:
                tensors["pooled_" + tag] = extra["pooled_output"].detach().float().contiguous().cpu()
            meta["cond_keys_" + tag] = sorted(extra.keys())
            meta["cond_dtype_" + tag] = str(c[0][0].dtype)
        if model is not None:
            meta["unet_key_map"] = {k: _target(v) for k, v in comfy.lora.model_lora_keys_unet(model.model, {}).items()}
            meta["model_patches"] = _summary(model, wk, tensors, "model::")
            meta["model_class"] = type(model.model).__name__
            meta["unet_dtype"] = str(model.model.get_dtype())
        if clip is not None:
            meta["clip_key_map"] = {k: _target(v) for k, v in comfy.lora.model_lora_keys_clip(clip.cond_stage_model, {}).items()}
            meta["clip_patches"] = _summary(clip.patcher, wk, tensors, "clip::")
            sd = clip.cond_stage_model.state_dict()
            meta["clip_dtypes"] = {k: str(v.dtype) for k, v in sd.items()
                                   if k.endswith(("layers.0.self_attn.q_proj.weight", "block.0.layer.0.SelfAttention.q.weight",
                                                  "final_layer_norm.weight", "scaled_fp8", "block.0.layer.0.SelfAttention.q.scale_weight"))}
        save_file(tensors, os.path.join(out_dir, name + ".safetensors"))
        with open(os.path.join(out_dir, name + ".json"), "w") as f:
            json.dump(meta, f)
        return {}


NODE_CLASS_MAPPINGS = {"KilnLoraCapture": KilnLoraCapture}
'''

# --------------------------------------------------------------------------------------------------------------
T5_Q0 = "t5xxl.transformer.encoder.block.0.layer.0.SelfAttention.q.weight"
T5_WO0 = "t5xxl.transformer.encoder.block.0.layer.1.DenseReluDense.wo.weight"

CASES = [
    # "internal" runs: the unchanged e2e_flow graph re-run on the same server, so that each LoRA case is compared with
    # a LoRA-less run of the same machine (they are not written as fixtures; their drift against e2e_flow is recorded)
    dict(name="flux_dev_euler_simple@rerun", batch="flux-dev", base="flux_dev_euler_simple", loras=[], internal=True),
    dict(name="flux_schnell_euler_simple@rerun", batch="flux-schnell", base="flux_schnell_euler_simple", loras=[],
         internal=True),
    dict(name="sd3_euler_simple@rerun", batch="sd3", base="sd3_euler_simple", loras=[], internal=True),
    # flux-dev batch: one server; the xlabs runs first (model-only, the unpatched text encoders)
    dict(name="flux_dev_lora_xlabs_notrigger", batch="flux-dev", base="flux_dev_euler_simple",
         loras=[("kiln-lora-flux-xlabs-notrigger.safetensors", "LoraLoaderModelOnly", 1.0, None)],
         expect_no_effect=True),
    dict(name="flux_dev_lora_xlabs", batch="flux-dev", base="flux_dev_euler_simple",
         loras=[("kiln-lora-flux-xlabs.safetensors", "LoraLoaderModelOnly", 1.0, None)]),
    dict(name="flux_dev_lora_comfy", batch="flux-dev", base="flux_dev_euler_simple",
         loras=[("kiln-lora-flux-comfy.safetensors", "LoraLoader", 0.8, 1.0)], weight_keys=[T5_Q0, T5_WO0]),
    dict(name="flux_dev_lora_kohya", batch="flux-dev", base="flux_dev_euler_simple",
         loras=[("kiln-lora-flux-kohya.safetensors", "LoraLoader", 1.0, 0.6)], weight_keys=[T5_Q0, T5_WO0]),
    dict(name="flux_schnell_lora_peft", batch="flux-schnell", base="flux_schnell_euler_simple",
         loras=[("kiln-lora-flux-peft.safetensors", "LoraLoader", 0.9, 1.0)]),
    dict(name="flux_dev_scaled_t5", batch="flux-scaled", base="flux_dev_euler_simple", loras=[],
         t5="ref-t5xxl_fp8_e4m3fn_scaled.safetensors"),
    dict(name="flux_dev_lora_comfy_scaled_t5", batch="flux-scaled", base="flux_dev_euler_simple",
         base_case="flux_dev_scaled_t5", t5="ref-t5xxl_fp8_e4m3fn_scaled.safetensors",
         loras=[("kiln-lora-flux-comfy.safetensors", "LoraLoader", 0.8, 1.0)], weight_keys=[T5_Q0, T5_WO0]),
    dict(name="sd3_lora_comfy", batch="sd3", base="sd3_euler_simple",
         loras=[("kiln-lora-sd3-comfy.safetensors", "LoraLoader", 0.8, 1.0)]),
    dict(name="sd3_parts_lora_comfy", batch="sd3", base="sd3_parts_euler_simple",
         loras=[("kiln-lora-sd3-comfy.safetensors", "LoraLoader", 0.8, 1.0)], expect_equal="sd3_lora_comfy"),
    dict(name="sd3_lora_peft", batch="sd3", base="sd3_euler_simple",
         loras=[("kiln-lora-sd3-peft.safetensors", "LoraLoader", 1.0, 1.0)]),
    dict(name="sd3_lora_kohya", batch="sd3", base="sd3_euler_simple",
         loras=[("kiln-lora-sd3-kohya.safetensors", "LoraLoader", 1.2, -0.5)]),
    dict(name="sd3_lora_stack", batch="sd3", base="sd3_euler_simple",
         loras=[("kiln-lora-sd3-comfy.safetensors", "LoraLoader", 0.8, 1.0),
                ("kiln-lora-sd3-kohya.safetensors", "LoraLoader", 0.5, 0.5)]),
]

MODEL_FILE_IDS = {
    "ref-flux-dev.safetensors": ("diffusion_models", "flux-dev-model"),
    "ref-flux-schnell.safetensors": ("diffusion_models", "flux-schnell-model"),
    "ref-clip_l.safetensors": ("text_encoders", "clip_l"),
    "ref-clip_g.safetensors": ("text_encoders", "clip_g"),
    "ref-t5xxl_fp8_e4m3fn.safetensors": ("text_encoders", "t5xxl"),
    "ref-vae16.safetensors": ("vae", "vae"),
    "ref-sd3-mmdit.safetensors": ("diffusion_models", "sd3-mmdit"),
    "ref-sd3.safetensors": ("checkpoints", "sd3-checkpoint"),
}
SCALED_T5 = "ref-t5xxl_fp8_e4m3fn_scaled.safetensors"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            h.update(block)
    return h.hexdigest()


def sha256_t(t):
    return hashlib.sha256(t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()).hexdigest()


def model_sha256(name):
    for fn in ("flux_keys.json", "sd3_keys.json"):
        files = json.load(open(os.path.join(BASE_FIX, fn)))["files"]
        fid = MODEL_FILE_IDS[name][1]
        if fid in files:
            return files[fid]["sha256"]
    raise KeyError(name)


# --------------------------------------------------------------------------------------------------------------
# graph building
def base_case_json(base):
    return json.load(open(os.path.join(BASE_FIX, "e2e_flow", base + ".json")))


def build_workflow(case):
    wf = copy.deepcopy(base_case_json(case["base"])["workflow"])
    name = case["name"]
    wf["9"]["inputs"]["filename_prefix"] = "fixtures_lora/" + name
    wf["10"]["inputs"]["filename_prefix"] = "fixtures_lora/latents/" + name
    if case.get("t5"):
        wf["11"]["inputs"]["clip_name2"] = case["t5"]
    encoders = [nid for nid, n in wf.items() if n["class_type"] == "CLIPTextEncode"]
    model_src = wf["3"]["inputs"]["model"]
    clip_src = wf[encoders[0]]["inputs"]["clip"]
    for idx, (lora, loader, sm, sc) in enumerate(case["loras"]):
        nid = str(17 + idx)
        if loader == "LoraLoader":
            wf[nid] = {"class_type": "LoraLoader", "inputs": {"lora_name": lora, "strength_model": sm,
                                                              "strength_clip": sc, "model": model_src, "clip": clip_src}}
            clip_src = [nid, 1]
        else:
            wf[nid] = {"class_type": "LoraLoaderModelOnly", "inputs": {"lora_name": lora, "strength_model": sm,
                                                                       "model": model_src}}
        model_src = [nid, 0]
    wf["3"]["inputs"]["model"] = model_src
    for e in encoders:
        wf[e]["inputs"]["clip"] = clip_src
    return wf, model_src, clip_src, encoders


def run_graph(case, wf, model_src, clip_src, encoders):
    g = copy.deepcopy(wf)
    cap = {"name": case["name"], "model": model_src, "clip": clip_src, "samples": ["3", 0],
           "conditioning": [encoders[0], 0], "weight_keys": ",".join(case.get("weight_keys", []))}
    neg = [e for e in encoders if e != "6"]
    assert encoders[0] == "6"
    if neg:
        cap["conditioning_2"] = [neg[0], 0]
    g["99"] = {"class_type": "KilnLoraCapture", "inputs": cap}
    return g


# --------------------------------------------------------------------------------------------------------------
# server
class Server:
    def __init__(self, oracle, models, work, tag):
        self.oracle, self.models, self.work = oracle, models, work
        self.out = os.path.join(work, "out-" + tag)
        shutil.rmtree(self.out, ignore_errors=True)
        os.makedirs(self.out)
        nodes = os.path.join(work, "custom_nodes", "kiln_lora_capture")
        os.makedirs(nodes, exist_ok=True)
        with open(os.path.join(nodes, "__init__.py"), "w") as f:
            f.write(CAPTURE_NODE)
        self.yaml = os.path.join(work, "extra_model_paths.yaml")
        with open(self.yaml, "w") as f:
            f.write(f"kiln_ref:\n  base_path: {models}\n  diffusion_models: diffusion_models\n"
                    f"  text_encoders: text_encoders\n  vae: vae\n  checkpoints: checkpoints\n"
                    f"kiln_lora:\n  base_path: {work}/models\n  loras: loras\n  text_encoders: text_encoders\n"
                    f"  custom_nodes: {work}/custom_nodes\n")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.log_path = os.path.join(work, f"server-{tag}.log")
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        cmd = [os.path.join(self.oracle, "venv", "bin", "python"), "main.py", "--cpu", "--listen", "127.0.0.1",
               "--port", str(self.port), "--disable-auto-launch", "--output-directory", self.out,
               "--extra-model-paths-config", self.yaml]
        self.log = open(self.log_path, "w")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(cmd, cwd=os.path.join(self.oracle, "ComfyUI"), stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        t0 = time.time()
        while time.time() - t0 < 120:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited; see " + self.log_path)
            try:
                urllib.request.urlopen(self.url + "/system_stats", timeout=2).read()
                self.start_s = time.time() - t0
                return
            except Exception:
                time.sleep(0.5)
        raise RuntimeError("server did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def get(self, path):
        return urllib.request.urlopen(self.url + path, timeout=60).read()

    def run(self, graph):
        pos = os.path.getsize(self.log_path)
        body = json.dumps({"prompt": graph, "client_id": "kiln-lora-recorder"}).encode()
        req = urllib.request.Request(self.url + "/prompt", data=body, headers={"Content-Type": "application/json"})
        t0 = time.time()
        pid = json.loads(urllib.request.urlopen(req, timeout=60).read())["prompt_id"]
        while True:
            h = json.loads(self.get("/history/" + pid))
            if pid in h and h[pid].get("status", {}).get("completed") is not None and (
                    h[pid]["status"].get("completed") or h[pid]["status"].get("status_str") == "error"):
                break
            time.sleep(0.25)
        wall = time.time() - t0
        time.sleep(0.3)
        with open(self.log_path) as f:
            f.seek(pos)
            log = f.read()
        return h[pid], wall, log

    def view(self, item):
        q = urllib.parse.urlencode({"filename": item["filename"], "subfolder": item["subfolder"], "type": item["type"]})
        return self.get("/view?" + q)


def log_findings(log):
    keep = ("lora key not loaded", "NOT LOADED", "ERROR", "WARNING", "Traceback", "SHAPE MISMATCH", "Exception",
            "scaled fp8", "loaded completely", "loaded partially", "Requested to load", "model weight dtype",
            "CLIP/text encoder model load device")
    return [ln for ln in log.splitlines() if any(k in ln for k in keep)]


def rel(a, b):
    a, b = a.double(), b.double()
    return {"rel_l2": float((a - b).norm() / b.norm()), "max_abs": float((a - b).abs().max()),
            "max_abs_over_max_ref": float((a - b).abs().max() / b.abs().max())}


def load_png(data):
    from PIL import Image
    im = Image.open(io.BytesIO(data))
    return torch.from_numpy(np.array(im.convert("RGB"))).unsqueeze(0)


def rerun_name(case):
    # the separate-file SD3 graph is bit-identical to the checkpoint graph (e2e_flow), so it shares its re-run
    return {"sd3_parts_euler_simple": "sd3_euler_simple"}.get(case["base"], case["base"]) + "@rerun"


def base_tensors(case, recorded):
    if case.get("base_case"):
        return recorded[case["base_case"]]
    if rerun_name(case) in recorded:
        return recorded[rerun_name(case)]
    d = load_file(os.path.join(BASE_FIX, "e2e_flow", case["base"] + ".safetensors"))
    fam = base_case_json(case["base"])["parameters"]["family"]
    if "cond_positive" not in d and not fam.startswith("flux"):  # sd3_parts stores its conditioning once, in sd3_euler_simple
        o = load_file(os.path.join(BASE_FIX, "e2e_flow", "sd3_euler_simple.safetensors"))
        for k in ("cond_positive", "cond_negative", "pooled_positive", "pooled_negative"):
            d[k] = o[k]
    if fam.startswith("flux"):
        p = load_file(os.path.join(BASE_FIX, "flux_t5_probe.safetensors"))
        d["cond_positive"] = p["t5_cond"]
        d["pooled_positive"] = p["clip_l_pooled"]
    return d


def phase_server(args):
    batch = args.batch
    cases = [c for c in CASES if c["batch"] == batch and (not args.only or c["name"] in args.only.split(","))]
    os.makedirs(FIX, exist_ok=True)
    srv = Server(args.oracle, args.models, args.work, batch)
    srv.start()
    print(f"server up on {srv.port} in {srv.start_s:.1f} s", flush=True)
    recorded = {}
    try:
        for case in cases:
            wf, model_src, clip_src, encoders = build_workflow(case)
            hist, wall, log = srv.run(run_graph(case, wf, model_src, clip_src, encoders))
            status = hist["status"]
            if status.get("status_str") != "success":
                print(json.dumps(status, indent=1)[:4000])
                print(log[-4000:])
                raise RuntimeError(case["name"] + " failed")
            outputs = {k: v for k, v in hist["outputs"].items() if k != "99"}
            lat_bytes = srv.view(outputs["10"]["latents"][0])
            lat = load_file_bytes(lat_bytes)["latent_tensor"].float()
            img = load_png(srv.view(outputs["9"]["images"][0]))
            cap_dir = os.path.join(srv.out, "kiln_capture")
            cap = load_file(os.path.join(cap_dir, case["name"] + ".safetensors"))
            meta = json.load(open(os.path.join(cap_dir, case["name"] + ".json")))
            recorded[case["name"]] = {"latent": lat, "image": img, **{k: v for k, v in cap.items() if "::" not in k}}
            if case.get("internal"):
                fixture = base_tensors(dict(case, base_case=None), {})  # the e2e_flow fixture
                drift = {"latent": rel(lat, fixture["latent"]),
                         "image_max_abs_diff": int((img.int() - fixture["image"].int()).abs().max()),
                         "image_mean_abs_diff": float((img.float() - fixture["image"].float()).abs().mean())}
                for k in ("cond_positive", "pooled_positive", "cond_negative", "pooled_negative"):
                    if k in cap and k in fixture:
                        drift[k] = rel(cap[k], fixture[k])
                recorded[case["name"]]["drift_vs_fixture"] = drift
                print(case["name"], json.dumps(drift), flush=True)
            else:
                write_case(case, wf, outputs, wall, log, lat, img, cap, meta, recorded, args)
            print(f"{case['name']}: {wall:.1f} s", flush=True)
    finally:
        srv.stop()


def load_file_bytes(b):
    from safetensors.torch import load
    return load(b)


def write_case(case, wf, outputs, wall, log, lat, img, cap, meta, recorded, args):
    name = case["name"]
    base = base_tensors(case, recorded)
    bj = base_case_json(case["base"])
    fam = bj["parameters"]["family"]
    flux = fam.startswith("flux")
    params = dict(bj["parameters"])
    params["loras"] = [{"lora_name": name_, "loader": ld, "strength_model": sm, "strength_clip": sc}
                       for (name_, ld, sm, sc) in case["loras"]]
    if case.get("t5"):
        params["t5"] = case["t5"]
    model_files = []
    for n in wf.values():
        for k in ("unet_name", "clip_name1", "clip_name2", "vae_name", "ckpt_name"):
            fn = n["inputs"].get(k)
            if fn and fn not in [m["name"] for m in model_files]:
                if fn == SCALED_T5:
                    model_files.append({"name": fn, "folder": "text_encoders", "file_id": "t5xxl-scaled",
                                        "sha256": make_loras.SCALED_T5_SHA256 or sha256_file(
                                            os.path.join(args.work, "models", "text_encoders", fn)),
                                        "rebuild": "make_loras.py --scaled-t5 <ref-t5xxl_fp8_e4m3fn> <this file>"})
                else:
                    folder, fid = MODEL_FILE_IDS[fn]
                    model_files.append({"name": fn, "folder": folder, "file_id": fid, "sha256": model_sha256(fn)})
    lora_files = []
    for (l, _ld, _sm, _sc) in case["loras"]:  # noqa: E741
        if l not in [x["name"] for x in lora_files]:
            spec = make_loras.FILES[l]
            lora_files.append({"name": l, "folder": "loras", "sha256": sha256_file(os.path.join(args.work, "models", "loras", l)),
                               "style": spec["style"], "dtype": spec["dtype"], "rank": spec["rank"], "alpha": spec["alpha"],
                               "n_tensors": len(make_loras.build(spec))})
    tensors = {"latent": lat.contiguous(), "image": img.contiguous()}
    notes = {}
    checks = {}
    # conditioning
    cp = cap["cond_positive"]
    if flux:
        tensors["cond_positive_rows0_7"] = cp[:, :8].contiguous()
        notes["cond_positive"] = ("full [1,256,4096] not stored; rows 0..7 (the 7 tokens of the prompt and the EOS) are "
                                  "cond_positive_rows0_7; sha256 of the full float32 tensor in cond_sha256")
    else:
        assert float(cp[:, :, 2048:].abs().max()) == 0.0
        tensors["cond_positive_rows0_7"] = cp[:, :8, :2048].contiguous()
        cn = cap["cond_negative"]
        assert float(cn[:, :, 2048:].abs().max()) == 0.0
        tensors["cond_negative_rows0_7"] = cn[:, :8, :2048].contiguous()
        tensors["pooled_negative"] = cap["pooled_negative"].contiguous()
        notes["cond"] = ("SD3 cond [1,77,4096] is CLIP-L(768) ++ CLIP-G(1280) zero-padded to 4096 (columns 2048.. are "
                         "exactly 0, checked); stored: rows 0..7, columns 0..2047; sha256 of the full tensors in cond_sha256")
    tensors["pooled_positive"] = cap["pooled_positive"].contiguous()
    cond_sha = {"positive": sha256_t(cap["cond_positive"])}
    if "cond_negative" in cap:
        cond_sha["negative"] = sha256_t(cap["cond_negative"])
    # effect against the LoRA-less run
    rerun = rerun_name(case) in recorded and not case.get("base_case")
    effect = {"base_case": case.get("base_case") or ("e2e_flow/" + case["base"] + (
                  ", re-run on the same server (see base_rerun_drift_vs_fixture)" if rerun else "")),
              "latent": rel(lat, base["latent"]),
              "image_mean_abs_diff": float((img.float() - base["image"].float()).abs().mean()),
              "cond_positive": rel(cap["cond_positive"], base["cond_positive"]),
              "pooled_positive": rel(cap["pooled_positive"], base["pooled_positive"])}
    if "cond_negative" in cap:
        effect["cond_negative"] = rel(cap["cond_negative"], base["cond_negative"])
        effect["pooled_negative"] = rel(cap["pooled_negative"], base["pooled_negative"])
    if rerun:
        effect["base_rerun_drift_vs_fixture"] = recorded[rerun_name(case)]["drift_vs_fixture"]
        fx = base_tensors(dict(case, base_case=None), {})
        effect["latent_vs_e2e_flow_fixture"] = rel(lat, fx["latent"])
    if case.get("expect_no_effect"):
        checks["latent_bit_equal_to_base"] = bool(torch.equal(lat, base["latent"]))
        checks["image_equal_to_base"] = bool(torch.equal(img, base["image"]))
    if case.get("expect_equal"):
        other = recorded.get(case["expect_equal"])
        if other is not None:
            checks[f"latent_bit_equal_to_{case['expect_equal']}"] = bool(torch.equal(lat, other["latent"]))
            checks[f"image_equal_to_{case['expect_equal']}"] = bool(torch.equal(img, other["image"]))
            checks[f"cond_bit_equal_to_{case['expect_equal']}"] = bool(torch.equal(cap["cond_positive"], other["cond_positive"]))
    # fp8 check of the patched T5 weights against the README rule
    for key in case.get("weight_keys", []):
        pk = "clip::patched::" + key
        if pk in cap:
            checks["t5_rule::" + key] = check_t5_weight(case, key, cap, meta)
    not_loaded = [ln.split("lora key not loaded: ", 1)[1].strip() for ln in log.splitlines() if "lora key not loaded: " in ln]
    patched = {}
    for part in ("model_patches", "clip_patches"):
        for k, d in meta.get(part, {}).items():
            patched[k] = {x: d[x] for x in ("dtype", "shape", "delta_max_abs", "changed_rows", "patched_sha256",
                                            "original_sha256", "scale_weight") if x in d}
            patched[k]["patches"] = [{x: p[x] for x in ("strength", "offset", "function", "adapter", "up_shape",
                                                        "down_shape", "alpha") if x in p} for p in d["patches"]]
    tol = ({"latent_rtol": 1e-3, "image_max_abs": 2, "image_mean_abs": 0.1, "t5_cond_max_abs": 1e-2, "pooled_max_abs": 1e-4}
           if flux else {"latent_rtol": 1e-4, "image_max_abs": 2, "image_mean_abs": 0.1, "cond_max_abs": 1e-4,
                         "pooled_max_abs": 1e-4})
    out = {
        "case": name,
        "parameters": params,
        "model_files": model_files,
        "lora_files": lora_files,
        "workflow": wf,
        "server_outputs": outputs,
        "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")} for k, v in tensors.items()},
        "tolerances": tol,
        "lora_effect": effect,
        "cond_sha256": cond_sha,
        "checks": checks,
        "log": {"lora_key_not_loaded": not_loaded, "lines": log_findings(log)},
        "patched_weights": patched,
        "stats": {"latent_mean": float(lat.mean()), "latent_std": float(lat.std()), "latent_max_abs": float(lat.abs().max()),
                  "image_mean": float(img.float().mean()), "image_std": float(img.float().std())},
        "notes": notes,
        "server_wall_s": round(wall, 2),
        "environment": environment(meta),
    }
    with open(os.path.join(FIX, name + ".json"), "w") as f:
        json.dump(out, f, indent=1)
    save_file(tensors, os.path.join(FIX, name + ".safetensors"))
    # the key maps, once per model/clip kind (facts for the implementer)
    km_path = os.path.join(FIX, "key_maps.json")
    km = json.load(open(km_path)) if os.path.exists(km_path) else {}
    mk = {"flux-dev": "flux_dev", "flux-schnell": "flux_schnell", "sd3": "sd3", "sd3-parts": "sd3"}[fam]
    if "unet_key_map" in meta:
        km.setdefault("unet", {})[mk] = meta["unet_key_map"]
    if "clip_key_map" in meta:
        ck = {"flux-dev": "flux_clip_l_t5", "flux-schnell": "flux_clip_l_t5", "sd3": "sd3_clip_l_g",
              "sd3-parts": "sd3_clip_l_g"}[fam]
        if case.get("t5"):
            ck += "_scaled"
        km.setdefault("clip", {})[ck] = meta["clip_key_map"]
    with open(km_path, "w") as f:
        json.dump(km, f, indent=0, sort_keys=True)


def environment(meta):
    return {"comfyui_commit": COMFY_COMMIT, "torch": torch.__version__, "device": "cpu",
            "torch_threads": torch.get_num_threads(), "machine": f"{platform.machine()}, {os.cpu_count()} cores, no GPU",
            "recorded": datetime.date.today().isoformat(), "model_class": meta.get("model_class"),
            "unet_dtype": meta.get("unet_dtype"), "clip_dtypes": meta.get("clip_dtypes")}


# --------------------------------------------------------------------------------------------------------------
# independent implementation of the fp8 rule (written from the README, checked against ComfyUI's bits)
FP8 = {torch.float8_e4m3fn: (4, 3, 7), torch.float8_e5m2: (5, 2, 15)}


def crc32_seed(key):
    return zlib.crc32(key.encode("utf-8")) & 0xFFFFFFFF


def independent_stochastic_round(value, dtype, seed):
    """value: float32 tensor (the patched weight in the units of the stored tensor). Returns a tensor of dtype.

    Written from the rule in tests/fixtures/comfyui_lora/README.md ("fp8 rule"); float64 is used wherever the
    rule's float16 steps are exact, and explicit float16 roundings where they are not."""
    if dtype not in FP8:
        return value.to(dtype)
    ebits, mbits, bias = FP8[dtype]
    gen = torch.Generator().manual_seed(seed)
    rows = value.shape[0]
    n_slices = max(1, value.numel() / (4096 * 4096))
    step = max(1, round(rows / n_slices))
    out = torch.empty(value.shape, dtype=dtype)
    fmax = float(torch.finfo(dtype).max)
    for r0 in range(0, rows, step):
        h = value[r0:r0 + step].to(torch.float16)            # 1. round to float16 (nearest even)
        a = h.abs().double()                                   # |h|, exact
        with np.errstate(divide="ignore"):
            lg = torch.from_numpy(np.log2(a.numpy()))          # 2. log2(|h|), rounded to float16, floored
        e = torch.floor(lg.to(torch.float16).double())
        eb = (e + bias).clamp(0, 2 ** ebits - 1)               # 3. biased exponent clamped to [0, 2^E - 1]
        normal = eb != 0
        p2 = torch.pow(2.0, eb - bias)
        # 4. mantissa in units of the last fp8 mantissa bit (exact; may be < 0 when step 2 rounded up)
        m = torch.where(normal, (a / p2 - 1.0) * 2 ** mbits, a * 2.0 ** (bias - 1 + mbits))
        u = torch.rand(h.shape, dtype=torch.float16, generator=gen)   # 5. one float16 uniform per element
        s = (m + u.double()).to(torch.float16)                 # 6. the sum, rounded to float16
        k = torch.floor(s.double())                            # 7. floor
        mag = torch.where(normal, p2 * (1.0 + k / 2 ** mbits), 2.0 ** (1 - bias) * (k / 2 ** mbits))
        sign = torch.where(a == 0, torch.zeros_like(a), torch.sign(h.double()))
        res = (sign * mag).clamp(-fmax, fmax)                  # 8. clamp to the fp8 range
        out[r0:r0 + step] = res.to(torch.float16).to(dtype)
    return out


def lora_delta(up, down, alpha, strength):
    up32, down32 = up.float(), down.float()
    scale = (alpha / down.shape[0]) if alpha is not None else 1.0
    d = torch.mm(up32.flatten(1), down32.flatten(1))
    return d * (strength * scale)


def check_t5_weight(case, key, cap, meta):
    """Recompute the patched T5 weight (plain or scaled fp8) from the original bits + the LoRA with the README rule."""
    orig_u8 = cap["clip::original::" + key]
    patched_u8 = cap["clip::patched::" + key]
    d = meta["clip_patches"][key]
    dtype = getattr(torch, d["dtype"].replace("torch.", ""))
    orig = orig_u8.view(dtype)
    w = orig.float()
    scale = d.get("scale_weight")
    if scale is not None:
        w = w * torch.tensor(scale, dtype=torch.float32)
    lora_name, _, _, sc = case["loras"][0]
    lora = load_file(os.path.join(ARGS.work, "models", "loras", lora_name))
    (p,) = d["patches"]
    # find the lora module whose up/down shapes match and that maps to key (by name)
    mod = t5_lora_module(lora, key)
    alpha = float(lora[mod + ".alpha"]) if mod + ".alpha" in lora else None
    w = w + lora_delta(lora[mod + ".lora_up.weight"], lora[mod + ".lora_down.weight"], alpha, sc)
    if scale is not None:
        w = w / torch.tensor(scale, dtype=torch.float32)
    mine = independent_stochastic_round(w, dtype, crc32_seed(key))
    equal = bool(torch.equal(mine.view(torch.uint8), patched_u8))
    rne = w.to(dtype).view(torch.uint8)
    return {"seed_key": key, "seed": crc32_seed(key), "lora_module": mod, "scale_weight": scale,
            "bit_equal_to_readme_rule": equal,
            "fraction_of_values_differing_from_round_to_nearest": float((rne != patched_u8).float().mean()),
            "patched_sha256": hashlib.sha256(patched_u8.numpy().tobytes()).hexdigest()}


def t5_lora_module(lora, key):
    rest = key[len("t5xxl.transformer."):-len(".weight")]
    for cand in ("text_encoders.t5xxl.transformer." + rest, "lora_te2_" + rest.replace(".", "_"),
                 "lora_te3_" + rest.replace(".", "_")):
        if cand + ".lora_up.weight" in lora:
            return cand
    raise KeyError(key)


# --------------------------------------------------------------------------------------------------------------
def phase_loras(args):
    d = os.path.join(args.work, "models", "loras")
    ok = make_loras.make_loras(d)
    sys.exit(0 if ok else 1)


def phase_scaled_t5(args):
    src = os.path.join(args.models, "text_encoders", "ref-t5xxl_fp8_e4m3fn.safetensors")
    dst = os.path.join(args.work, "models", "text_encoders", SCALED_T5)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    sys.exit(0 if make_loras.scaled_t5(src, dst) else 1)


def phase_cases_index(args):
    idx = {"note": "LoRA end-to-end cases on the reduced FLUX / SD3 reference files (see README.md). LoRA files: "
                   "make_loras.py; model files: ../comfyui/make_flow_checkpoints.py; graphs: each <case>.json 'workflow'.",
           "cases": []}
    for c in CASES:
        p = os.path.join(FIX, c["name"] + ".json")
        if not os.path.exists(p):
            continue
        j = json.load(open(p))
        idx["cases"].append({"name": c["name"], "base": c.get("base_case") or c["base"], "loras": j["parameters"]["loras"],
                             "t5": c.get("t5"), "latent_rel_l2_vs_base": j["lora_effect"]["latent"]["rel_l2"],
                             "expect_no_effect": bool(c.get("expect_no_effect"))})
    with open(os.path.join(FIX, "cases.json"), "w") as f:
        json.dump(idx, f, indent=1)
    # key_maps.json: store a map that equals another one as a reference, and schnell as dev minus its extra keys
    km_path = os.path.join(FIX, "key_maps.json")
    km = json.load(open(km_path))
    for part in ("unet", "clip"):
        names = sorted(km.get(part, {}))
        for n in names:
            m = km[part][n]
            if not isinstance(m, dict):
                continue
            for o in names:
                if o < n and isinstance(km[part][o], dict) and km[part][o] == m:
                    km[part][n] = "same as " + part + "/" + o
                    break
    u = km.get("unet", {})
    if isinstance(u.get("flux_schnell"), dict) and isinstance(u.get("flux_dev"), dict):
        dev, sch = u["flux_dev"], u["flux_schnell"]
        if all(dev.get(k) == v for k, v in sch.items()):
            u["flux_schnell"] = {"same_as": "unet/flux_dev", "minus_keys": sorted(k for k in dev if k not in sch)}
    km["about"] = ("ComfyUI 0.3.64's LoRA key maps for the reduced reference models, as comfy.lora.model_lora_keys_unet / "
                   "model_lora_keys_clip build them: {lora module name: target} where target is the model state-dict key, "
                   "or [key, offset [dim, start, length] or null, function name or null]. unet/flux_dev: ref-flux-dev "
                   "(1 double + 1 single block); unet/sd3: ref-sd3 (depth 2); clip/flux_clip_l_t5: DualCLIPLoader flux "
                   "(ref-clip_l + ref-t5xxl); clip/sd3_clip_l_g: ref-sd3's CLIP-L + CLIP-G (no T5)")
    with open(km_path, "w") as f:
        json.dump(km, f, indent=0, sort_keys=True)


ARGS = None


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("phase", choices=["loras", "scaled-t5", "server", "probe", "t5-variants", "t5-threads", "cases-index"])
    ap.add_argument("--batch", choices=["flux-dev", "flux-schnell", "flux-scaled", "sd3"])
    ap.add_argument("--only", default="")
    ap.add_argument("--oracle", default="/root/.cache/kiln-oracle")
    ap.add_argument("--models", default="/tmp/kiln-ref/flow")
    ap.add_argument("--work", default="/tmp/kiln-lora")
    ARGS = args = ap.parse_args()
    if args.phase == "loras":
        phase_loras(args)
    elif args.phase == "scaled-t5":
        phase_scaled_t5(args)
    elif args.phase == "server":
        phase_server(args)
    elif args.phase == "probe":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import record_lora_probe  # noqa
        record_lora_probe.main(args)
    elif args.phase == "t5-variants":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import record_lora_probe  # noqa
        record_lora_probe.t5_variants(args)
    elif args.phase == "t5-threads":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import record_lora_probe  # noqa
        record_lora_probe.t5_threads(args)
    elif args.phase == "cases-index":
        phase_cases_index(args)


if __name__ == "__main__":
    main()
