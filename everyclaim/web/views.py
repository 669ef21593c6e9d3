"""Server-rendered pages: the Jinja environment, its filters, and :func:`page` (one context for all).

Templates live in ``everyclaim/web/templates`` (data, like rule packs). Autoescaping is on; values are
never marked safe. PHI shown on a page is masked the same way as in the terminal (``mask``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from everyclaim.web.security import csrf_token, may

TEMPLATES = Path(__file__).with_name("templates")

# The navigation: (label, method, path); a link appears only for roles that may follow it.
NAV = (("My queue", "GET", "/queue"), ("Dashboard", "GET", "/dashboard"), ("Approvals", "GET", "/approvals"),
       ("Routing", "GET", "/routing"), ("Rules", "GET", "/rules"), ("SOP audit", "GET", "/sop"),
       ("Users", "GET", "/admin/users"), ("Audit log", "GET", "/audit"), ("API", "GET", "/docs"))


def mask(value: object) -> str:
    """``"W123456789"`` -> ``"W1******89"``: enough to recognise, not enough to identify."""
    text = str(value or "")
    if len(text) <= 2:
        return "*" * len(text)
    if len(text) <= 4:
        return text[0] + "*" * (len(text) - 1)
    return text[:2] + "*" * (len(text) - 4) + text[-2:]


def money(value: object) -> str:
    """Dollars with thousands separators; accepts Decimal, a decimal string or integer cents via ``cents``."""
    if value is None or value == "":
        return ""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    sign = "-" if d < 0 else ""
    return f"{sign}${abs(d):,.2f}"


def cents(value: int | None) -> str:
    return "" if value is None else money(Decimal(value).scaleb(-2))


def days_until(value: date | None, today: date | None = None) -> int | None:
    if value is None:
        return None
    return (value - (today or date.today())).days


def when(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def pct(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}%}"


def humanize(value: object) -> str:
    return str(value or "").replace("_", " ")


def form_day(value: str, field: str) -> date | None:
    """A form's ``YYYY-MM-DD`` (empty: none); a 422 naming the field when malformed."""
    from everyclaim.web.errors import AppError

    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise AppError(422, fields={field: "a date, YYYY-MM-DD"}) from None


def build_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters.update(mask=mask, money=money, cents=cents, when=when, pct=pct, humanize=humanize)
    env.globals.update(days_until=days_until, may=may)
    return templates


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``name`` with what every page needs: the user, the CSRF token and the navigation."""
    user = getattr(request.state, "user", None)
    nav = [(label, path) for label, method, path in NAV if may(user, method, path)]
    base = {"user": user, "csrf_token": csrf_token(request), "nav": nav, "path": request.url.path,
            "today": date.today()}
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, base | context, status_code=status_code)
