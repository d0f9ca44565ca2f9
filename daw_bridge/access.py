"""Who may talk to the bridge, and which files a request may name.

Loopback clients are always answered. A bridge bound to any other address must be given the
client networks it answers (`[osc] allow` in the configuration); datagrams from elsewhere are
dropped unanswered. A path in a request must lie inside a configured library root, checked both
as written (no `..` out of it) and after symbolic links are resolved.
"""

from __future__ import annotations

import ipaddress
import os

from sidecar.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


def parse_networks(allow) -> list[Network]:
    """`["192.168.1.0/24", "10.0.0.5"]` -> networks; ConfigError naming a bad entry."""
    out = []
    for entry in allow:
        try:
            out.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            raise ConfigError(f"osc.allow: {entry!r} is not a network (e.g. \"192.168.1.0/24\" or "
                              f"\"10.0.0.5\")") from None
    return out


def check_bind(host: str, networks: list[Network]) -> None:
    """A bridge off loopback answers only the networks named for it: refuse to start without them."""
    if not is_loopback(host) and not networks:
        raise ConfigError(f"the OSC bridge binds to {host}, beyond loopback: name the client networks it "
                          f"may answer in the configuration ([osc] allow = [\"192.168.1.0/24\"])")


class ClientFilter:
    def __init__(self, networks: list[Network]):
        self.networks = networks

    def allows(self, host: str) -> bool:
        try:
            addr = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            return False
        if addr.is_loopback:
            return True
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return any(addr.version == net.version and addr in net for net in self.networks)


class OutsideRoots(ValueError):
    """A request names a path that no configured library root holds."""


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class Roots:
    """The library roots a request's path must lie in."""

    def __init__(self, roots):
        self.written = [os.path.normpath(os.path.abspath(os.path.expanduser(r))) for r in roots]
        self.real = [os.path.realpath(r) for r in self.written]

    def __bool__(self) -> bool:
        return bool(self.written)

    def check(self, path) -> str:
        """The path, normalised, when it is a file inside a root; OutsideRoots with the reason."""
        if not isinstance(path, str) or not path or "\x00" in path:
            raise OutsideRoots("path must be a non-empty string")
        if not os.path.isabs(path):
            raise OutsideRoots(f"path must be absolute: {path}")
        if not self.written:
            raise OutsideRoots("no library root is configured ([[roots]] in SIDECAR_CONFIG, or "
                               "daw-bridge serve --root DIR)")
        norm = os.path.normpath(path)
        real = os.path.realpath(norm)
        if not any(_inside(norm, r) for r in self.written) or not any(_inside(real, r) for r in self.real):
            raise OutsideRoots(f"outside the library roots: {path}")
        if os.path.islink(norm):
            raise OutsideRoots(f"a symbolic link, not followed: {path}")
        return norm
