"""The one exception a user sees for bad input: says what is wrong and where."""


class DifficultyError(ValueError):
    """Bad input (a file, a column, a row, an argument). The message is one line, for a user."""
