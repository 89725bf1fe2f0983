"""Encryption of personal data: per-contact data keys, master keys, blind indexes.

- `fields`: `ContactCipher`, a contact's fields encrypted with its data key (AES-256-GCM),
  each ciphertext bound to its contact and field.
- `keys`: `KeyManager`, the interface that wraps data keys under a master key (a KMS or
  Vault plugs in here), and `LocalKeyManager`, with master keys from settings.
- `keyring`: `Keyring`, many contacts' ciphers unwrapped at once (sending, export).
- `blind`: `BlindIndex`, keyed HMAC-SHA-256 indexes for lookups and uniqueness.
- `configured`: the key manager and blind index the settings describe.

The data keys' table and its operations (make, load, destroy, rotate, the start check)
are in `consentry.adapters.sql.data_keys`. docs/privacy.md explains the whole.

This package's `__init__` imports nothing, so a module never pulls in the others.
"""
