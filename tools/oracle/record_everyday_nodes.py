"""Record ComfyUI's answers for the everyday-node cases (tests/fixtures/comfyui_nodes/node_cases.py).

Run it with the oracle's own Python (see ../shared/reference/oracle.md), from anywhere:

    PYTHONPATH=<dir with torchaudio> <oracle>/venv/bin/python tools/oracle/record_everyday_nodes.py \\
        --comfy <oracle>/ComfyUI [--object-info-url http://127.0.0.1:8199] [--out tests/fixtures/comfyui_nodes]

It imports ComfyUI's node classes in this process (CPU, its own temporary input/output/temp folders), runs every
case, and writes into --out: `outputs.safetensors` (every output tensor, "<case id>/<output path>"),
`outputs.json` (every other output value and "ui" dict, or the error a case raised), `media/<case id>/...` (the
files a case wrote) and `versions.json`. With --object-info-url it also keeps that running server's /object_info
entries of the recorded node classes as `object_info.json`.

The oracle build has no torchaudio (ComfyUI's audio nodes import it for resampling): put a torchaudio whose
pure-Python `functional.resample` imports beside the oracle's torch on PYTHONPATH (torchaudio 2.11.0's wheel,
unpacked, does).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import inspect
import io
import json
import os
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "comfyui_nodes"

# The node classes whose /object_info entries the fixture keeps (the list, plus the image and mask nodes
# that share their modules).
OBJECT_INFO_NODES = [
    "ImageBlend", "ImageBlur", "ImageQuantize", "ImageSharpen", "ImageScaleToTotalPixels", "ImageAddNoise",
    "ImageStitch", "ResizeAndPadImage", "ImageScaleToMaxDimension", "Morphology", "ImageRGBToYUV", "ImageYUVToRGB",
    "SaveSVGNode", "WebcamCapture", "SaveAnimatedWEBP", "SaveAnimatedPNG", "GetImageSize", "ImageCrop",
    "RepeatImageBatch", "ImageFromBatch", "ImageFlip", "ImageRotate",
    "LatentCompositeMasked", "ImageCompositeMasked", "MaskComposite", "FeatherMask", "GrowMask", "MaskPreview",
    "MaskToImage", "ImageToMask", "ImageColorToMask", "SolidMask", "InvertMask", "CropMask", "ThresholdMask",
    "PorterDuffImageComposite", "SplitImageWithAlpha", "JoinImageWithAlpha",
    "LatentBlend", "LatentRotate", "LatentFlip", "LatentCrop", "LatentAdd", "LatentSubtract", "LatentMultiply",
    "LatentInterpolate", "LatentConcat", "LatentCut", "LatentBatch", "LatentBatchSeedBehavior",
    "LatentApplyOperation", "LatentApplyOperationCFG", "LatentOperationTonemapReinhard", "LatentOperationSharpen",
    "PreviewAny", "StringConcatenate", "StringSubstring", "StringLength", "CaseConverter", "StringTrim",
    "StringReplace", "StringContains", "StringCompare", "RegexMatch", "RegexExtract", "RegexReplace",
    "SaveWEBM", "SaveVideo", "CreateVideo", "GetVideoComponents", "LoadVideo",
    "LoadAudio", "SaveAudio", "SaveAudioMP3", "SaveAudioOpus", "PreviewAudio", "EmptyAudio", "TrimAudioDuration",
    "SplitAudioChannels", "AudioConcat", "AudioMerge", "AudioAdjustVolume", "RecordAudio",
    "UpscaleModelLoader", "ImageUpscaleWithModel", "CheckpointLoader", "DiffusersLoader", "HypernetworkLoader",
    "LTXVPreprocess",
]


def _load_by_path(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ComfyBackend:
    """Runs ComfyUI's node classes in this process for node_cases.run_case."""

    def __init__(self, work: Path, cases_module):
        import comfy.model_patcher
        import folder_paths
        import nodes

        self.nodes = nodes
        self.cases = cases_module
        self.input_dir, self.output_dir, self.temp_dir = (str(work / name) for name in ("input", "output", "temp"))
        folder_paths.set_input_directory(self.input_dir)
        folder_paths.set_output_directory(self.output_dir)
        folder_paths.set_temp_directory(self.temp_dir)
        folder_paths.add_model_folder_path("upscale_models", str(work / "upscale_models"), is_default=True)
        self._patcher = comfy.model_patcher.ModelPatcher

    def reset_folders(self) -> None:
        for folder in (self.input_dir, self.output_dir, self.temp_dir):
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder)

    def call(self, class_name: str, inputs: dict, hidden: bool):
        from comfy_api.latest import io as comfy_io

        node_class = self.nodes.NODE_CLASS_MAPPINGS[class_name]
        hidden_values = {"prompt": self.cases.PROMPT, "extra_pnginfo": self.cases.EXTRA_PNGINFO} if hidden else {}
        if isinstance(node_class, type) and issubclass(node_class, comfy_io.ComfyNode):
            clone = node_class.PREPARE_CLASS_CLONE({comfy_io.Hidden.prompt: hidden_values.get("prompt"),
                                                    comfy_io.Hidden.extra_pnginfo: hidden_values.get("extra_pnginfo")})
            output = clone.execute(**inputs)
            if inspect.iscoroutine(output):
                output = asyncio.run(output)
            ui = output.ui.as_dict() if hasattr(output.ui, "as_dict") else output.ui
            return tuple(output.args), ui
        instance = node_class()
        result = getattr(instance, node_class.FUNCTION)(**inputs, **hidden_values)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        if isinstance(result, dict):
            return tuple(result.get("result", ())), result.get("ui")
        return tuple(result), None

    def make_svg(self, documents: list[bytes]):
        from comfy_extras.nodes_images import SVG

        return SVG([io.BytesIO(document) for document in documents])

    def make_model(self):
        import torch

        return self._patcher(torch.nn.Linear(1, 1), torch.device("cpu"), torch.device("cpu"))


def record(comfy_dir: Path, out: Path, object_info_url: str | None, only: list[str]) -> None:
    sys.argv = [sys.argv[0], "--cpu"]
    sys.path.insert(0, str(comfy_dir))
    os.chdir(comfy_dir)
    import comfy.options

    comfy.options.enable_args_parsing()
    import torch

    torch.set_num_threads(1)
    # ComfyUI's `utils` package first, as its main.py does: nodes.py puts comfy/ first on sys.path, after which
    # `utils` (needed by server, which some extras import) would resolve to comfy/utils.py.
    import utils.install_util  # noqa: F401

    import nodes

    asyncio.run(nodes.init_extra_nodes(init_custom_nodes=False, init_api_nodes=False))
    cases_module = _load_by_path("kiln_node_cases", FIXTURES / "node_cases.py")
    makers = _load_by_path("kiln_make_upscale_models", FIXTURES / "make_upscale_models.py")
    from safetensors.torch import load_file, save_file

    tensors_path, values_path, media = out / "outputs.safetensors", out / "outputs.json", out / "media"
    all_tensors = load_file(str(tensors_path)) if only and tensors_path.exists() else {}
    all_values = json.loads(values_path.read_text()) if only and values_path.exists() else {}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        makers.build(str(work / "upscale_models"))
        backend = ComfyBackend(work, cases_module)
        for case in cases_module.all_cases():
            if only and case["id"] not in only:
                continue
            backend.reset_folders()
            all_tensors = {key: value for key, value in all_tensors.items() if not key.startswith(case["id"] + "/")}
            shutil.rmtree(media / case["id"], ignore_errors=True)
            try:
                tensors, values, files = cases_module.run_case(case, backend, str(media))
            except Exception as error:  # a case ComfyUI refuses is recorded as refused
                all_values[case["id"]] = {"error": f"{type(error).__name__}: {error}"}
                print(f"{case['id']}: {type(error).__name__}: {error}")
                continue
            all_values[case["id"]] = values
            all_tensors.update({f"{case['id']}/{name}": tensor for name, tensor in tensors.items()})
            for relative, data in files.items():
                target = media / case["id"] / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            print(f"{case['id']}: {len(tensors)} tensors, {len(files)} files")
    save_file(all_tensors, str(tensors_path))
    values_path.write_text(json.dumps(all_values, indent=1, sort_keys=True) + "\n")
    _write_versions(out)
    if object_info_url:
        with urllib.request.urlopen(object_info_url.rstrip("/") + "/object_info") as response:
            info = json.load(response)
        kept = {name: info[name] for name in OBJECT_INFO_NODES if name in info}
        (out / "object_info.json").write_text(json.dumps(kept, indent=1) + "\n")
        print(f"object_info: {len(kept)} of {len(OBJECT_INFO_NODES)} nodes")


def _write_versions(out: Path) -> None:
    from importlib.metadata import version

    import comfyui_version

    packages = ["torch", "av", "pillow", "numpy", "scipy", "spandrel", "kornia", "torchaudio"]
    found = {}
    for name in packages:
        try:
            found[name] = version(name)
        except Exception:
            module = sys.modules.get(name)
            found[name] = getattr(module, "__version__", "absent")
    found["comfyui"] = comfyui_version.__version__
    (out / "versions.json").write_text(json.dumps(found, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comfy", type=Path, required=True, help="the oracle's ComfyUI folder")
    parser.add_argument("--out", type=Path, default=FIXTURES)
    parser.add_argument("--object-info-url", help="a running oracle whose /object_info entries to keep")
    parser.add_argument("--only", nargs="*", default=[], help="re-record only these case ids")
    options = parser.parse_args()
    record(options.comfy.resolve(), options.out.resolve(), options.object_info_url, options.only)


if __name__ == "__main__":
    main()
