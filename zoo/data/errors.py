"""The error raised when a dataset is not on this machine."""


class DatasetNotAvailable(FileNotFoundError):
    """A dataset that is not on the machine: the message says what provides it."""

    def __init__(self, name: str, how: str):
        super().__init__(f"Dataset {name!r} is not available offline: {how}")
        self.dataset = name
