"""Jinja2 templates, loaded on the first page rendered: an idle node that only federates
never pays the ~9 MB Jinja2 costs resident.

Templates are translated with Jinja2's i18n extension in its "new style" (``_("Hello
%(name)s", name=x)``, ``{% trans %}`` blocks, autoescaped variables). The gettext functions
are installed once, as globals that look up the page's ``translator`` in the render context
(``webui.responses.render`` puts it there), or the current request's language for pages
rendered without one (node/'s OAuth pages), so one environment serves every language.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from webui.i18n import CURRENT_REQUEST, Translator, current_translator, language_links

if TYPE_CHECKING:
    import jinja2

TEMPLATE_DIR = Path(__file__).parent / "templates"


def _translator(context: Any) -> Translator:
    found = context.get("translator")
    return found if isinstance(found, Translator) else current_translator()


def _install_gettext(env: jinja2.Environment) -> None:
    from jinja2 import pass_context

    @pass_context
    def gettext(context: Any, message: str) -> str:
        return _translator(context).translations.gettext(message)

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, num: int) -> str:
        return _translator(context).translations.ngettext(singular, plural, num)

    @pass_context
    def pgettext(context: Any, msgctxt: str, message: str) -> str:
        return _translator(context).translations.pgettext(msgctxt, message)

    @pass_context
    def npgettext(context: Any, msgctxt: str, singular: str, plural: str, num: int) -> str:
        return _translator(context).translations.npgettext(msgctxt, singular, plural, num)

    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )


class Templates:
    def __init__(self, directory: Path = TEMPLATE_DIR) -> None:
        self.directory = directory
        self._env: jinja2.Environment | None = None

    @property
    def env(self) -> jinja2.Environment:
        if self._env is None:
            import jinja2

            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(self.directory),
                autoescape=jinja2.select_autoescape(["html"]),
                enable_async=True,
                extensions=["jinja2.ext.i18n"],
            )
            # {% trans %} blocks may wrap lines: their whitespace is collapsed, in the
            # catalog as on the page (babel.cfg sets the same for extraction).
            env.policies["ext.i18n.trimmed"] = True
            _install_gettext(env)
            self._env = env
        return self._env

    async def render(self, name: str, **context: Any) -> str:
        """Render for callers without a request at hand (node/'s OAuth pages): the
        language is the current request's."""
        translator = current_translator()
        context.setdefault("translator", translator)
        context.setdefault("lang", translator.locale)
        request = CURRENT_REQUEST.get()
        if request is not None:
            context.setdefault("languages", language_links(request))
            context.setdefault("path", request.path)
        return await self.env.get_template(name).render_async(**context)

    def get_template(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)
