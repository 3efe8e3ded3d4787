"""The T5-XXL tokenizer of Flux and SD3, with ComfyUI's prompt rules, built offline from a vendored tokenizer.json.

- `t5_tokenizer()` loads `t5_tokenizer/tokenizer.json` (T5 v1.1 SentencePiece Unigram, MIT, see its README) with
  the `tokenizers` library: 32,100 ids, `<pad>` 0, `</s>` 1, `<unk>` 2, `<extra_id_0..99>` 32099..32000. Its
  `encode(text)` appends `</s>` and recognises special-token text (`</s>`, `<extra_id_0>`) inside the text.
- `T5XXLTokenizer` applies ComfyUI's rules (`SDTokenizer` with T5 settings): weights are parsed first with the CLIP
  parser, each weighted run is tokenized on its own and loses its `</s>`, there is no start token, one `</s>`
  follows the last run, and the sequence is padded with `<pad>` to at least 256 tokens. There is no maximum and
  no chunking: a long prompt gives one longer sequence.
- `T5XXLNamedTokenizer` wraps it under the encoder name: `tokenize_with_weights(text)` → `{"t5xxl": [sequence]}`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

from tokenizers import Tokenizer

from comfy import sd1_clip

TOKENIZER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "t5_tokenizer", "tokenizer.json")

PAD_ID = 0
EOS_ID = 1
UNK_ID = 2
MIN_LENGTH = 256
# T5 has relative positions, so a prompt has no length limit; a large max_length turns SDTokenizer's chunking off.
NO_MAX_LENGTH = 99_999_999
EMBEDDING_SIZE = 4096


@functools.lru_cache(maxsize=1)
def t5_tokenizer() -> Tokenizer:
    """The process-wide T5 tokenizer, read from the vendored tokenizer.json (no network, no hub)."""
    return Tokenizer.from_file(TOKENIZER_PATH)


class TextTokenizer:
    """The part of a transformers tokenizer that `SDTokenizer` uses, over a `tokenizers.Tokenizer`.

    `tokenizer(text)["input_ids"]` gives the ids with the end token appended, as transformers does.
    """

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> dict[str, list[int]]:
        return {"input_ids": self.tokenizer.encode(text).ids}

    def get_vocab(self) -> dict[str, int]:
        return self.tokenizer.get_vocab(with_added_tokens=True)

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)


class T5XXLTokenizer(sd1_clip.SDTokenizer):
    """T5 tokenization with ComfyUI's weighting, `embedding:` and padding rules; no chunking.

    `tokenize_with_weights(text)` returns one sequence in a list: `[[(id, weight), ...]]`, at least `min_length`
    (256) long, or with `return_word_ids` `(id, weight, word_id)` where `word_id` is the 1-based weighted run
    (0 for the end token and the pads). The end token and the pads have weight 1.0. `embedding:name` looks for
    4096-wide vectors (key `t5xxl`) in `embedding_directory`; the option `t5xxl_min_length` overrides `min_length`.
    """

    def __init__(self, tokenizer_path: str | None = None, embedding_directory: str | Sequence[str] | None = None,
                 tokenizer_data: dict | None = None, min_length: int = MIN_LENGTH, max_length: int = NO_MAX_LENGTH):
        super().__init__(tokenizer_path, max_length=max_length, pad_with_end=False,
                         embedding_directory=embedding_directory, embedding_size=EMBEDDING_SIZE,
                         embedding_key="t5xxl", has_start_token=False, pad_to_max_length=False,
                         min_length=min_length, pad_token=PAD_ID, end_token=EOS_ID, tokenizer_data=tokenizer_data)
        # SDTokenizer sets itself up with the CLIP tokenizer; the T5 ids and vocabulary replace it here.
        self.tokenizer = TextTokenizer(t5_tokenizer())
        self.inv_vocab = {index: token for token, index in self.tokenizer.get_vocab().items()}


class T5XXLNamedTokenizer(sd1_clip.SD1Tokenizer):
    """Named wrapper: `tokenize_with_weights(text)` → `{"t5xxl": [[(id, weight), ...]]}`."""

    def __init__(self, embedding_directory: str | Sequence[str] | None = None, tokenizer_data: dict | None = None):
        super().__init__(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data, clip_name="t5xxl",
                         tokenizer=T5XXLTokenizer)
