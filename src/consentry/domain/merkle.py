"""A Merkle tree over the ledger, as transparency logs build theirs (RFC 9162, section 2.1).

The leaves are the events' stored chain hashes in sequence order, so the tree says
nothing about what an event contains: whatever the chain hashes, the tree commits to.
A signed root of the first `n` leaves (a checkpoint) lets anyone check, with a short
proof and without the database, that one event is among them (an inclusion proof) or
that a later tree still holds the earlier one unchanged (a consistency proof).

Leaf and node hashes are domain-separated (0x00 and 0x01 prefixes) so a node can
never pass for a leaf; the tree splits at the largest power of two below its size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

_LEAF = b"\x00"
_NODE = b"\x01"

#: The root of an empty tree: the hash of nothing.
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not prove what it claims."""


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf."""
    return hashlib.sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node from its two children."""
    return hashlib.sha256(_NODE + left + right).digest()


def leaf_of_chain_hash(chain_hash: str) -> bytes:
    """The leaf hash of an event's stored chain hash (hex)."""
    return leaf_hash(bytes.fromhex(chain_hash))


class Frontier:
    """The roots of the perfect subtrees a growing tree is made of (a compact range).

    Appending a leaf costs one hash plus one per completed subtree, and the frontier
    holds at most log2(n) hashes, so a server can keep its tree's root current
    without reading the whole ledger again.
    """

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []
        self.size = 0

    def append(self, leaf: bytes) -> None:
        """Add a leaf hash (see `leaf_hash`)."""
        stack = self._stack
        stack.append((1, leaf))
        while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
            (n, right), (_, left) = stack.pop(), stack.pop()
            stack.append((2 * n, node_hash(left, right)))
        self.size += 1

    def root(self) -> bytes:
        """The root of the tree of every leaf appended so far."""
        if not self._stack:
            return EMPTY_ROOT
        acc = self._stack[-1][1]
        for _, h in reversed(self._stack[:-1]):
            acc = node_hash(h, acc)
        return acc


def root_of(leaves: Iterable[bytes]) -> bytes:
    """The root of the tree with these leaf hashes."""
    f = Frontier()
    for leaf in leaves:
        f.append(leaf)
    return f.root()


def _split(n: int) -> int:
    """The largest power of two below n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    return root_of(leaves[lo:hi]) if hi - lo > 1 else leaves[lo]


def inclusion_path(leaves: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """The audit path of leaf `index` in the tree of the first `size` leaves."""
    size = len(leaves) if size is None else size
    if not 0 <= index < size <= len(leaves):
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            path.append(_subtree(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_subtree(leaves, lo, lo + k))
            lo += k
    path.reverse()  # RFC order: from the leaf up
    return path


def consistency_path(leaves: Sequence[bytes], old_size: int, new_size: int | None = None) -> list[bytes]:
    """The proof that the tree of `old_size` leaves is the start of the tree of `new_size`."""
    new_size = len(leaves) if new_size is None else new_size
    if not 0 <= old_size <= new_size <= len(leaves):
        raise ProofError(f"no consistency proof from {old_size} to {new_size} leaves")
    if old_size in (0, new_size):
        return []
    path: list[bytes] = []
    lo, hi, m, whole = 0, new_size, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            path.append(_subtree(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_subtree(leaves, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        path.append(_subtree(leaves, lo, hi))
    path.reverse()
    return path


def check_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless `path` proves leaf `index` is in the tree of `size` with `root`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} cannot be in a tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    if r != root:
        raise ProofError("the inclusion proof does not lead to the checkpoint's root")


def check_consistency(
    old_size: int, old_root: bytes, new_size: int, new_root: bytes, path: Sequence[bytes]
) -> None:
    """Raise ProofError unless `path` proves the old tree is the start of the new one."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of {new_size} leaves cannot extend one of {old_size}")
    if old_size == new_size or old_size == 0:
        if path:
            raise ProofError("the consistency proof should be empty")
        if old_size == new_size and old_root != new_root:
            raise ProofError("two trees of the same size have different roots")
        return
    if not path:
        raise ProofError("the consistency proof is empty")
    nodes = list(path)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node of the new tree
        nodes.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if fr != old_root:
        raise ProofError("the consistency proof does not lead to the old checkpoint's root")
    if sr != new_root:
        raise ProofError("the consistency proof does not lead to the new checkpoint's root")
