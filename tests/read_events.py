"""Reads a dg run folder's TensorBoard events with TensorBoard's own loader (an independent
reader: its protobuf parser and TFRecord CRC checks, not dg's) and prints what it found, one
JSON object per line, for tests/test_watch.cpp to compare with metrics.jsonl and the PNGs:
  {"scalar": tag, "step": s, "value": v, "wall_time": t}
  {"image": tag, "step": s, "width": w, "height": h, "pixels": [...]}   (decoded, row-major HWC)
  {"text": tag, "step": s, "value": markdown}
Exit status 3 when the tensorboard package is missing.
"""
import json
import struct
import sys
import zlib

try:
    from tensorboard.backend.event_processing import event_accumulator as ea
except ImportError:
    sys.exit(3)


def decode_png(data):
    """8-bit gray or RGB PNG (what stb writes) to (width, height, channels, pixels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, width = 8, b"", None
    while at < len(data):
        n, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + n]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (0, 2), f"PNG depth {depth} color type {color}"
            channels = 1 if color == 0 else 3
        elif kind == b"IDAT":
            idat += body
        at += 12 + n
    raw, stride, out, prev = zlib.decompress(idat), width * channels, [], [0] * (width * channels)
    for y in range(height):
        f, row = raw[y * (stride + 1)], list(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if f == 1:
                row[i] = (row[i] + a) & 255
            elif f == 2:
                row[i] = (row[i] + b) & 255
            elif f == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += row
        prev = row
    return width, height, channels, out


def main():
    acc = ea.EventAccumulator(sys.argv[1], size_guidance={ea.SCALARS: 0, ea.IMAGES: 0, ea.TENSORS: 0})
    acc.Reload()
    tags = acc.Tags()
    for tag in tags["scalars"]:
        for e in acc.Scalars(tag):
            print(json.dumps({"scalar": tag, "step": e.step, "value": e.value, "wall_time": e.wall_time}))
    for tag in tags["images"]:
        for e in acc.Images(tag):
            w, h, c, px = decode_png(e.encoded_image_string)
            assert (w, h) == (e.width, e.height), "the Image message's size is not the PNG's"
            print(json.dumps({"image": tag, "step": e.step, "width": w, "height": h, "channels": c, "pixels": px}))
    for tag in tags["tensors"]:
        for e in acc.Tensors(tag):
            text = e.tensor_proto.string_val[0].decode()
            print(json.dumps({"text": tag, "step": e.step, "value": text}))


if __name__ == "__main__":
    main()
