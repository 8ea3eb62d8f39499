"""Jinja2 templates, loaded on the first page rendered: an idle node that only federates
never pays the ~9 MB Jinja2 costs resident."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

TEMPLATE_DIR = Path(__file__).parent / "templates"


class Templates:
    def __init__(self, directory: Path = TEMPLATE_DIR) -> None:
        self.directory = directory
        self._env: jinja2.Environment | None = None

    @property
    def env(self) -> jinja2.Environment:
        if self._env is None:
            import jinja2

            self._env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(self.directory),
                autoescape=jinja2.select_autoescape(["html"]),
                enable_async=True,
            )
        return self._env

    async def render(self, name: str, **context: Any) -> str:
        return await self.env.get_template(name).render_async(**context)

    def get_template(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)
