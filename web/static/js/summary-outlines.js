// The summaries heatmap's basemap: U.S. state lines, and county lines once
// zoomed in, drawn from the same vendored us-atlas TopoJSON as the live map
// (live-map.js, drawBasemap), below the heat. Configuration comes from the
// page (web/summaries/outlines.py); without it, or without Leaflet and
// topojson-client, the heatmap simply shows alone.
(function () {
  "use strict";
  var holder = document.getElementById("summary-outlines-config");
  if (!holder || typeof L === "undefined" || typeof topojson === "undefined") return;
  var cfg;
  try {
    cfg = JSON.parse(holder.textContent);
  } catch (_) {
    return;
  }
  var map = window[cfg.mapVar];
  if (!map || typeof map.createPane !== "function") return;

  function sameSite(url) {
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" ? url : null;
  }
  function fetchJson(url) {
    if (!sameSite(url)) return Promise.resolve(null);
    return fetch(url, { credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .catch(function () { return null; });
  }

  var pane = map.createPane("cw-basemap");
  pane.style.zIndex = 250; // above tiles (200), below the heat (overlay pane, 400)
  pane.style.pointerEvents = "none";
  var base = { pane: "cw-basemap", renderer: L.canvas({ pane: "cw-basemap", padding: 0.5 }), interactive: false };

  fetchJson(cfg.states).then(function (topo) {
    if (!topo || !topo.objects) return;
    if (!cfg.hasTiles) {
      L.geoJSON(topojson.feature(topo, topo.objects.nation), Object.assign({}, base, {
        style: { stroke: false, fill: true, fillColor: "#fbfaf6", fillOpacity: 1 },
      })).addTo(map);
    }
    L.geoJSON(topojson.mesh(topo, topo.objects.states, function (a, b) { return a !== b; }),
      Object.assign({}, base, { style: { color: "#8d949c", weight: 1, fill: false } })).addTo(map);
    L.geoJSON(topojson.mesh(topo, topo.objects.nation), Object.assign({}, base, {
      style: { color: "#5b636b", weight: 1.4, fill: false },
      attribution: typeof cfg.attribution === "string" ? cfg.attribution : "",
    })).addTo(map);
    map.getContainer().setAttribute("data-outlines", "states");
  });

  // County lines: one small file per state in view, from the live map's index.
  if (!sameSite(cfg.counties)) return;
  var index = null;
  var loaded = {};
  function update() {
    if (map.getZoom() < cfg.countiesMinZoom) return;
    var ready = index ? Promise.resolve(index) : fetchJson(cfg.counties).then(function (i) {
      index = i && typeof i === "object" ? i : null;
      return index;
    });
    ready.then(function (found) {
      if (!found) return;
      var view = map.getBounds().pad(0.2);
      Object.keys(found).forEach(function (fips) {
        var entry = found[fips];
        if (loaded[fips] || !entry || !Array.isArray(entry.bbox)) return;
        var b = entry.bbox.map(Number);
        if (!view.intersects(L.latLngBounds([b[1], b[0]], [b[3], b[2]]))) return;
        loaded[fips] = true;
        fetchJson(entry.url).then(function (topo) {
          if (!topo || !topo.objects || !topo.objects.counties) { loaded[fips] = false; return; }
          L.geoJSON(topojson.mesh(topo, topo.objects.counties, function (a, b) { return a !== b; }),
            Object.assign({}, base, { style: { color: "#b2b8be", weight: 0.6, fill: false } })).addTo(map);
          map.getContainer().setAttribute("data-outlines", "counties");
        });
      });
    });
  }
  map.on("moveend", update);
  update();
})();
