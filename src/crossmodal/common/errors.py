"""Errors about the user's data or configuration."""


class InputError(ValueError):
    """Bad input data or configuration.

    The message names the dataset, scan, file or config key at fault and says what to do.
    """
