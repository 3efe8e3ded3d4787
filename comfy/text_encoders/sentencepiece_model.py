"""SentencePiece Unigram models read from their ModelProto bytes, tokenized with the `tokenizers` library.

Kiln's venv has neither `sentencepiece` nor `protobuf`. ComfyUI's Wan text encoder files carry their tokenizer
as a uint8 tensor `spiece_model` holding a serialized `sentencepiece.ModelProto`, so this module reads the
protobuf wire format itself (only the fields tokenization needs) and builds an equivalent `tokenizers.Tokenizer`:

- `parse_model_proto(data)` → `SentencePieceModel`: the pieces (text, score, type), the normalizer settings
  (precompiled character map, `add_dummy_prefix`, `remove_extra_whitespaces`, `escape_whitespaces`) and the
  trainer settings (model type, `byte_fallback`, unk / bos / eos / pad ids).
- `build_tokenizer(model)`: the normalizer chain of SentencePiece (character map, then the whitespace rules,
  then the "▁" dummy prefix and "▁" for spaces) and a Unigram model over the whole normalized text (no
  pre-tokenizer: SentencePiece runs one Viterbi pass over the sentence). Byte fallback is done here, not by
  `tokenizers`: an `<unk>` span of the normalized text becomes the byte pieces of its UTF-8 bytes.
- `SentencePieceTokenizer(data)`: `tokenizer(text)["input_ids"]` as `SentencePieceProcessor(add_eos=True)`
  encodes: the ids followed by the end id.

Pieces SentencePiece never matches in text (control, unknown, unused, byte) get a name with a space, which the
normalized text never holds (so "</s>" or "<0x41>" typed in a prompt is tokenized as characters, as
SentencePiece does). Known difference: user-defined pieces are matched by score like normal pieces, where SentencePiece
prefers them outright (Wan's UMT5 model has none).
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from tokenizers import Regex, Tokenizer, models, normalizers

# sentencepiece_model.proto: ModelProto.SentencePiece.Type
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
UNIGRAM = 1
SPACE_SYMBOL = "\u2581"  # "▁", SentencePiece's visible space

# Field numbers of sentencepiece_model.proto (ModelProto, SentencePiece, TrainerSpec, NormalizerSpec).
_MODEL_PIECES, _MODEL_TRAINER_SPEC, _MODEL_NORMALIZER_SPEC = 1, 2, 3
_PIECE_TEXT, _PIECE_SCORE, _PIECE_TYPE = 1, 2, 3
_TRAINER_FIELDS = {3: "model_type", 24: "treat_whitespace_as_suffix", 35: "byte_fallback", 40: "unk_id",
                   41: "bos_id", 42: "eos_id", 43: "pad_id"}
_NORMALIZER_FIELDS = {1: "name", 2: "precompiled_charsmap", 3: "add_dummy_prefix", 4: "remove_extra_whitespaces",
                      5: "escape_whitespaces"}


class SentencePieceModelError(ValueError):
    """The bytes are not a SentencePiece ModelProto Kiln can tokenize with."""


@dataclass(frozen=True)
class Piece:
    """One vocabulary entry: its text, its log-probability score and its SentencePiece type (NORMAL, BYTE, ...)."""

    text: str
    score: float = 0.0
    type: int = NORMAL


@dataclass(frozen=True)
class SentencePieceModel:
    """The parts of a ModelProto tokenization uses; unset fields hold the proto's defaults."""

    pieces: tuple[Piece, ...]
    model_type: int = UNIGRAM
    byte_fallback: bool = False
    treat_whitespace_as_suffix: bool = False
    unk_id: int = 0
    bos_id: int = 1
    eos_id: int = 2
    pad_id: int = -1
    normalizer_name: str = ""
    precompiled_charsmap: bytes = b""
    add_dummy_prefix: bool = True
    remove_extra_whitespaces: bool = True
    escape_whitespaces: bool = True
    vocab: dict[str, int] = field(default_factory=dict, compare=False)


# --- protobuf wire format ----------------------------------------------------------------------------------


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data):
            raise SentencePieceModelError("truncated varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, position


def _fields(data: bytes) -> list[tuple[int, int, int | bytes]]:
    """The (field number, wire type, value) triples of one message: varints as int, the rest as bytes."""
    out: list[tuple[int, int, int | bytes]] = []
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _varint(data, position)
        elif wire_type == 1:
            value, position = data[position:position + 8], position + 8
        elif wire_type == 2:
            length, position = _varint(data, position)
            value, position = data[position:position + length], position + length
        elif wire_type == 5:
            value, position = data[position:position + 4], position + 4
        else:
            raise SentencePieceModelError(f"unsupported protobuf wire type {wire_type} (field {number})")
        if position > len(data):
            raise SentencePieceModelError(f"truncated field {number}")
        out.append((number, wire_type, value))
    return out


def _int32(value: int) -> int:
    """A varint-encoded int32 (negative numbers are sign-extended to 64 bits on the wire)."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >= 1 << 63 else value


def _piece(data: bytes) -> Piece:
    text, score, kind = "", 0.0, NORMAL
    for number, wire_type, value in _fields(data):
        if number == _PIECE_TEXT and wire_type == 2:
            text = value.decode("utf-8")
        elif number == _PIECE_SCORE and wire_type == 5:
            score = struct.unpack("<f", value)[0]
        elif number == _PIECE_TYPE and wire_type == 0:
            kind = value
    return Piece(text, score, kind)


def parse_model_proto(data: bytes) -> SentencePieceModel:
    """A `SentencePieceModel` from serialized ModelProto bytes. Raises `SentencePieceModelError` when the bytes
    are not a ModelProto (no pieces, broken wire format). The last few results are kept: UMT5's model (4.5 MB,
    256k pieces) takes about 2 s to read, and a CLIP load reads it twice (check, then tokenizer)."""
    return _parse_model_proto(bytes(data))


@functools.lru_cache(maxsize=4)
def _parse_model_proto(data: bytes) -> SentencePieceModel:
    pieces: list[Piece] = []
    settings: dict[str, object] = {}
    try:
        for number, wire_type, value in _fields(data):
            if wire_type != 2:
                continue
            if number == _MODEL_PIECES:
                pieces.append(_piece(value))
            elif number == _MODEL_TRAINER_SPEC:
                for sub_number, sub_type, sub_value in _fields(value):
                    if sub_number in _TRAINER_FIELDS and sub_type == 0:
                        settings[_TRAINER_FIELDS[sub_number]] = _int32(sub_value)
            elif number == _MODEL_NORMALIZER_SPEC:
                for sub_number, _, sub_value in _fields(value):
                    name = _NORMALIZER_FIELDS.get(sub_number)
                    if name == "name":
                        settings["normalizer_name"] = sub_value.decode("utf-8")
                    elif name == "precompiled_charsmap":
                        settings[name] = bytes(sub_value)
                    elif name is not None:
                        settings[name] = bool(sub_value)
    except (UnicodeDecodeError, struct.error) as error:
        raise SentencePieceModelError(f"not a SentencePiece model: {error}") from None
    if not pieces:
        raise SentencePieceModelError("not a SentencePiece model: it holds no pieces")
    for flag in ("byte_fallback", "treat_whitespace_as_suffix"):
        if flag in settings:
            settings[flag] = bool(settings[flag])
    return SentencePieceModel(pieces=tuple(pieces), vocab={piece.text: index for index, piece in enumerate(pieces)},
                              **settings)


# --- the tokenizers equivalent ---------------------------------------------------------------------------


def _normalizer(model: SentencePieceModel) -> normalizers.Normalizer | None:
    steps: list[normalizers.Normalizer] = []
    if model.precompiled_charsmap:
        steps.append(normalizers.Precompiled(model.precompiled_charsmap))
    if model.remove_extra_whitespaces:  # SentencePiece only counts " " (after the character map) as whitespace
        steps += [normalizers.Replace(Regex(" {2,}"), " "), normalizers.Replace(Regex("^ | $"), "")]
    if model.add_dummy_prefix:
        steps.append(normalizers.Prepend(" "))  # an empty text stays empty, as in SentencePiece
    if model.escape_whitespaces:
        steps.append(normalizers.Replace(" ", SPACE_SYMBOL))
    return normalizers.Sequence(steps) if steps else None


def build_tokenizer(model: SentencePieceModel) -> tuple[Tokenizer, normalizers.Normalizer | None]:
    """(a Unigram `tokenizers.Tokenizer` without normalizer, SentencePiece's normalizer chain or None).

    Encoding the normalized text with the tokenizer gives SentencePiece's pieces, with `<unk>` where a character
    has no piece; `SentencePieceTokenizer.encode` turns those into byte pieces when the model has byte fallback.
    The normalizer is kept apart so that token offsets index the normalized text.
    """
    if model.model_type != UNIGRAM:
        raise SentencePieceModelError(f"SentencePiece model type {model.model_type} is not Unigram (1); "
                                      "only Unigram models are supported")
    if model.treat_whitespace_as_suffix or not model.escape_whitespaces:
        raise SentencePieceModelError("SentencePiece models with treat_whitespace_as_suffix or without "
                                      "escape_whitespaces are not supported")
    matchable = [piece.score for piece in model.pieces if piece.type in (NORMAL, USER_DEFINED)]
    lowest = min(matchable, default=0.0)
    vocab: list[tuple[str, float]] = []
    for index, piece in enumerate(model.pieces):
        if piece.type in (NORMAL, USER_DEFINED):
            vocab.append((piece.text, piece.score))
        else:  # never matched in text: a name with a space cannot occur in the normalized text
            vocab.append((f"{piece.text} {index}", lowest))
    return Tokenizer(models.Unigram(vocab, model.unk_id, False)), _normalizer(model)


class SentencePieceTokenizer:
    """The part of `sentencepiece.SentencePieceProcessor(add_eos=True)` that ComfyUI's tokenizers use, from the
    ModelProto bytes (a uint8 tensor, bytes or a list of ints).

    `tokenizer(text)["input_ids"]`: the ids with the end id appended; `get_vocab()`: piece text → id;
    `serialize_model()`: the ModelProto bytes as given.
    """

    def __init__(self, model_proto: bytes | Sequence[int], add_bos: bool = False, add_eos: bool = True):
        if hasattr(model_proto, "numpy"):
            model_proto = model_proto.cpu().numpy().tobytes()
        self.model_proto = bytes(model_proto)
        self.model = parse_model_proto(self.model_proto)
        self.tokenizer, self.normalizer = build_tokenizer(self.model)
        self.byte_ids = {piece.text: index for index, piece in enumerate(self.model.pieces) if piece.type == BYTE}
        self.add_bos = add_bos
        self.add_eos = add_eos

    def encode(self, text: str) -> list[int]:
        normalized = self.normalizer.normalize_str(text) if self.normalizer is not None else text
        encoding = self.tokenizer.encode(normalized, add_special_tokens=False)
        ids: list[int] = []
        for index, (start, end) in zip(encoding.ids, encoding.offsets, strict=True):
            if index == self.model.unk_id and self.model.byte_fallback:
                ids += [self.byte_ids[f"<0x{byte:02X}>"] for byte in normalized[start:end].encode("utf-8")]
            else:
                ids.append(index)
        if self.add_bos and self.model.bos_id >= 0:
            ids = [self.model.bos_id] + ids
        if self.add_eos and self.model.eos_id >= 0:
            ids = ids + [self.model.eos_id]
        return ids

    def __call__(self, text: str) -> dict[str, list[int]]:
        return {"input_ids": self.encode(text)}

    def get_vocab(self) -> dict[str, int]:
        return dict(self.model.vocab)

    def serialize_model(self) -> bytes:
        return self.model_proto
