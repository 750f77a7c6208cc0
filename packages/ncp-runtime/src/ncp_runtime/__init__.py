"""Service plumbing shared by the NCP services."""
