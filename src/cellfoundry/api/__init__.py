"""The HTTP API of cellfoundry (FastAPI)."""
