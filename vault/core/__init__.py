"""The vault's core: accounts, sessions, the object store, files, shares and the audit log.

Synchronous and typed; no UI imports. Front ends open a `Vault` and call the modules here:

    from vault.core import Vault, sessions, uploads
    v = Vault("/path/to/vault")
    user, token = sessions.login(v, "han", "han123")
    uploads.upload_path(v, user, "Cat03.jpg")
"""

from __future__ import annotations

from vault.core.vault import Vault

__all__ = ["Vault"]
