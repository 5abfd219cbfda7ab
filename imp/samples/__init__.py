"""Python ports of the Ingenic T31 SDK samples: ``python -m imp.samples.NAME``."""
