"""The state and county outlines under the summaries' heatmap: the live map's own.

The live map draws U.S. state lines (and county lines when zoomed in) from the
vendored ``us-atlas`` TopoJSON with ``topojson-client``; the heatmap draws the
same files with ``js/summary-outlines.js``, so both maps look alike and the
heat sits on places people recognise even with no tile server.
"""

from __future__ import annotations

import json

from web.assets import STATIC_DIR
from web.i18n import map_labels
from web.live.map_page import COUNTIES_TOPOJSON, STATES_TOPOJSON
from web.static_assets import asset_url

TOPOJSON_JS = "vendor/topojson-client-3.1.0/dist/topojson-client.min.js"
OUTLINES_JS = "js/summary-outlines.js"
# County lines from this zoom on, as on the live map.
COUNTIES_MIN_ZOOM = 6


def outlines_config(map_name: str, has_tiles: bool, lang: str = "en") -> str:
    """The script's configuration, as JSON safe inside a data attribute or a script element."""
    counties = (STATIC_DIR / COUNTIES_TOPOJSON).is_file()
    config = {
        "mapVar": map_name,
        "hasTiles": has_tiles,
        "states": asset_url(STATES_TOPOJSON),
        "counties": asset_url(COUNTIES_TOPOJSON) if counties else None,
        "countiesMinZoom": COUNTIES_MIN_ZOOM,
        "attribution": map_labels(lang)["outlines_attribution"],
    }
    text = json.dumps(config, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
