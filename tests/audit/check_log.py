"""An independent check of truyxuat's audit log, using only hashlib and cryptography.

Fetches the published audit key (keys.json), the signed checkpoint and the level-0 tiles
of a running truyxuat, verifies the checkpoint's Ed25519 signature as C2SP signed-note
says, recomputes the RFC 6962 root from the tiles' leaf hashes and prints what it found
as JSON. Exit 1 when anything does not hold.

    python check_log.py http://127.0.0.1:8080
"""

import base64
import hashlib
import json
import sys
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TILE_WIDTH = 256


def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def open_note(vkey, note):
    """The text of a C2SP signed note when vkey's Ed25519 key signed it, else None."""
    name, key_id, key = vkey.split("+", 2)
    key = base64.b64decode(key)
    assert key[0] == 1, "an Ed25519 verifier key starts with 0x01"
    expected_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    assert expected_id.hex() == key_id, "the key id is SHA-256(name, newline, key)[:4]"
    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    public = Ed25519PublicKey.from_public_bytes(key[1:])
    for line in signatures.splitlines():
        dash, signer, blob = line.split(" ")
        assert dash == "\u2014"
        blob = base64.b64decode(blob)
        if signer != name or blob[:4] != expected_id:
            continue
        try:
            public.verify(blob[4:], text.encode())
            return text
        except InvalidSignature:
            return None
    return None


def tile_path(level, n, width):
    digits = f"{n % 1000:03d}"
    n //= 1000
    while n > 0:
        digits = f"x{n % 1000:03d}/{digits}"
        n //= 1000
    partial = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{digits}{partial}"


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_of(leaves):
    """RFC 6962 Merkle tree hash of a list of leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return node(root_of(leaves[:split]), root_of(leaves[split:]))


def main(base):
    vkey = json.loads(get(f"{base}/.well-known/truyxuat/keys.json"))["audit_log_vkey"]
    note = get(f"{base}/audit/checkpoint").decode()
    text = open_note(vkey, note)
    if text is None:
        print(json.dumps({"signature_ok": False}))
        return 1
    origin, size, root = text.splitlines()[:3]
    size = int(size)
    leaves = []
    for n in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, size - n * TILE_WIDTH)
        tile = get(f"{base}/audit/{tile_path(0, n, width)}")
        assert len(tile) == 32 * width
        leaves += [tile[i : i + 32] for i in range(0, len(tile), 32)]
    recomputed = base64.b64encode(root_of(leaves)).decode()
    found = {
        "origin": origin,
        "size": size,
        "signature_ok": text is not None,
        "root_ok": recomputed == root,
        "tiles": (size + TILE_WIDTH - 1) // TILE_WIDTH,
    }
    print(json.dumps(found))
    return 0 if found["signature_ok"] and found["root_ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1].rstrip("/")))
