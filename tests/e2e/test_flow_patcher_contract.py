"""The ModelPatcher contract (issue 18) on the reduced reference SD3 and FLUX.1-dev, through the flow families'
shared server: the test pack's KilnTestPatcherContract with the features ComfyUI's DiT models run (the UNet
function wrapper, the pre-CFG, CFG and post-CFG functions, an object patch, and weight patches on ComfyUI's fused
qkv / linear1 keys, which Kiln holds as separate diffusers parameters) gives ComfyUI 0.3.64's recorded latents
(tests/fixtures/comfyui_nodes/patcher_contract): SD3 within 1e-4 of the largest value, FLUX.1 within the T5
tolerance, 1e-3. SD1.5 and SDXL: test_reference_patcher_contract.py."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import running
from .test_reference_patcher_contract import check, family_cases, replay

TOLERANCES = {"sd3": 1e-4, "flux": 1e-3}  # FLUX.1: T5-XXL's run-to-run spread (tests/fixtures/comfyui/README.md)


@pytest.fixture(scope="module")
def latents(flow_server) -> dict[str, dict[str, np.ndarray]]:
    kiln = running(flow_server)
    return {family: replay(kiln, family) for family in TOLERANCES}


@pytest.mark.parametrize("case", family_cases("sd3") + family_cases("flux"))
def test_dit_contract_case_reproduces_comfyuis_latent(latents, case):
    family = case.split("_")[0]
    check(latents[family], family, case, TOLERANCES[family])
