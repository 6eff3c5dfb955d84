"""Large files and many files at once."""
