"""Request parameters as Mastodon accepts them: query string, form, multipart or JSON.

Clients send the same parameter in many shapes — ``media_ids[]=1&media_ids[]=2``,
``media_ids=1``, ``{"media_ids": ["1"]}``, ``poll[options][]=a``, ``{"poll": {"options":
["a"]}}`` — and all must work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import MultiDict

from node.api.errors import ApiError, unprocessable

TRUE = {"true", "1", "on", "yes", "t"}
FALSE = {"false", "0", "off", "no", "f", ""}


@dataclass
class Params:
    values: MultiDict[Any] = field(default_factory=MultiDict)
    json_body: dict[str, Any] = field(default_factory=dict)
    files: dict[str, web.FileField] = field(default_factory=dict)

    def _raw(self, name: str) -> Any:
        if name in self.json_body:
            return self.json_body[name]
        if name in self.values:
            return self.values.getone(name)
        if f"{name}[]" in self.values:
            return self.values.getone(f"{name}[]")
        return None

    def has(self, name: str) -> bool:
        return self._raw(name) is not None or bool(self.get_list(name))

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self._raw(name)
        if value is None:
            return default
        if isinstance(value, list | dict):
            raise unprocessable(f"{name} must be a string")
        return str(value)

    def require_str(self, name: str) -> str:
        value = self.get_str(name)
        if value is None or value == "":
            raise unprocessable(f"{name} can't be blank")
        return value

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise unprocessable(f"{name} must be a boolean")

    def get_int(
        self,
        name: str,
        default: int | None = None,
        *,
        low: int | None = None,
        high: int | None = None,
    ) -> int | None:
        value = self._raw(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise unprocessable(f"{name} must be an integer") from exc
        if low is not None and number < low:
            number = low
        if high is not None and number > high:
            number = high
        return number

    def get_list(self, name: str) -> list[Any]:
        if name in self.json_body:
            value = self.json_body[name]
            return value if isinstance(value, list) else [value]
        items = self.values.getall(f"{name}[]", []) + self.values.getall(name, [])
        if not items:
            # Indexed form: name[0]=a&name[1]=b
            indexed = sorted(
                (k, v)
                for k, v in self.values.items()
                if k.startswith(f"{name}[") and k[len(name) + 1 : -1].isdigit()
            )
            items = [v for _, v in indexed]
        return items

    def require_ids(self, name: str) -> list[int]:
        """A non-empty list of ids (``account_ids[]`` of circles and groups), or 422."""
        values = self.get_list(name)
        if not values:
            raise unprocessable(f"{name} can't be blank")
        try:
            return [int(v) for v in values]
        except (TypeError, ValueError) as exc:
            raise unprocessable(f"{name} must be account ids") from exc

    def get_dict(self, name: str) -> dict[str, Any]:
        """``poll[options][]=a&poll[expires_in]=60`` or ``{"poll": {...}}`` as a dict."""
        if isinstance(self.json_body.get(name), dict):
            return dict(self.json_body[name])
        result: dict[str, Any] = {}
        prefix = f"{name}["
        for key, value in self.values.items():
            if not key.startswith(prefix):
                continue
            inner = key[len(prefix) :]
            sub, _, rest = inner.partition("]")
            if rest == "[]" or (rest.startswith("[") and rest[1:-1].isdigit()):
                result.setdefault(sub, []).append(value)
            else:
                result[sub] = value
        return result


async def read_params(request: web.Request) -> Params:
    params = Params(values=MultiDict(request.query))
    if request.method in ("GET", "HEAD") or not request.body_exists:
        return params
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"malformed JSON body: {exc}") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "the JSON body must be an object")
        params.json_body = body
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params.files[key] = value
            else:
                params.values.add(key, value)
    return params
