"""dlt sources, one package per platform; shared HTTP helpers live in :mod:`.rest`."""
