"""The CLIP BPE tokenizer, built offline from OpenAI's vendored `bpe_simple_vocab_16e6.txt.gz` (MIT).

`clip_tokenizer()` returns one shared `transformers.CLIPTokenizer` per process. It turns text into
ids the way every Stable Diffusion CLIP text encoder (CLIP-L, OpenCLIP-H, OpenCLIP-bigG) expects:
`<|startoftext|>` 49406, the BPE ids, `<|endoftext|>` 49407.
"""

from __future__ import annotations

import functools
import gzip
import os

from transformers import CLIPTokenizer

VOCAB_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clip_vocab", "bpe_simple_vocab_16e6.txt.gz")

START_TOKEN = "<|startoftext|>"
END_TOKEN = "<|endoftext|>"
# The merges file's first line is a version header; CLIP uses the next 49152 - 256 - 2 lines as merges,
# which with 2 x 256 byte symbols and the two special tokens makes the 49408-entry vocabulary.
MERGE_COUNT = 49152 - 256 - 2


def byte_to_unicode_table() -> dict[int, str]:
    """Map every byte 0..255 to a printable unicode character (the GPT-2 / CLIP byte-level alphabet).

    Printable latin-1 bytes map to themselves and come first; the remaining bytes follow, in byte order,
    mapped to code points from 256 upwards, so no symbol is whitespace or a control character.
    The table's order is the order of the first 256 vocabulary ids.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {byte: chr(byte) for byte in printable}
    others = [byte for byte in range(256) if byte not in table]
    table.update({byte: chr(256 + offset) for offset, byte in enumerate(others)})
    return table


def read_vocabulary(path: str = VOCAB_PATH) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Read the OpenAI BPE file; return (token → id vocabulary, ordered merge pairs)."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    merges = [tuple(line.split()) for line in lines[1 : 1 + MERGE_COUNT]]
    byte_symbols = list(byte_to_unicode_table().values())
    tokens = byte_symbols + [symbol + "</w>" for symbol in byte_symbols]
    tokens += ["".join(pair) for pair in merges]
    tokens += [START_TOKEN, END_TOKEN]
    return {token: index for index, token in enumerate(tokens)}, merges


@functools.lru_cache(maxsize=1)
def clip_tokenizer() -> CLIPTokenizer:
    """The process-wide CLIP tokenizer (built once, about 0.5 s; needs no network and no files but the vocab)."""
    vocab, merges = read_vocabulary()
    # transformers 5 ignores `vocab_file=`/`merges_file=` silently; the in-memory `vocab=`/`merges=` form is the one that works.
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, bos_token=START_TOKEN, eos_token=END_TOKEN,
                              unk_token=END_TOKEN, pad_token=END_TOKEN)
    # Chunking to 77 happens in SDTokenizer; a 77 limit here would only add a warning for long prompts.
    return tokenizer
