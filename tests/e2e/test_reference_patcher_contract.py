"""The ModelPatcher contract (issue 18): a custom node written against ComfyUI's documented ModelPatcher API (the
test pack's KilnTestPatcherContract: attention patches and replacements, block patches, the UNet function wrapper,
the pre-CFG, CFG and post-CFG functions, an object patch, and weight patches named by ComfyUI's state-dict keys,
a `("diff", ...)` delta and a `comfy.weight_adapter.LoRAAdapter`) gives ComfyUI 0.3.64's recorded final latents
(tests/fixtures/comfyui_nodes/patcher_contract, tools/oracle/record_patcher_contract.py), within 1e-4 of each
latent's largest value, on the reference SD1.5 checkpoint and the Vega-shaped SDXL of the guidance fixtures. SD3
and FLUX.1 are replayed by test_flow_patcher_contract.py.

Each family is one prompt whose branches share the loaders; every case moved the latent away from the unpatched
branch by at least 0.1 % of its largest value (ten times the tolerance; 1 % on FLUX.1) on ComfyUI (checked here too), so each proves its patch acts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from .conftest import KilnServer, running
from .guidance_runs import link, start_guidance_server
from .recorded_runs import assert_latent_close, run_prompt, saved_latents

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes" / "patcher_contract"
FAMILIES = json.loads((RECORDED / "workflows.json").read_text())
LATENT_RTOL = 1e-4


def family_cases(family: str) -> list[str]:
    return list(FAMILIES[family]["cases"]) if family in FAMILIES else []


def expected(case: str) -> np.ndarray:
    return load_file(str(RECORDED / "latents.safetensors"))[case]


def replay(server: KilnServer, family: str) -> dict[str, np.ndarray]:
    recorded = FAMILIES[family]
    outputs = run_prompt(server.url, recorded["workflow"], timeout=900)
    return saved_latents(server.url, outputs, recorded["cases"])


@pytest.fixture(scope="module")
def sd15_latents(reference_server) -> dict[str, np.ndarray]:
    return replay(running(reference_server), "sd15")


@pytest.fixture(scope="module")
def sdxl_latents(module_tmp, flow_reference_models, reference_server) -> dict[str, np.ndarray]:
    """A server with the Vega-shaped SDXL UNet (built from the guidance fixtures' layout) and the reference
    CLIP-L / CLIP-G; the SDXL prompt's latents. (It names the shared reference server, which this module's SD1.5
    cases and the next module use, only so that the server is not stopped and started again in between.)"""
    base = module_tmp("kiln-contract-sdxl")
    for name in ("ref-clip_l.safetensors", "ref-clip_g.safetensors"):
        link(flow_reference_models / "text_encoders" / name, base / "models" / "text_encoders" / name)
    kiln = start_guidance_server(base, [], {}, extra_files=("sdxl-vega",))
    try:
        return replay(kiln, "sdxl")
    finally:
        kiln.stop()


def check(latents: dict[str, np.ndarray], family: str, case: str, rtol: float = LATENT_RTOL) -> None:
    reference = expected(case)
    assert_latent_close(latents[case], reference, rtol, case)
    if not case.endswith("_plain"):
        plain = expected(f"{family}_plain")
        assert np.abs(reference - plain).max() > 10 * rtol * np.abs(plain).max(), f"{case} did not move the latent"


@pytest.mark.parametrize("case", family_cases("sd15"))
def test_sd15_contract_case_reproduces_comfyuis_latent(sd15_latents, case):
    check(sd15_latents, "sd15", case)


@pytest.mark.parametrize("case", family_cases("sdxl"))
def test_sdxl_contract_case_reproduces_comfyuis_latent(sdxl_latents, case):
    check(sdxl_latents, "sdxl", case)
