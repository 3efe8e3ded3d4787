"""Record ComfyUI's outputs for the sigma and scheduler node cases (and the /object_info of those and the sampler nodes) (tests/fixtures/comfyui_sampling_nodes/cases.py).

Run with the oracle's Python (../shared/reference/oracle.md), optionally with a running oracle server for the
nodes' /object_info entries:

    <oracle>/venv/bin/python tools/oracle/record_sampling_nodes.py --comfy <oracle>/ComfyUI \\
        [--object-info-url http://127.0.0.1:<port>]

It imports ComfyUI's node classes in this process and writes tests/fixtures/comfyui_sampling_nodes/outputs.json
(each case's output as a list of floats, or a float) and object_info.json.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import inspect
import json
import os
import sys
import types
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "comfyui_sampling_nodes"


def _cases():
    spec = importlib.util.spec_from_file_location("kiln_sigma_cases", FIXTURES / "cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Model:
    """What the nodes ask of a MODEL: its model sampling object."""

    def __init__(self, sampling):
        self.sampling = sampling

    def get_model_object(self, name):
        assert name == "model_sampling", name
        return self.sampling


def _samplings():
    import comfy.model_sampling as model_sampling

    class SD15(model_sampling.ModelSamplingDiscrete, model_sampling.EPS):
        pass

    class SD3(model_sampling.ModelSamplingDiscreteFlow, model_sampling.CONST):
        pass

    return {"sd15": SD15(None), "sd3": SD3(types.SimpleNamespace(sampling_settings={"shift": 3.0}))}


def _value(spec, samplings, karras):
    if isinstance(spec, dict) and "model" in spec:
        return _Model(samplings[spec["model"]])
    if isinstance(spec, dict) and "karras" in spec:
        return karras(spec["karras"])
    return spec


def _run(node_class, inputs):
    from comfy_api.latest import io as comfy_io

    if isinstance(node_class, type) and issubclass(node_class, comfy_io.ComfyNode):
        output = node_class.execute(**inputs)
        if inspect.iscoroutine(output):
            output = asyncio.run(output)
        return output.args[0]
    return getattr(node_class(), node_class.FUNCTION)(**inputs)[0]


def record(comfy_dir: Path, object_info_url: str | None) -> None:
    sys.argv = [sys.argv[0], "--cpu"]
    sys.path.insert(0, str(comfy_dir))
    os.chdir(comfy_dir)
    import comfy.options

    comfy.options.enable_args_parsing()
    import utils.install_util  # noqa: F401  ComfyUI's `utils` package first, as its main.py does

    import nodes
    from comfy.k_diffusion import sampling as k_sampling

    asyncio.run(nodes.init_extra_nodes(init_custom_nodes=False, init_api_nodes=False))
    cases = _cases()
    samplings = _samplings()

    def karras(steps):
        return k_sampling.get_sigmas_karras(n=steps, sigma_min=0.0291675, sigma_max=14.614642)

    outputs = {}
    for case in cases.all_cases():
        inputs = {name: _value(spec, samplings, karras) for name, spec in case["inputs"].items()}
        result = _run(nodes.NODE_CLASS_MAPPINGS[case["class"]], inputs)
        outputs[case["id"]] = result.tolist() if hasattr(result, "tolist") else float(result)
        print(case["id"], outputs[case["id"]] if isinstance(outputs[case["id"]], float) else len(outputs[case["id"]]))
    (FIXTURES / "outputs.json").write_text(json.dumps(outputs, indent=1) + "\n")
    if object_info_url:
        with urllib.request.urlopen(object_info_url.rstrip("/") + "/object_info") as response:
            info = json.load(response)
        kept = {name: info[name] for name in cases.OBJECT_INFO_NODES}
        (FIXTURES / "object_info.json").write_text(json.dumps(kept, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comfy", type=Path, required=True)
    parser.add_argument("--object-info-url")
    options = parser.parse_args()
    record(options.comfy.resolve(), options.object_info_url)


if __name__ == "__main__":
    main()
