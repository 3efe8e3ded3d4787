"""Record ComfyUI 0.3.64's Wan text encoder (UMT5-XXL, `comfy.text_encoders.wan`) on the reduced files of
tests/fixtures/comfyui_video/make_umt5_files.py.

    ORACLE=/root/.cache/kiln-oracle
    OMP_NUM_THREADS=1 $ORACLE/venv/bin/python tools/oracle/record_umt5.py --oracle $ORACLE

Runs in the oracle's interpreter with ComfyUI's folder on sys.path (CPU). ComfyUI builds UMT5-XXL from a fixed
config, so the reduced sizes go in through its own model option `umt5xxl_model_config` (read by SDClipModel);
everything else is ComfyUI's path for CLIPLoader type `wan`: `comfy.text_encoders.wan.te(**t5_xxl_detect(sd))`
and `WanT5Tokenizer` with the file's `spiece_model`, in `comfy.sd.CLIP` (`tokenize`, `encode_from_tokens`).
The embeddings folder is an empty temporary folder (so `embedding:name` is looked up and not found).

Writes tests/fixtures/comfyui_video/umt5/:
- tokens.json: for each prompt, ComfyUI's `(id, weight)` pairs (`CLIP.tokenize`), and SentencePiece's own
  `encode` (add_eos) of the raw prompts for both fixture models ("nfkc", "identity");
- outputs.safetensors: `<file>/<case>` conditioning (float32) of the positions up to the end token plus 8
  (`<file>/<case>/length` the full length; the rest is zero in ComfyUI, checked here), and the `-2` layer case.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from in_process import start_comfyui

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "comfyui_video"
OUT = FIXTURES / "umt5"
KEEP_AFTER_END = 8

PROMPTS = {
    "plain": "a cat walking slowly on the red car, cinematic",
    "weighted": "a (red:1.3) car under ((blue sky)), (worst quality:0.7)",
    "escaped": "a \\(cat\\) photo (dog:1.1) \\(not weighted\\)",
    "unicode": "Caf\u00e9 na\u00efve \u00fcber Stra\u00dfe, \u65e5\u672c\u306e\u732b und \uff21\uff22\uff23\uff11\uff12\uff13",
    "emoji": "a \U0001F431 on a \U0001F697!! \u2728 (\U0001F525:1.2)",
    "whitespace": "  hello,   world!!  ...\n\tnew line  ",
    "embedding": "embedding:missing_thing a dog, embedding:other",
    "specials": "</s> <pad> <unk> <0x41> \u2581x",
    "numbers": "(video:1.25) of (fire:0.8) 1234 frames",
    "empty": "",
    "long": "a beautiful mountain landscape with a river, " * 80,
}
ENCODED = {"umt5_reduced_fp16.safetensors": ("plain", "weighted", "unicode", "long"),
           "umt5_reduced_scaled_fp8.safetensors": ("plain", "weighted", "unicode")}
HIDDEN_CASE = ("umt5_reduced_fp16.safetensors", "plain", -2)
RAW_PROMPTS = ["a cat", "", "   ", "a  red   car  ", "caf\u00e9 na\u00efve \u00fcber stra\u00dfe",
               "\u65e5\u672c\u306e\u732b and \u72ac", "emoji \U0001F431\U0001F3AC ok", "</s> <unk> <0x41> \u2581x",
               "\uff21\uff22\uff23\uff11\uff12\uff13 full width", "Tab\there\nnewline", "walking slowly, cinematic!!",
               "qzx vwj", "\ufb01 ligature \u2460 \u2122", "\u3000ideographic space", "\u00c0\u00c9\u00ce"]


def main() -> None:
    start_comfyui(FIXTURES, __doc__)
    import make_umt5_files
    import sentencepiece
    import torch
    from safetensors.torch import load_file, save_file

    import comfy.sd  # ComfyUI's, from the oracle's folder
    import comfy.text_encoders.sd3_clip
    import comfy.text_encoders.wan

    work = Path(tempfile.mkdtemp(prefix="kiln-umt5-"))
    embeddings = work / "embeddings"
    embeddings.mkdir()
    files = make_umt5_files.write_files(work)
    reduced = {key: make_umt5_files.CONFIG[key] for key in ("num_layers", "d_model", "num_heads", "d_kv", "d_ff")}
    reduced["vocab_size"] = make_umt5_files.vocab_size()

    record: dict = {"prompts": PROMPTS, "tokens": {}, "raw_prompts": RAW_PROMPTS, "raw": {}}
    tensors = {}
    for name, path in files.items():
        sd = load_file(str(path))

        class Target:
            clip = comfy.text_encoders.wan.te(**comfy.text_encoders.sd3_clip.t5_xxl_detect(sd))
            tokenizer = comfy.text_encoders.wan.WanT5Tokenizer
            params: dict = {}

        clip = comfy.sd.CLIP(Target, embedding_directory=str(embeddings),
                             tokenizer_data={"spiece_model": sd["spiece_model"]},
                             model_options={"umt5xxl_model_config": reduced})
        missing, unexpected = clip.load_sd(sd)
        assert not missing, missing
        assert set(unexpected) <= {"spiece_model"}, unexpected
        for case, prompt in PROMPTS.items():
            tokens = clip.tokenize(prompt)
            assert list(tokens) == ["umt5xxl"]
            pairs = [[int(token), float(weight)] for token, weight in tokens["umt5xxl"][0]]
            record["tokens"].setdefault(case, pairs)
            assert record["tokens"][case] == pairs, f"{case}: the two files tokenize differently"
        cases = [(case, None) for case in ENCODED[name]] + ([HIDDEN_CASE[1:]] if name == HIDDEN_CASE[0] else [])
        for case, layer in cases:
            clip.clip_layer(layer)
            cond, pooled = clip.encode_from_tokens(clip.tokenize(PROMPTS[case]), return_pooled=True)
            assert pooled is None
            ids = [token for token, _ in record["tokens"][case]]
            keep = ids.index(1) + 1 + KEEP_AFTER_END
            assert cond[:, keep:].count_nonzero().item() == 0, f"{name} {case}: padding not zero"
            key = f"{name}/{case}" + ("" if layer is None else f"/layer{layer}")
            tensors[key] = cond[:, :keep].float().contiguous()
            tensors[f"{key}/length"] = torch.tensor(cond.shape[1])
            print(key, tuple(cond.shape), float(cond.abs().max()))
        clip.clip_layer(None)
    for variant in ("nfkc", "identity"):
        processor = sentencepiece.SentencePieceProcessor(model_proto=make_umt5_files.spiece_model_bytes(variant),
                                                         add_bos=False, add_eos=True)
        record["raw"][variant] = [processor.encode(prompt) for prompt in RAW_PROMPTS]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tokens.json").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    save_file(tensors, str(OUT / "outputs.safetensors"))
    for path in files.values():
        path.unlink()
    print("wrote", OUT)


if __name__ == "__main__":
    main()
