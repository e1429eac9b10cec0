"""Storage: the audit hash chain (pure) for now; database models come with the governance API."""
