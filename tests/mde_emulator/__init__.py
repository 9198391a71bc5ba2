"""A stateful HTTPS emulator of the Microsoft Defender for Endpoint API, for tests and rehearsals."""

from .server import Emulator

__all__ = ["Emulator"]
