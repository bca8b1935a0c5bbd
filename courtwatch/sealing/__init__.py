"""Sealed details: pure cryptography (stdlib + ``cryptography`` + ``rfc8785``).

- ``envelope``: each report's sealed part is encrypted with its own random data
  key (ChaCha20-Poly1305); that key is wrapped for the organisation with
  X25519 + HKDF-SHA256 + ChaCha20-Poly1305, so sealing needs only the public key.
- ``commitments``: the salted SHA-256 commitment of each sealed field that the
  public event carries.
- ``keys``: the organisation's unsealing key file (mode 0600) and public key text.
- ``disclosure``: one field's value and salt, checked offline against a logged event.

Nothing here touches a database or the network: ``courtwatch verify`` imports
``disclosure`` on a lawyer's laptop.
"""
