"""The one error every misconfiguration raises, whatever part of the project reads the setting.

A `ConfigurationError`'s message is one line naming the setting and the fix; the CLI prints it as it
is (exit 2, no traceback) and the Dagster code location shows it as its load error.
"""


class ConfigurationError(ValueError):
    """A setting is missing or holds a value the project cannot use."""
