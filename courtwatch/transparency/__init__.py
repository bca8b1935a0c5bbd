"""Transparency log: a Merkle tree over every stored event, signed checkpoints, evidence bundles.

Lawyers cite records from this log and must be able to prove, without trusting the
operator, that nothing was edited or removed afterwards. The pieces:

- ``merkle``: RFC 9162 tree hashing, proofs and their verification.
- ``canonical``: the exact bytes of an event that become a leaf.
- ``checkpoint``: the signed statement "the log had N entries with root R".
- ``bundle`` / ``verify``: the zip a lawyer receives and the offline check of it.

This ``__init__`` deliberately imports nothing: ``courtwatch verify`` must run on a
lawyer's laptop with only the standard library, ``cryptography`` and ``rfc8785``.
"""
