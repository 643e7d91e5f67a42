"""krackwatch.protocol: sans-IO 802.11 handshake machines and implementation profiles.

Machines take bytes and an explicit ``now`` and return commands (``SendEAPOL``, ``InstallKey``,
``SetTimer`` ...); nonces come from an injected ``nonce_source``. Behaviour differences between
implementations live in :class:`Profile` values only (see ``PRESETS``).
"""

from krackwatch.protocol.authenticator import (
    GROUP_TIMER,
    MAX_RSC,
    PAIRWISE_TIMER,
    Authenticator,
    AuthenticatorState,
    GroupKeyState,
    GroupState,
)
from krackwatch.protocol.commands import (
    CancelTimer,
    Command,
    Deauthenticate,
    Dropped,
    DropReason,
    InstallKey,
    KeyKind,
    Log,
    SendEAPOL,
    SendMgmt,
    SetTimer,
)
from krackwatch.protocol.errors import ProtocolError
from krackwatch.protocol.ft import FTConfig
from krackwatch.protocol.keymsg import rsn_element
from krackwatch.protocol.profile import PRESETS, EapolTimeouts, GtkInstall, Profile, Role, ZeroTk, get_profile
from krackwatch.protocol.supplicant import FTState, Supplicant, SupplicantState

__all__ = [
    "GROUP_TIMER",
    "MAX_RSC",
    "PAIRWISE_TIMER",
    "PRESETS",
    "Authenticator",
    "AuthenticatorState",
    "CancelTimer",
    "Command",
    "Deauthenticate",
    "DropReason",
    "Dropped",
    "EapolTimeouts",
    "FTConfig",
    "FTState",
    "GroupKeyState",
    "GroupState",
    "GtkInstall",
    "InstallKey",
    "KeyKind",
    "Log",
    "Profile",
    "ProtocolError",
    "Role",
    "SendEAPOL",
    "SendMgmt",
    "SetTimer",
    "Supplicant",
    "SupplicantState",
    "ZeroTk",
    "get_profile",
    "rsn_element",
]
