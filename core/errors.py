"""The one exception a user can fix.

Pages and the command line catch :class:`DataError` only and show its message;
anything else is a bug and must surface in tests.
"""


class DataError(ValueError):
    """A problem with the user's input, with a message that says how to fix it."""
