"""The transparency log: its Merkle tree projection, store and signer, auditor and evidence exporter."""
