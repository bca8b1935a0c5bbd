// The alerts page's map: draw the area an alert watches, a circle (tap its
// centre, set the radius) or a polygon (tap its corners in order). What is
// drawn goes into the form's hidden "area" field as the JSON API's value;
// the server checks it (web/alerts/forms.py, courtwatch/alerts/model.py: the
// only rules; what this script says is a hint). The member's other areas are
// drawn in grey; the one being drawn or edited (the form's, after "Change")
// has handles to drag: a circle's centre and edge, a polygon's corners.
// Without JavaScript the picker stays hidden and the form still works.
(function () {
  "use strict";
  var box = document.getElementById("area-picker");
  if (!box || typeof L === "undefined") return;
  var cfg = JSON.parse(box.dataset.config);
  var value = document.getElementById("area-value");
  var state = document.getElementById("area-state");
  var radius = document.getElementById("area-radius");
  var radiusLabel = document.getElementById("area-radius-label");
  var tools = document.getElementById("area-tools");
  box.hidden = false;

  var map = L.map("area-map", { center: [39.5, -98.35], zoom: 3, minZoom: 2, maxZoom: 18 });
  if (cfg.tiles) {
    // Only the operator's own tile server (the page's CSP allows no other).
    L.tileLayer(cfg.tiles, { attribution: cfg.attribution, maxZoom: 18 }).addTo(map);
  } else if (typeof topojson !== "undefined") {
    // No tile server: the vendored state outlines, so the map is not blank.
    fetch(cfg.states).then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (topo) {
        if (!topo) return;
        L.geoJSON(topojson.mesh(topo, topo.objects.states), {
          style: { color: "#777", weight: 1, fill: false }, interactive: false,
        }).addTo(map);
      })
      .catch(function () { /* the dots and the drawing still work */ });
  }
  // Courthouses as dots: where people report from, and a way to find one's city.
  cfg.courthouses.forEach(function (c) {
    L.circleMarker([c[2], c[3]], { radius: 4, weight: 1, color: "#0b5cad", fillOpacity: 0.8, className: "courthouse-dot", interactive: false })
      .addTo(map);
  });

  // The member's areas, but the one the form edits (that one is the drawing).
  var form = document.getElementById("subscribe");
  var editing = form ? form.getAttribute("data-editing") : null;
  var others = [];
  document.querySelectorAll("#subscriptions [data-area]").forEach(function (item) {
    if (item.getAttribute("data-subscription-id") === editing) return;
    var area;
    try { area = JSON.parse(item.getAttribute("data-area")); } catch (e) { return; }
    var style = { color: "#555", weight: 2, dashArray: "4 4", fillOpacity: 0.08, interactive: false, className: "your-area" };
    var layer = null;
    if (area && Array.isArray(area.polygon)) {
      layer = L.polygon(area.polygon.map(function (p) { return [p.lat, p.lon]; }), style);
    } else if (area && isFinite(area.lat) && isFinite(area.lon) && isFinite(area.radius_m)) {
      layer = L.circle([area.lat, area.lon], Object.assign({ radius: area.radius_m }, style));
    }
    if (!layer) return;
    // Its name as the list shows it; as text, never as markup.
    var name = document.createElement("span");
    var heading = item.querySelector("strong");
    name.textContent = heading ? heading.textContent : "";
    if (name.textContent) layer.bindTooltip(name, { permanent: true, direction: "center", className: "your-area-name" });
    others.push(layer.addTo(map));
  });

  var mode = "none";
  var centre = null;
  var corners = [];
  var shape = null;
  var handles = L.layerGroup().addTo(map);

  function km() {
    var n = parseFloat(radius.value);
    if (!isFinite(n) || n <= 0) n = 2;
    return Math.min(n, cfg.maxRadiusKm);
  }

  function round(n) { return Math.round(n * 1e6) / 1e6; }

  // Due east of the centre, on the circle: the handle that resizes it.
  function edgePoint() {
    return L.latLng(centre.lat, centre.lng + km() / (111.32 * Math.max(Math.cos(centre.lat * Math.PI / 180), 0.01)));
  }

  function handle(at, name, moved) {
    var marker = L.marker(at, {
      draggable: true, keyboard: false,
      icon: L.divIcon({ className: "area-handle area-handle-" + name, iconSize: [24, 24] }),
    });
    marker.on("drag", function () { moved(marker.getLatLng()); draw(); });
    handles.addLayer(marker);
    return marker;
  }

  // Handles are made again only when the drawing's points change by a tap,
  // never while one is dragged (that would drop the drag).
  function placeHandles() {
    handles.clearLayers();
    if (mode === "circle" && centre) {
      var edge = null;
      handle(centre, "centre", function (at) { centre = at.wrap(); edge.setLatLng(edgePoint()); });
      edge = handle(edgePoint(), "edge", function (at) {
        var metres = Math.min(Math.max(map.distance(centre, at), 100), cfg.maxRadiusKm * 1000);
        radius.value = String(Math.round(metres / 100) / 10);
      });
      edge.on("dragend", function () { edge.setLatLng(edgePoint()); });
    } else if (mode === "polygon") {
      corners.forEach(function (corner, i) {
        handle(corner, "corner", function (at) { corners[i] = at.wrap(); });
      });
    }
  }

  function draw() {
    if (shape) { map.removeLayer(shape); shape = null; }
    var area = null;
    if (mode === "circle" && centre) {
      shape = L.circle(centre, { radius: km() * 1000 }).addTo(map);
      area = { lat: round(centre.lat), lon: round(centre.lng), radius_m: Math.round(km() * 1000) };
      state.textContent = "";
    } else if (mode === "polygon" && corners.length) {
      shape = (corners.length < 3 ? L.polyline(corners) : L.polygon(corners)).addTo(map);
      if (corners.length >= 3) {
        area = { polygon: corners.map(function (p) { return { lat: round(p.lat), lon: round(p.lng) }; }) };
      }
      var lats = corners.map(function (p) { return p.lat; });
      var lons = corners.map(function (p) { return p.lng; });
      var span = Math.max(Math.max.apply(null, lats) - Math.min.apply(null, lats),
        Math.max.apply(null, lons) - Math.min.apply(null, lons));
      // The server refuses a larger one; say so now, while the corners are on screen.
      state.textContent = box.dataset.corners.replace("{n}", corners.length) +
        (span > cfg.maxSpan ? " — " + box.dataset.tooBig : "");
    } else {
      state.textContent = "";
    }
    value.value = area ? JSON.stringify(area) : "";
  }

  function setMode(next) {
    mode = next;
    radiusLabel.hidden = mode !== "circle";
    tools.hidden = mode !== "polygon";
    draw();
    placeHandles();
  }

  map.on("click", function (event) {
    var at = event.latlng.wrap();
    if (mode === "circle") {
      centre = at;
      draw();
      placeHandles();
      // A circle of a few km is a dot at the country's zoom: show it.
      map.fitBounds(shape.getBounds(), { maxZoom: 15, padding: [32, 32] });
      return;
    } else if (mode === "polygon") {
      if (corners.length >= cfg.maxCorners) {
        state.textContent = box.dataset.tooMany.replace("{n}", cfg.maxCorners);
        return;
      }
      corners.push(at);
    } else {
      return;
    }
    draw();
    placeHandles();
  });
  box.querySelectorAll("input[name=area_mode]").forEach(function (radio) {
    radio.addEventListener("change", function () { if (radio.checked) setMode(radio.value); });
  });
  radius.addEventListener("input", function () { draw(); placeHandles(); });
  document.getElementById("area-undo").addEventListener("click", function () { corners.pop(); draw(); placeHandles(); });
  document.getElementById("area-clear").addEventListener("click", function () { corners = []; centre = null; draw(); placeHandles(); });

  // A refused form keeps what was drawn: show it again.
  try {
    var kept = value.value ? JSON.parse(value.value) : null;
    if (kept && Array.isArray(kept.polygon)) {
      corners = kept.polygon.filter(function (p) { return p && isFinite(p.lat) && isFinite(p.lon); })
        .slice(0, cfg.maxCorners).map(function (p) { return L.latLng(p.lat, p.lon); });
      box.querySelector("input[value=polygon]").checked = true;
      setMode("polygon");
    } else if (kept && isFinite(kept.lat) && isFinite(kept.lon) && isFinite(kept.radius_m)) {
      centre = L.latLng(kept.lat, kept.lon);
      radius.value = String(kept.radius_m / 1000);
      box.querySelector("input[value=circle]").checked = true;
      setMode("circle");
    }
    if (shape) {
      map.fitBounds(shape.getBounds(), { maxZoom: 14, padding: [32, 32] });
    } else if (others.length) {
      map.fitBounds(L.featureGroup(others).getBounds(), { maxZoom: 12 });
    }
  } catch (e) { value.value = ""; }
})();
