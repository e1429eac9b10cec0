"""Client SDKs for Qinglang's APIs. `GuardClient` is the guard API's (docs/guard.md)."""

from qinglang.sdk.guard import GuardAPIError, GuardClient, GuardUnavailable

__all__ = ["GuardAPIError", "GuardClient", "GuardUnavailable"]
