"""The hosted sign-up form (/f/{form_key}) and its thank-you page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from consentry.bootstrap import App
from consentry.domain import limits
from consentry.domain.forms import Form as SignupForm
from consentry.entrypoints.web import csrf, views
from consentry.entrypoints.wired import AppDep
from consentry.services import forms, public
from consentry.services.errors import InputError

router = APIRouter(route_class=views.PageRoute, include_in_schema=False)
#: The fields whose errors the form shows beside them (its texts are in form.html);
#: anything else gets an error page.
FIELD_ERRORS = ("email", "purposes")


@router.get("/f/{form_key}", response_class=HTMLResponse)
def form_page(form_key: str, request: Request, app: AppDep) -> HTMLResponse:
    """The sign-up form: an e-mail field and one unticked box per purpose."""
    return _form(request, app, forms.get(app, form_key))


@router.post("/f/{form_key}", response_class=HTMLResponse)
def sign_up(
    form_key: str,
    request: Request,
    app: AppDep,
    email: Annotated[str, Form(max_length=limits.EMAIL)] = "",
    purpose: Annotated[list[str] | None, Form(max_length=limits.ITEMS)] = None,
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> HTMLResponse:
    """Record the sign-up; the answer is the same whether the address was known or not."""
    csrf.check(app, request, token, csrf.form_subject(form_key))
    lang = views.page_lang(request)
    try:
        outcome = public.sign_up(app, form_key, email, purpose or [], lang, views.evidence(request))
    except InputError as exc:
        if exc.field not in FIELD_ERRORS:
            raise
        return _form(request, app, forms.get(app, form_key), [exc.field], email, status=422)
    return views.render(request, "thanks.html", outcome=outcome, days=app.settings.doi_expiry_days)


def _form(
    request: Request,
    app: App,
    form: SignupForm,
    errors: list[str] | None = None,
    email: str = "",
    status: int = 200,
) -> HTMLResponse:
    # No box is ever rendered ticked, not even after an error: consent must be the person's
    # own act on the page they submit (GDPR Art. 4(11), recital 32; CJEU C-673/17 Planet49).
    return views.render(
        request,
        "form.html",
        status=status,
        form=form,
        errors=errors or [],
        email=email,
        csrf_field=csrf.FIELD,
        csrf_token=csrf.issue(app, csrf.form_subject(form.key)),
        action=views.action(request, f"/f/{form.key}"),
    )
