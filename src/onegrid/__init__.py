"""OneGrid: the whole computing grid of a particle-physics experiment in one Python system."""

__version__ = "0.1.0"
