"""What every signing route shares: the size-capped raw body, and the documented 503 when no key can sign."""

from fastapi import Request

from ncp_runtime import ProblemError, problem

UNAVAILABLE = problem("no usable signing key (missing, expired, or the HSM is unreachable)",
                      headers={"Retry-After": "seconds to wait before trying again"})


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ProblemError(413, "too_large", f"document is {declared} bytes, the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProblemError(413, "too_large", f"document is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
