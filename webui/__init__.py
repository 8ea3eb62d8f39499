"""Cercle's own web pages. They call node services; they never open the database."""

from webui.app import setup_webui

__all__ = ["setup_webui"]
