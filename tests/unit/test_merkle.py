"""The Merkle tree over chain hashes: roots, inclusion and consistency proofs (RFC 9162)."""

from __future__ import annotations

import hashlib

import pytest

from consentry.domain.merkle import (
    EMPTY_ROOT,
    Frontier,
    ProofError,
    check_consistency,
    check_inclusion,
    consistency_path,
    inclusion_path,
    leaf_hash,
    node_hash,
    root_of,
)


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 9162's MTH written as the recursion it defines."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


LEAVES = [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(40)]


def test_the_root_of_every_size_matches_the_rfc_definition() -> None:
    for n in range(0, 41):
        assert root_of(LEAVES[:n]) == reference_root(LEAVES[:n])
    assert root_of([]) == EMPTY_ROOT


def test_a_frontier_grown_leaf_by_leaf_gives_the_root_at_every_size() -> None:
    f = Frontier()
    for n, leaf in enumerate(LEAVES, start=1):
        f.append(leaf)
        assert (f.size, f.root()) == (n, reference_root(LEAVES[:n]))


def test_every_inclusion_proof_checks_and_a_changed_one_does_not() -> None:
    for size in range(1, 34):
        root = root_of(LEAVES[:size])
        for i in range(size):
            path = inclusion_path(LEAVES, i, size)
            check_inclusion(LEAVES[i], i, size, path, root)
            with pytest.raises(ProofError):
                check_inclusion(LEAVES[i + 1], i, size, path, root)
            if path:
                with pytest.raises(ProofError):
                    check_inclusion(LEAVES[i], i, size, [*path[:-1], LEAVES[39]], root)
                with pytest.raises(ProofError):
                    check_inclusion(LEAVES[i], i, size, path[:-1], root)
            if size > 1:
                with pytest.raises(ProofError):
                    check_inclusion(LEAVES[i], (i + 1) % size, size, path, root)


def test_every_consistency_proof_checks_and_a_changed_history_does_not() -> None:
    for new in range(1, 34):
        new_root = root_of(LEAVES[:new])
        for old in range(0, new + 1):
            old_root = root_of(LEAVES[:old])
            path = consistency_path(LEAVES, old, new)
            check_consistency(old, old_root, new, new_root, path)
            if 0 < old < new:
                rewritten = [*LEAVES[: old - 1], LEAVES[39], *LEAVES[old:new]]
                with pytest.raises(ProofError):
                    check_consistency(old, old_root, new, root_of(rewritten), path)
                with pytest.raises(ProofError):
                    check_consistency(old, root_of(rewritten[:old]), new, new_root, path)
                with pytest.raises(ProofError):
                    check_consistency(old, old_root, new, new_root, path[1:])


def test_a_smaller_new_tree_is_refused() -> None:
    with pytest.raises(ProofError, match="cannot extend"):
        check_consistency(5, root_of(LEAVES[:5]), 3, root_of(LEAVES[:3]), [])
