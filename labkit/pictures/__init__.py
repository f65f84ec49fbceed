"""Pictures of the lab: its topology, the path a message took, and the SMTP conversation."""

from labkit.pictures.conversation import conversation
from labkit.pictures.path import message_path
from labkit.pictures.picture import Picture
from labkit.pictures.topology import topology

__all__ = ["Picture", "conversation", "message_path", "topology"]
