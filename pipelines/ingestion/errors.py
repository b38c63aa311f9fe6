class IngestionError(Exception):
    """A file or a business date that cannot be loaded as a whole; the message names the file."""
