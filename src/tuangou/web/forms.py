"""What a page needs to show a form again: the values typed and an error next to each field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData

from tuangou.core.errors import DomainError
from tuangou.core.schemas import CONTROL
from tuangou.web import errors, i18n
from tuangou.web.templating import language


@dataclass
class FormState:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, form: FormData | None = None, **defaults: Any) -> FormState:
        values = dict(defaults)
        if form is not None:
            for key in form:
                if key != "csrf_token":
                    item = form.get(key)
                    if isinstance(item, str):
                        values[key] = item
        return cls(values=values)

    def get(self, name: str, default: str = "") -> str:
        """The field's text, without control characters (which no form field needs)."""
        value = self.values.get(name, default)
        return "" if value is None else CONTROL.sub("", str(value))

    def text(self, name: str) -> str:
        return self.get(name).strip()

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, request: Request, name: str, message: str) -> None:
        """A field error, written in English and shown in the user's language."""
        self.errors.setdefault(name, i18n.gettext(language(request), message))

    def refuse(self, request: Request, exc: DomainError, default_field: str = "_form") -> None:
        """A service's refusal, shown next to the field it names (or above the form)."""
        name = str(exc.extra.get("field") or default_field)
        self.errors.setdefault(name, errors.message(request, exc))

    def required(self, request: Request, *names: str) -> None:
        for name in names:
            if not self.text(name):
                self.add(request, name, "Fill this in")

    def at_most(self, request: Request, name: str, length: int) -> None:
        """An error on the field if its text is longer than ``length`` characters."""
        if len(self.text(name)) > length:
            self.add(request, name, "This is too long")

    def integer(
        self, request: Request, name: str, *, low: int | None = None, high: int | None = None
    ) -> int | None:
        """The field as a whole number within bounds, or None with an error on the field."""
        raw = self.text(name)
        try:
            value = int(raw)
        except ValueError:
            self.add(request, name, "Enter a whole number")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.add(request, name, "This number is out of range")
            return None
        return value

    def fen(self, request: Request, name: str, *, required: bool = True) -> int | None:
        """A money field typed in yuan ("12.34"), as fen; None with an error if invalid."""
        raw = self.text(name).lstrip("¥").strip()
        if not raw:
            if required:
                self.add(request, name, "Fill this in")
            return None
        whole, _, frac = raw.partition(".")
        if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
            self.add(request, name, "Enter an amount in yuan, like 12.34")
            return None
        return int(whole) * 100 + int((frac + "00")[:2])
