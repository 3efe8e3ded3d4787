"""Record ComfyUI 0.3.64's Chroma (PixArt T5) tokenization, with and without T5TokenizerOptions' options.

    ORACLE=/root/.cache/kiln-oracle
    $ORACLE/venv/bin/python tools/oracle/record_chroma_tokens.py --oracle $ORACLE

Runs in the oracle's interpreter with ComfyUI's folder on sys.path: `comfy.text_encoders.pixart_t5.PixArtTokenizer`
(the tokenizer ComfyUI's `Chroma` model and CLIPLoader type chroma use) tokenizes each prompt of PROMPTS under each
option set of OPTIONS (the `tokenizer_options` T5TokenizerOptions sets on the CLIP; ComfyUI's CLIP.tokenize passes
them as `tokenizer_options=`). Writes tests/fixtures/comfyui_image/chroma/tokens.json: per case the (id, weight)
pairs of the `t5xxl` sequence.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_image" / "chroma" / "tokens.json"
PROMPTS = ["a cat", "", "A photo of (a red fox:1.3) in the snow, golden hour", "héllo wörld 123"]
OPTIONS = {"none": {}, "min_padding_3": {"t5xxl_min_padding": 3, "t5xxl_min_length": 0},
           "min_length_8": {"t5xxl_min_padding": 0, "t5xxl_min_length": 8},
           "both": {"t5xxl_min_padding": 2, "t5xxl_min_length": 12}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--oracle", required=True)
    options = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(Path(options.oracle) / "ComfyUI"))
    sys.argv = [sys.argv[0], "--cpu"]
    import comfy.options

    comfy.options.enable_args_parsing()
    import comfy.text_encoders.pixart_t5

    tokenizer = comfy.text_encoders.pixart_t5.PixArtTokenizer()
    cases = []
    for prompt in PROMPTS:
        for name, tokenizer_options in OPTIONS.items():
            tokens = tokenizer.tokenize_with_weights(prompt, tokenizer_options=tokenizer_options)
            assert list(tokens) == ["t5xxl"] and len(tokens["t5xxl"]) == 1
            cases.append({"prompt": prompt, "options_name": name, "tokenizer_options": tokenizer_options,
                          "t5xxl": [[int(t), float(w)] for t, w in tokens["t5xxl"][0]]})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"source": "ComfyUI 0.3.64 comfy.text_encoders.pixart_t5.PixArtTokenizer",
                               "cases": cases}) + "\n")
    for case in cases:
        print(case["options_name"], repr(case["prompt"]), len(case["t5xxl"]))


if __name__ == "__main__":
    main()
