"""Minimal hand-written safetensors reader/writer (no safetensors package here).

Format: 8-byte little-endian u64 header length N, then N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to
the data section, optional "__metadata__"), padded with spaces so the data
section starts 8-byte aligned, then the raw little-endian tensor bytes.

Tensors may be numpy arrays or torch tensors (converted via .numpy()), so
golden references for other networks can reuse this module.
"""

import json
import struct

import numpy as np

# Dtypes numpy can represent natively; BF16 is handled as raw uint16 bits.
_NP_DTYPES = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
}
FLOAT_DTYPES = ("F32", "F16", "BF16")
_ITEMSIZE = {"I64": 8, "F32": 4, "F16": 2, "BF16": 2}


def _to_numpy(t):
    if hasattr(t, "detach"):  # torch.Tensor without importing torch here
        t = t.detach().cpu().numpy()
    return np.asarray(t)


def f32_to_bf16_bits(a):
    """Round float32 to bfloat16 (round-to-nearest-even), as uint16 bits."""
    bits = np.ascontiguousarray(a, dtype="<f4").view("<u4").astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    out = rounded.astype(np.uint16)
    # Rounding could turn a NaN payload into Inf; keep NaNs quiet NaNs.
    nan = np.isnan(a)
    out[nan] = ((bits[nan] >> 16) | 0x40).astype(np.uint16)
    return out


def bf16_bits_to_f32(bits):
    return (np.asarray(bits, dtype="<u2").astype("<u4") << 16).view("<f4")


def round_to_dtype(a, dtype):
    """Float32 values exactly representable in `dtype` (what a reader sees)."""
    a = np.asarray(a, dtype=np.float32)
    if dtype == "F32":
        return a.copy()
    if dtype == "F16":
        return a.astype("<f2").astype(np.float32)
    if dtype == "BF16":
        return bf16_bits_to_f32(f32_to_bf16_bits(a))
    raise ValueError(f"unsupported float dtype {dtype!r}")


def _encode(a, float_dtype):
    """Return (safetensors dtype string, raw little-endian bytes)."""
    if np.issubdtype(a.dtype, np.integer):
        return "I64", a.astype("<i8").tobytes()
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"unsupported tensor dtype {a.dtype}")
    if float_dtype == "BF16":
        return "BF16", f32_to_bf16_bits(a.astype(np.float32)).tobytes()
    if float_dtype not in _NP_DTYPES:
        raise ValueError(f"unsupported float dtype {float_dtype!r}")
    return float_dtype, a.astype(_NP_DTYPES[float_dtype]).tobytes()


def write_safetensors(path, tensors, dtype="F32", metadata=None):
    """Write name->tensor. Floating tensors are stored as `dtype`
    (F32/F16/BF16); integer tensors always as I64 (like num_batches_tracked).
    """
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    encoded = []
    for name, t in tensors.items():
        a = _to_numpy(t)
        st_dtype, raw = _encode(a, dtype)
        encoded.append((name, a.shape, st_dtype, raw))
    # Like the reference writer: widest dtype first, then by name, so every
    # tensor's data stays naturally aligned within the 8-aligned data section.
    encoded.sort(key=lambda e: (-_ITEMSIZE[e[2]], e[0]))
    blobs = []
    offset = 0
    for name, shape, st_dtype, raw in encoded:
        header[name] = {
            "dtype": st_dtype,
            "shape": list(shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    hdr = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hdr += b" " * (-len(hdr) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hdr)))
        f.write(hdr)
        for raw in blobs:
            f.write(raw)


def read_header(path):
    """Return (header dict, byte offset of the data section)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def read_safetensors(path):
    """Return name->numpy array. BF16 tensors are decoded to float32 (exact);
    use read_header() to see the stored dtypes.
    """
    header, data_start = read_header(path)
    with open(path, "rb") as f:
        f.seek(data_start)
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        shape = tuple(info["shape"])
        if info["dtype"] == "BF16":
            arr = bf16_bits_to_f32(np.frombuffer(raw, dtype="<u2"))
        else:
            arr = np.frombuffer(raw, dtype=_NP_DTYPES[info["dtype"]]).copy()
        if arr.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: {name}: {end - begin} bytes do not "
                             f"match shape {list(shape)} {info['dtype']}")
        out[name] = arr.reshape(shape)
    return out
