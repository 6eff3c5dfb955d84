"""Files in, trades out: uploads and direct objects, formats, ordering."""
