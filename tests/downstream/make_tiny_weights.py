"""Writes tiny.safetensors, the weights of tiny.yaml (standard library only)."""

import json
import os
import struct

TENSORS = {
    "fc.weight": ([3, 4], [1, 0, 0, 0, 0, 2, 0, 0, 1, 1, 1, 1]),
    "fc.bias": ([3], [0.5, -1, 0]),
}

header, data = {}, b""
for name, (shape, values) in TENSORS.items():
    raw = struct.pack("<%df" % len(values), *values)
    header[name] = {"dtype": "F32", "shape": shape,
                    "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)  # the data section starts 8-byte aligned
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny.safetensors")
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
