"""HTTP authentication of the web side: Basic and Digest (RFC 7616: MD5, qop "auth").

aiohttp checks no credentials itself and no maintained aiohttp middleware does Digest on the
server side, so the check is written here; it is the RFC's few hashes. Every 401 offers both
schemes (Digest first: clients take the first challenge they support, browsers the strongest).

Nonces are stateless: the issue time and an HMAC of it under a per-process random key, valid
for ``NONCE_SECONDS``; a reply computed for one method and URI is refused for any other. (No
nonce-count bookkeeping: a captured request can be replayed within the nonce's life, the
same exposure as Basic over plain HTTP.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import time

__all__ = ["HttpAuth"]

NONCE_SECONDS = 300
_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))\s*(,|$)')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _params(text: str) -> dict[str, str] | None:
    """``k=v, k="v"`` of an Authorization header (None when malformed)."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        m = _PARAM.match(text, pos)
        if m is None or m.end() == pos:
            return None
        quoted, token = m.group(2), m.group(3)
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else token
        out[m.group(1).lower()] = value
        pos = m.end()
    return out


class HttpAuth:
    """The credentials of ``[http]``; ``check()`` one request, ``challenges()`` for a 401."""

    def __init__(self, username: str, password: str, realm: str = "imp-streamer") -> None:
        self.username = username
        self.realm = realm
        self._basic = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._ha1 = _md5(f"{username}:{realm}:{password}")
        self._key = os.urandom(16)

    def challenges(self) -> list[tuple[str, str]]:
        """The WWW-Authenticate headers of a 401: Digest with a fresh nonce, then Basic."""
        digest = (
            f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, '
            f'nonce="{self._nonce(int(time.time()))}"'
        )
        return [("WWW-Authenticate", digest), ("WWW-Authenticate", f'Basic realm="{self.realm}"')]

    def check(self, method: str, uri: str, header: str) -> bool:
        """Whether ``header`` (the Authorization value) is right for ``method`` ``uri``
        (the request target as sent: path and query)."""
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() == "basic":
            value = value.strip()
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return False
            return hmac.compare_digest(value.encode(), self._basic.encode())
        if scheme.lower() == "digest":
            return self._check_digest(method, uri, value)
        return False

    def _nonce(self, issued: int) -> str:
        mac = hmac.new(self._key, str(issued).encode(), "sha256").hexdigest()[:32]
        return f"{issued:x}.{mac}"

    def _nonce_fresh(self, nonce: str) -> bool:
        issued_hex, _, _ = nonce.partition(".")
        try:
            issued = int(issued_hex, 16)
        except ValueError:
            return False
        return (
            hmac.compare_digest(nonce.encode(), self._nonce(issued).encode())
            and 0 <= time.time() - issued <= NONCE_SECONDS
        )

    def _check_digest(self, method: str, uri: str, text: str) -> bool:
        p = _params(text)
        if p is None or any(k not in p for k in ("username", "realm", "nonce", "uri", "response")):
            return False
        if p.get("algorithm", "MD5").upper() != "MD5" or p["uri"] != uri:
            return False
        if p["realm"] != self.realm or not self._nonce_fresh(p["nonce"]):
            return False
        if not hmac.compare_digest(p["username"].encode(), self.username.encode()):
            return False
        ha2 = _md5(f"{method}:{p['uri']}")
        qop = p.get("qop")
        if qop == "auth" and "nc" in p and "cnonce" in p:
            expected = _md5(f"{self._ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
        elif qop is None:  # RFC 2069 clients
            expected = _md5(f"{self._ha1}:{p['nonce']}:{ha2}")
        else:
            return False
        return hmac.compare_digest(p["response"].lower().encode(), expected.encode())
