"""Command-line help without type placeholders: no <bool> after a flag, no <path> after an argument, no {braces}
around a required argument, and a word for what each option takes (FILE, FOLDER, PATH, TEXT, N).

A mixin for the CLI's typer command classes (cli.py, the only module that imports typer, builds them from
it). It works on the parameters' own attributes, so it imports no command-line library itself.
"""

from __future__ import annotations

import re
from typing import Any


def _metavar(param: Any) -> str:
    kind = param.type_descriptor
    if kind.is_path or kind.is_list:
        return {"file": "FILE", "dir": "FOLDER"}.get(kind.path_type, "PATH")
    return {int: "N", float: "NUMBER"}.get(kind.annotation, "TEXT")


class TidyHelp:
    """Mix into a typer command or group class, before it."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The parameters, each with the word its help shows for what it takes."""
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if param.param_type_name == "option" and param.is_flag:
                param.metavar = ""
            elif param.param_type_name == "option" and param.metavar is None:
                param.metavar = _metavar(param)
            elif param.param_type_name == "argument":
                param.metavar = param.metavar or (param.name or "").upper()
                param.display_type_rich = lambda ctx: None
        return params

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """The usage line's pieces, a required argument without braces."""
        return [re.sub(r"^\{(.+)\}", r"\1", p) for p in super().collect_usage_pieces(ctx)]  # type: ignore[misc]
