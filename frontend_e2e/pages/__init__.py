"""Page objects: one class per page of the web app, plus the app shell around them.

Locators are attributes set in ``__init__`` (roles and labels first), actions are verbs, and
nothing in here asserts: the tests do, with Playwright's ``expect``.
"""

from .dashboard import DashboardPage
from .exports import ExportItem, ExportsPage
from .landing import LandingPage
from .login import LoginPage
from .not_found import NotFoundPage
from .shell import AppShell
from .signup import SignupPage
from .symbol import SymbolPage
from .uploads import UploadRow, UploadsPage
from .watchlists import WatchlistsPage

__all__ = ["AppShell", "DashboardPage", "ExportItem", "ExportsPage", "LandingPage", "LoginPage",
           "NotFoundPage", "SignupPage", "SymbolPage", "UploadRow", "UploadsPage", "WatchlistsPage"]
