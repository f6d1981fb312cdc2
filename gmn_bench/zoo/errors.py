"""The errors of the zoo layer; each message names the zoo, row or file and what is wrong."""


class ZooFormatError(ValueError):
    """Rows or files that do not follow the zoo format."""


class ZooRowError(ZooFormatError):
    """A zoo row that breaks the format (and so cannot be turned into a network); the message names the row."""


class ZooUnavailableError(RuntimeError):
    """A zoo that is neither a local folder nor reachable on the Hub at the asked revision; the message says why."""
