"""The transparency log over HTTP: key, checkpoints, proofs, evidence, citations."""
