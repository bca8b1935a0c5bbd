"""The witness server: a partner program cosigns our checkpoints, we cosign theirs."""
