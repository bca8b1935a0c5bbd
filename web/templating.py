"""The one Jinja environment every page renders with.

Templates extend base.html, which names static files through ``asset_url``:
a feature that made its own environment rendered without it and failed.
"""

from __future__ import annotations

from starlette.templating import Jinja2Templates

from courtwatch.domain.reports import MOST_PHOTOS
from courtwatch.photos import MOST_BYTES as MOST_PHOTO_BYTES
from web.assets import TEMPLATES_DIR
from web.members.header import signed_in_context
from web.static_assets import asset_url

# The header shows the signed-in member (web/members/header.py).
templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[signed_in_context])
# Templates name static files by content hash: cached for good, refetched after a change.
templates.env.globals["asset_url"] = asset_url
# The photo limits, for the outbox to check on the phone before it queues a
# report (outbox_text.html): the same numbers the server checks.
templates.env.globals["most_photos"] = MOST_PHOTOS
templates.env.globals["most_photo_bytes"] = MOST_PHOTO_BYTES
