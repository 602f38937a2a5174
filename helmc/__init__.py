"""helmc: a grammar-driven front end for HELM run entries and conf files."""

__version__ = "0.1.0"
