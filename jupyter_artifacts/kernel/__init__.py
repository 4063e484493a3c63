"""The notebook face: magics, widgets and the Python SDK.

This package may import IPython and ipywidgets (lazily, where it can); nothing in the core
(store, sources, jobs) imports it. Every face here calls the same functions in `actions`.
"""
