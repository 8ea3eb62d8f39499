"""Turning what a person typed into the HTML a post carries, and sanitising peers' HTML."""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nh3

MENTION_RE = re.compile(
    r"(?<![\w/@])@(?P<user>[A-Za-z0-9_][A-Za-z0-9_.-]*)(?:@(?P<host>[A-Za-z0-9.-]+(?::\d+)?))?"
)
HASHTAG_RE = re.compile(r"(?<![\w&#/])#(?P<tag>\w{1,100})", re.UNICODE)
URL_RE = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")

ALLOWED_TAGS = {
    "p", "br", "a", "span", "strong", "b", "em", "i", "u", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "class", "title"}, "span": {"class"}}


@functools.cache
def _cleaner() -> nh3.Cleaner:
    """Built once: ``nh3.clean`` with keyword options rebuilds this configuration on every
    call, which costs as much as the cleaning (it runs for every received post). Built at
    the first use, not at import: nh3 adds ≈ 1.5 MB to a node that has cleaned nothing."""
    import nh3

    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
        # A peer's relative link would resolve against *our* pages ("/oauth/authorize?..."):
        # dropped, as Mastodon's sanitiser does (found by tests/fuzz/test_html_fuzz.py).
        url_relative="deny",
    )


def sanitize_html(content: str) -> str:
    """Remote HTML as we store it: no script, style or event handlers; only absolute
    http(s)/mailto links, each with rel="nofollow noopener noreferrer"."""
    return _cleaner().clean(content)


@dataclass(frozen=True)
class ParsedText:
    mentions: tuple[tuple[str, str | None], ...]  # (user, host or None)
    hashtags: tuple[str, ...]


def parse_text(text: str) -> ParsedText:
    mentions = tuple(
        dict.fromkeys((m.group("user"), m.group("host")) for m in MENTION_RE.finditer(text))
    )
    tags = tuple(dict.fromkeys(m.group("tag").lower() for m in HASHTAG_RE.finditer(text)))
    return ParsedText(mentions=mentions, hashtags=tags)


def render_text(text: str, *, mention_urls: dict[tuple[str, str | None], str], tag_url: str) -> str:
    """Plain text to HTML paragraphs with links, mentions and hashtags, as Mastodon renders."""

    def link_line(line: str) -> str:
        out: list[str] = []
        pos = 0
        pattern = re.compile(f"{URL_RE.pattern}|{MENTION_RE.pattern}|{HASHTAG_RE.pattern}")
        for m in pattern.finditer(line):
            out.append(html.escape(line[pos : m.start()]))
            token = m.group(0)
            if m.group("user"):
                key = (m.group("user"), m.group("host"))
                url = mention_urls.get(key)
                if url:
                    out.append(
                        f'<span class="h-card"><a href="{html.escape(url)}" class="u-url mention">'
                        f"@<span>{html.escape(m.group('user'))}</span></a></span>"
                    )
                else:
                    out.append(html.escape(token))
            elif m.group("tag"):
                tag = m.group("tag")
                out.append(
                    f'<a href="{html.escape(tag_url + tag.lower())}" class="mention hashtag" '
                    f'rel="tag">#<span>{html.escape(tag)}</span></a>'
                )
            else:
                out.append(
                    f'<a href="{html.escape(token)}" rel="nofollow noopener noreferrer">'
                    f"{html.escape(token)}</a>"
                )
            pos = m.end()
        out.append(html.escape(line[pos:]))
        return "".join(out)

    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(link_line(line) for line in para.split("\n")) + "</p>"
        for para in paragraphs
    )
