"""The dashboard served by the control plane (see ``pages``)."""
