"""Turn any exception into one line a person can act on."""

from __future__ import annotations


def explain(e: BaseException) -> str:
    """`what went wrong: message` for `e`, with a fix when the message has none."""
    name = type(e).__name__
    if isinstance(e, FileNotFoundError):
        return f"file not found: {e.filename or e}"
    status = getattr(e, "status", None)
    msg = _msg(e)
    if name == "EndpointUnreachableError" or status == "UNAVAILABLE":
        fix = (
            "Fix: check --endpoint / admin.endpoint and that the service is running (for a "
            "devbox: `flyte start devbox`)."
        )
        return _with_fix(f"the control plane is unreachable: {msg}", fix)
    if status in ("UNAUTHENTICATED", "PERMISSION_DENIED") or name == "AuthenticationError":
        fix = "Fix: check your credentials, --auth-type and admin.* settings in the config."
        return _with_fix(f"authentication failed: {msg}", fix)
    return f"{name}: {msg}"


def _with_fix(text: str, fix: str) -> str:
    return text if "Fix:" in text or "fix:" in text else f"{text.rstrip('.')}. {fix}"


def _msg(e: BaseException) -> str:
    text = " ".join(str(e).split()) or repr(e)
    return text
