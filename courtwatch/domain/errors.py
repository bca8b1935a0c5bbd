"""Domain errors: raised by guards, mapped to HTTP in one place (web/errors.py)."""


class DomainError(Exception):
    """A command was refused because it would break a rule of the domain."""


class InvalidField(DomainError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class WrongAuthorToken(DomainError):
    def __init__(self) -> None:
        super().__init__("the author token does not match this report")


class AlreadyCorroborated(DomainError):
    def __init__(self) -> None:
        super().__init__("this client has already corroborated this report")


class CorroborationsFull(DomainError):
    def __init__(self, most: int) -> None:
        super().__init__(f"this report already counts the most corroborations it keeps ({most})")
        self.most = most


class ShiftAlreadyEnded(DomainError):
    def __init__(self) -> None:
        super().__init__("this watch shift has already ended")


class AlreadyResolved(DomainError):
    def __init__(self) -> None:
        super().__init__("this report was resolved: no one is going there any more")


class NotApplicable(DomainError):
    """The command does not apply to this kind of report."""


class DuplicateCourthouse(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(f"a courthouse with code {code!r} already exists")
        self.code = code
