from tests.api.conftest import api  # noqa: F401  (the client-API fixture, shared)
from tests.browser.conftest import artifacts, browser  # noqa: F401  (real Chromium)
