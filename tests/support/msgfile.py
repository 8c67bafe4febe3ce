"""Write a minimal Outlook .msg (an OLE compound file, CFB v3) for tests.

Our own small writer: no library writes .msg files. It lays out a header, FAT, directory,
mini FAT and mini stream; streams below 4096 bytes go to the mini stream as the format requires.
Only what a reader needs for a plain message: message class, subject, sender, body, transport
headers, and optional attachments.
"""

from __future__ import annotations

import struct

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREE, END, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF


class _Node:
    def __init__(self, name: str, kind: int, data: bytes = b""):
        self.name, self.kind, self.data = name, kind, data
        self.children: list[_Node] = []
        self.sid = 0
        self.left = self.right = self.child = NOSTREAM
        self.start = END
        self.size = 0


def _key(n: _Node) -> tuple[int, str]:
    return (len(n.name), n.name.upper())


def _tree(nodes: list[_Node]) -> int:
    """Balanced binary tree over sorted siblings; returns the root's sid."""
    if not nodes:
        return NOSTREAM
    mid = len(nodes) // 2
    root = nodes[mid]
    root.left = _tree(nodes[:mid])
    root.right = _tree(nodes[mid + 1 :])
    return root.sid


def build_cfb(files: dict[str, bytes]) -> bytes:
    """files: {"storage/sub/stream": bytes}; storages are created as needed."""
    root = _Node("Root Entry", 5)
    storages: dict[str, _Node] = {"": root}
    for path, data in files.items():
        parts = path.split("/")
        parent = root
        for i, part in enumerate(parts[:-1]):
            key = "/".join(parts[: i + 1])
            if key not in storages:
                node = _Node(part, 1)
                storages[key] = node
                parent.children.append(node)
            parent = storages[key]
        parent.children.append(_Node(parts[-1], 2, data))
    order: list[_Node] = []

    def number(n: _Node) -> None:
        n.sid = len(order)
        order.append(n)
        for c in n.children:
            number(c)

    number(root)
    for n in order:
        if n.children:
            n.child = _tree(sorted(n.children, key=_key))
    # Mini stream for small streams, regular sectors for large ones.
    mini = bytearray()
    minifat: list[int] = []
    big: list[_Node] = []
    for n in order:
        if n.kind != 2:
            continue
        n.size = len(n.data)
        if n.size < CUTOFF:
            if n.size == 0:
                n.start = END
                continue
            first = len(mini) // MINI
            count = (n.size + MINI - 1) // MINI
            mini.extend(n.data + b"\0" * (count * MINI - n.size))
            minifat.extend(range(first + 1, first + count))
            minifat.append(END)
            n.start = first
        else:
            big.append(n)
    dir_bytes = len(order) * 128
    n_dir = (dir_bytes + SECTOR - 1) // SECTOR
    n_minifat = (len(minifat) * 4 + SECTOR - 1) // SECTOR if minifat else 0
    n_mini = (len(mini) + SECTOR - 1) // SECTOR
    n_big = sum((len(b.data) + SECTOR - 1) // SECTOR for b in big)
    n_fat = 1
    while True:
        total = n_fat + n_dir + n_minifat + n_mini + n_big
        if n_fat * (SECTOR // 4) >= total:
            break
        n_fat += 1
    assert n_fat <= 109
    fat = [FREE] * (n_fat * (SECTOR // 4))
    pos = 0
    for i in range(n_fat):
        fat[pos + i] = FATSECT
    pos += n_fat

    def chain(count: int) -> int:
        nonlocal pos
        if count == 0:
            return END
        start = pos
        for i in range(count):
            fat[pos + i] = pos + i + 1 if i < count - 1 else END
        pos += count
        return start

    dir_start = chain(n_dir)
    minifat_start = chain(n_minifat)
    mini_start = chain(n_mini)
    for b in big:
        b.start = chain((len(b.data) + SECTOR - 1) // SECTOR)
    root.start = mini_start if mini else END
    root.size = len(mini)
    header = bytearray(SECTOR)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, n_fat, dir_start, 0, CUTOFF,
                     minifat_start if n_minifat else END, n_minifat, END, 0)
    difat = list(range(n_fat)) + [FREE] * (109 - n_fat)
    struct.pack_into("<109I", header, 76, *difat)
    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)
    d = bytearray()
    for n in order:
        name = n.name.encode("utf-16-le")[:62]
        e = bytearray(128)
        e[0 : len(name)] = name
        struct.pack_into("<HBBIII", e, 64, len(name) + 2, n.kind, 1, n.left, n.right, n.child)
        struct.pack_into("<IQ", e, 116, n.start, n.size)
        d += e
    out += d + b"\0" * (n_dir * SECTOR - len(d))
    if n_minifat:
        mf = struct.pack(f"<{len(minifat)}I", *minifat)
        out += mf + b"\xff" * (n_minifat * SECTOR - len(mf))
    out += bytes(mini) + b"\0" * (n_mini * SECTOR - len(mini))
    for b in big:
        out += b.data + b"\0" * (((len(b.data) + SECTOR - 1) // SECTOR) * SECTOR - len(b.data))
    return bytes(out)


def _props(entries: list[tuple[int, int]], header: bytes) -> bytes:
    out = bytearray(header)
    for tag, size in entries:
        out += struct.pack("<IIII", tag, 6, size, 0)
    return bytes(out)


def build_msg(*, subject: str, sender: str, body: str, transport_headers: str,
              attachments: list[tuple[str, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    def s(text: str) -> bytes:
        return text.encode("utf-16-le")

    strings = {0x001A: "IPM.Note", 0x0037: subject, 0x0C1F: sender, 0x1000: body, 0x007D: transport_headers,
               0x0E1D: subject}
    files: dict[str, bytes] = {}
    entries = []
    for pid, text in strings.items():
        data = s(text)
        files[f"__substg1.0_{pid:04X}001F"] = data
        entries.append(((pid << 16) | 0x001F, len(data)))
    files["__properties_version1.0"] = _props(
        entries, struct.pack("<8sIIII8s", b"", 0, len(attachments), 0, len(attachments), b""))
    for i, (name, data) in enumerate(attachments):
        base = f"__attach_version1.0_#{i:08X}"
        fname = s(name)
        files[f"{base}/__substg1.0_3707001F"] = fname
        files[f"{base}/__substg1.0_37010102"] = data
        files[f"{base}/__properties_version1.0"] = _props(
            [((0x3707 << 16) | 0x001F, len(fname)), ((0x3701 << 16) | 0x0102, len(data)),
             ((0x3705 << 16) | 0x0003, 1)], b"\0" * 8)
    files["__nameid_version1.0/__substg1.0_00020102"] = b""
    files["__nameid_version1.0/__substg1.0_00030102"] = b""
    files["__nameid_version1.0/__substg1.0_00040102"] = b""
    return build_cfb(files)
