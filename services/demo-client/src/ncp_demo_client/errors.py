"""What can go wrong with an answer from the node, each with a stable code shown on the page."""


class DemoClientError(Exception):
    code = "demo_client_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class SessionMismatchError(DemoClientError):
    code = "session_mismatch"


class ElmoUnreadableError(DemoClientError):
    code = "elmo_unreadable"
