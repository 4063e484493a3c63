"""The Jupyter server extension (REST API) for jupyter-artifacts."""
