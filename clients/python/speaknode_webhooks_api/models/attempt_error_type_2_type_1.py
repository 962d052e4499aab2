from enum import StrEnum


class AttemptErrorType2Type1(StrEnum):
    BLOCKED_ADDRESS = "blocked_address"
    CONNECTION_ERROR = "connection_error"
    DNS_ERROR = "dns_error"
    TIMEOUT = "timeout"
    TLS_ERROR = "tls_error"

    def __str__(self) -> str:
        return str(self.value)
