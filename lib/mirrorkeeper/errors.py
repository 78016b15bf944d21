"""The errors mirrorkeeper reports to the people who use it.

Each carries a message meant to be shown as it is: one line that names the
problem and the value at fault.
"""


class MirrorKeeperError(Exception):
    """Something a person asked for cannot be done; nothing was changed.

    `field`, when the error is about one value a person gave, names it
    as the forms and the command line do ('display_name',
    'https_base_url'), so that a form shows the message beside that
    field without reading the message."""

    def __init__(self, message="", field=None):
        Exception.__init__(self, message)
        self.field = field


class NotFoundError(MirrorKeeperError, LookupError):
    """A named thing does not exist."""


class InvalidURLError(MirrorKeeperError, ValueError):
    """A URL is malformed or of the wrong kind."""


class DuplicateError(MirrorKeeperError, ValueError):
    """Something that must be unique is already taken."""


class InvalidValueError(MirrorKeeperError, ValueError):
    """A value is not one the field accepts."""


class ConfigurationError(MirrorKeeperError):
    """The configuration file or environment is wrong."""


class SchemaError(MirrorKeeperError):
    """The database schema is missing, too old, or a patch failed."""
