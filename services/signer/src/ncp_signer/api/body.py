"""What every signing route shares: the documented 503 when no key can sign (the body's size limit is
ncp_runtime's BodyLimitMiddleware, set in app.py)."""

from ncp_runtime import problem

UNAVAILABLE = problem("no usable signing key (missing, expired, or the HSM is unreachable)",
                      headers={"Retry-After": "seconds to wait before trying again"})
