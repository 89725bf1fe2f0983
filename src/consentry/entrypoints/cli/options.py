"""Options more than one command group takes: who, over what, for what, when, in which language."""

from __future__ import annotations

from typing import Annotated

import typer

Contact = Annotated[str, typer.Option("--contact", help="Contact point id, e-mail address or phone number.")]
Channel = Annotated[
    str,
    typer.Option("--channel", help="email, sms, messaging_app, phone, automated_call, post, fax"),
]
PurposeOpt = Annotated[str, typer.Option("--purpose", help="Purpose key.")]
Kind = Annotated[str, typer.Option("--kind", help="marketing, service or personal.")]
ActivityOpt = Annotated[str, typer.Option("--activity", help="contact or profiling.")]
At = Annotated[
    str | None,
    typer.Option("--at", help="ISO date or time to judge as of (default now; no zone = Amsterdam)."),
]
Lang = Annotated[str, typer.Option("--lang", help="nl or en.")]
