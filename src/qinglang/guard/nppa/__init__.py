"""The NPPA interface (国家新闻出版署 网络游戏防沉迷实名认证系统): client and compatible server.

crypto    AES-128-GCM bodies and SHA-256 request signatures
protocol  error codes, field rules, response documents (pure)
server    `NppaServer`: a pure request handler over an `NppaState`
client    `NppaClient`: check, query and loginout against NPPA or Qinglang's endpoint

See docs/nppa.md.
"""

from __future__ import annotations

from qinglang.guard.nppa.protocol import AuthStatus, BehaviourType, ErrorCode, Event, PlayerType

__all__ = ["AuthStatus", "BehaviourType", "ErrorCode", "Event", "PlayerType"]
