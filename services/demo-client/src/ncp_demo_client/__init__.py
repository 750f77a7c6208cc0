"""EMREX demo client: a small SMP/EMC that sends a student to the node and shows what comes back."""
