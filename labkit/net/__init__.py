"""The lab network (virtual addresses over loopback) and the TMG firewall."""
