"""Pictures of the lab: its topology, the path a message took, and the SMTP conversation."""

from labkit.pictures.picture import Picture
from labkit.pictures.topology import topology

__all__ = ["Picture", "topology"]
