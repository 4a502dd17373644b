#!/usr/bin/python3
"""Writes samples/D.png for D = 0..9: the first test image of each digit
(test_images.u8, test_labels.u8), as an ordinary picture of a digit, for
examples/classify: 32x32 grey PNG, dark ink on white (the 8x8 image scaled
up 4x, pixel = 255 - round(v * 255 / 16)).

Classify them with --invert (the network was trained on bright ink); the
area-averaging resize in examples/classify brings each back to 8x8.

  python3 examples/digits/make_samples.py
"""

import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SCALE = 4


def png(path, rows):
    """Write an 8-bit greyscale PNG from a list of rows of ints 0..255."""
    def chunk(kind, data):
        body = kind + data
        return (struct.pack(">I", len(data)) + body +
                struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF))
    h, w = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(r) for r in rows)   # filter 0 per row
    data = (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)


def main():
    with open(os.path.join(HERE, "test_images.u8"), "rb") as f:
        images = f.read()
    with open(os.path.join(HERE, "test_labels.u8"), "rb") as f:
        labels = f.read()
    assert len(images) == 64 * len(labels)
    out = os.path.join(HERE, "samples")
    os.makedirs(out, exist_ok=True)
    for digit in range(10):
        i = labels.index(digit)
        img = images[64 * i:64 * (i + 1)]
        rows = []
        for y in range(8 * SCALE):
            rows.append([255 - round(img[(y // SCALE) * 8 + x // SCALE] *
                                     255 / 16) for x in range(8 * SCALE)])
        png(os.path.join(out, f"{digit}.png"), rows)
        print(f"samples/{digit}.png: test image {i}")


if __name__ == "__main__":
    main()
