/* courtwatch live map: keeps the folium-built Leaflet map current.
 *
 * Plain browser JavaScript, no build step, and no request to any host but the
 * page's own: people keep this open for hours on bad networks, and a request
 * elsewhere both fails offline and tells a third party who is watching.
 *
 * Protocol (docs/map-page.md):
 *   GET  /api/map/reports?bbox=w,s,e,n&kinds=a,b&since=ISO&courthouse=CODE&zoom=Z
 *        -> {position, reports: [MapReport], truncated}
 *           or, for a view of many reports, {position, clusters: [...], total}
 *   WS   /ws/live?snapshot=gzip&since=P  server -> client frames:
 *        snapshot {position, reports}  replace state (with snapshot=gzip: one
 *                                      binary frame, the same JSON gzipped)
 *        resume   {position}           deltas after P follow
 *        delta    {position, report}   upsert; ignore if position <= last applied
 *        heartbeat {position}          every ~15 s
 *
 * Every report we hold remembers the log position its data is from, so a
 * slower HTTP answer can never overwrite a newer websocket delta.
 */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("courtwatch-config").textContent);
  const T = cfg.labels;
  const KINDS = cfg.kinds;
  // What a member's word says now (courtwatch/domain/fold.py): "corroborated"
  // is a team member's on-scene confirmation (old rows never say it any more:
  // the server derives status from the stored verdict). Anything else is
  // drawn as unverified.
  const STATUSES = ["unverified", "corroborated", "verified", "amended_after_verdict", "disputed"];

  // Live connection timing (the server promises a heartbeat every ~15 s).
  const DEAD_AFTER_MS = 40000;
  const SUSPECT_AFTER_MS = 20000;
  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  // A blip shorter than this shows "reconnecting…"; longer, the time we lost it.
  const GRACE_MS = 5000;
  const RELOAD_DEBOUNCE_MS = 300;
  const RETRY_LOAD_MS = 10000;
  const REEVALUATE_MS = 60000;
  const FRESH_MS = 60000;
  const FEED_SIZE = 40;

  const WINDOW_MS = {
    "6h": 6 * 3600e3,
    "24h": 24 * 3600e3,
    "7d": 7 * 86400e3,
    "30d": 30 * 86400e3,
    all: null,
  };

  // Colour and shape both carry the kind, so it reads without colour vision
  // (Okabe-Ito palette) and on a grey, tile-less map.
  const KIND_STYLE = {
    courthouse_arrest: { color: "#d55e00", shape: "triangle" },
    sighting: { color: "#e69f00", shape: "circle" },
    call_in: { color: "#aa4499", shape: "square" },
    watch_shift: { color: "#0072b2", shape: "diamond" },
  };
  const SHAPES = {
    triangle: '<path d="M12 2.5 22 20.5H2Z"/>',
    circle: '<circle cx="12" cy="12" r="8.5"/>',
    square: '<rect x="4" y="4" width="16" height="16" rx="2"/>',
    diamond: '<path d="M12 1.5 22.5 12 12 22.5 1.5 12Z"/>',
  };

  /* ---------- small helpers ---------- */

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, k) => (k in values ? values[k] : ""));
  }

  function label(key, fallback) {
    return Object.prototype.hasOwnProperty.call(T, key) ? T[key] : fallback;
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children || []) {
      if (child !== null && child !== undefined) {
        node.append(child);
      }
    }
    return node;
  }

  const timeFmt = new Intl.DateTimeFormat(cfg.lang, { hour: "numeric", minute: "2-digit" });
  const dateTimeFmt = new Intl.DateTimeFormat(cfg.lang, { dateStyle: "medium", timeStyle: "short" });
  const shortFmt = new Intl.DateTimeFormat(cfg.lang, {
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
  });

  function parseTime(iso) {
    const t = iso ? Date.parse(iso) : NaN;
    return Number.isFinite(t) ? t : null;
  }

  function when(ms) {
    if (ms === null) return "";
    const d = new Date(ms);
    return d.toDateString() === new Date().toDateString() ? timeFmt.format(d) : shortFmt.format(d);
  }

  // Report links come from the server, but only ever as a path on this host.
  function safePath(url) {
    return typeof url === "string" && /^\/(?!\/)/.test(url) ? url : null;
  }

  /* ---------- marker drawing ---------- */

  function markerSvg(kind, status) {
    const style = KIND_STYLE[kind] || { color: "#607d8b", shape: "circle" };
    let paint;
    let extra = "";
    switch (status) {
      case "verified":
        paint = `fill="${style.color}" stroke="#ffffff" stroke-width="2"`;
        break;
      case "corroborated":
        // A team member on scene confirmed it: filled, but paler than verified.
        paint = `fill="${style.color}" fill-opacity="0.5" stroke="${style.color}" stroke-width="2"`;
        break;
      case "amended_after_verdict":
        // Changed by its author after it was verified: no longer vouched for.
        // Hollow like an unverified report (never looks confirmed), with a solid
        // outline and a dark "!" badge so a team sees it needs a new check.
        paint = `fill="#ffffff" fill-opacity="0.9" stroke="${style.color}" stroke-width="2.5"`;
        extra =
          '<circle cx="18.5" cy="5.5" r="5" fill="#222" stroke="#ffffff" stroke-width="1.5"/>' +
          '<path d="M18.5 2.9v3.4" stroke="#ffffff" stroke-width="1.8" stroke-linecap="round"/>' +
          '<circle cx="18.5" cy="8.3" r="1" fill="#ffffff"/>';
        break;
      case "disputed":
        paint = 'fill="#c4c4c4" stroke="#6b6b6b" stroke-width="2"';
        extra = '<path d="M3 21 21 3" stroke="#222" stroke-width="2.5" stroke-linecap="round"/>';
        break;
      default: // unverified, or anything we do not know yet: never looks confirmed
        paint = `fill="#ffffff" fill-opacity="0.9" stroke="${style.color}" stroke-width="2.5" stroke-dasharray="3 2"`;
    }
    return (
      `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">` +
      `<g ${paint}>${SHAPES[style.shape]}</g>${extra}</svg>`
    );
  }

  // A DivIcon that also tags its element with the report id, so tests and
  // people inspecting the page can find a report's marker.
  const ReportIcon = L.DivIcon.extend({
    createIcon(oldIcon) {
      const div = L.DivIcon.prototype.createIcon.call(this, oldIcon);
      div.dataset.reportId = this.options.reportId;
      div.setAttribute("aria-label", this.options.ariaLabel);
      return div;
    },
  });

  /* ---------- state ---------- */

  const state = {
    map: null,
    cluster: null,
    reports: new Map(), // id -> {r: MapReport, pos: int, freshUntil: ms}
    markers: new Map(), // id -> L.Marker
    lastPosition: null, // last log position applied from the live stream
    savedAt: null, // while the drawn view is the saved one: when it was saved (ms)
    status: "connecting",
    // A wide view of many reports is drawn as the server's clusters (counts per
    // grid cell, docs/map-page.md "Clusters") instead of a marker per report.
    serverClusters: null, // L.LayerGroup of cluster markers
    clusterMode: false,
    clusteredTotal: 0,
  };

  function validReport(r) {
    return r && typeof r.id === "string" && r.id.length > 0;
  }

  function hasPlace(r) {
    return Number.isFinite(r.lat) && Number.isFinite(r.lon);
  }

  // Upsert unless what we hold is from a later log position. Returns true if stored.
  function store(r, pos, fresh) {
    if (!validReport(r)) return false;
    const held = state.reports.get(r.id);
    if (held && held.pos > pos) return false;
    state.reports.set(r.id, {
      r,
      pos,
      freshUntil: fresh ? Date.now() + FRESH_MS : held ? held.freshUntil : 0,
    });
    return true;
  }

  /* ---------- the last view, saved on this phone ---------- */

  // A warm load draws the whole-country view this phone got last time at once
  // (on a 400 ms round trip the fresh one is most of a second away), tells the
  // reader it is saved, not current, and resumes the live stream from the log
  // position that view was at: every change since arrives as a delta, and the
  // fresh first paint replaces the rest. The map is public data; "Remove
  // everything" clears localStorage with the rest.
  const VIEW_KEY = "courtwatch.map.view";
  const VIEW_FORMAT = 1;
  const VIEW_MAX_CHARS = 1500000; // well inside localStorage's quota; larger is not saved

  function filtersKey(f) {
    return JSON.stringify([[...f.kinds].sort(), f.window, f.courthouse]);
  }

  function saveView(f, data) {
    try {
      const text = JSON.stringify({
        format: VIEW_FORMAT,
        filters: filtersKey(f),
        savedAt: Date.now(),
        position: data.position,
        reports: data.reports,
      });
      if (text.length > VIEW_MAX_CHARS) localStorage.removeItem(VIEW_KEY);
      else localStorage.setItem(VIEW_KEY, text);
    } catch (_) {
      // private browsing or a full quota: the next load is just not instant
    }
  }

  function savedView(f) {
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(VIEW_KEY) || "null");
    } catch (_) {
      return null;
    }
    const usable =
      saved &&
      saved.format === VIEW_FORMAT &&
      saved.filters === filtersKey(f) &&
      Number.isSafeInteger(saved.position) &&
      saved.position >= 0 &&
      Number.isFinite(saved.savedAt) &&
      Array.isArray(saved.reports);
    return usable ? saved : null;
  }

  /* ---------- filters ---------- */

  const STORAGE_KEY = "courtwatch.map.filters";
  const form = document.getElementById("cw-filter-form");
  const courthouseSelect = document.getElementById("cw-courthouse");
  const windowSelect = document.getElementById("cw-window");

  function readFilters() {
    const kinds = new Set(
      Array.from(form.querySelectorAll('input[name="kind"]:checked'), (i) => i.value),
    );
    return { kinds, window: windowSelect.value, courthouse: courthouseSelect.value };
  }

  function saveFilters() {
    const f = readFilters();
    try {
      localStorage.setItem(
        STORAGE_KEY,
        JSON.stringify({ kinds: [...f.kinds], window: f.window, courthouse: f.courthouse }),
      );
    } catch (_) {
      // private browsing: filters just do not survive a reload
    }
  }

  function restoreFilters() {
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    } catch (_) {
      saved = null;
    }
    if (!saved) return;
    if (Array.isArray(saved.kinds)) {
      for (const input of form.querySelectorAll('input[name="kind"]')) {
        input.checked = saved.kinds.includes(input.value);
      }
    }
    if (saved.window in WINDOW_MS) windowSelect.value = saved.window;
    if (typeof saved.courthouse === "string" && saved.courthouse) {
      // The list arrives later; keep the choice as an option until then.
      courthouseSelect.append(el("option", { value: saved.courthouse, text: saved.courthouse }));
      courthouseSelect.value = saved.courthouse;
    }
  }

  function sinceMs(f, now) {
    const span = WINDOW_MS[f.window];
    return span ? now - span : null;
  }

  function passes(r, f, now) {
    if (!f.kinds.has(r.kind) || !hasPlace(r)) return false;
    if (f.courthouse && r.courthouse_code !== f.courthouse) return false;
    // The window is over the last change, as the server's `since` is: a report
    // verified or disputed an hour ago counts as activity in "last 6 hours".
    const since = sinceMs(f, now);
    if (since !== null) {
      const changed = parseTime(r.updated_at);
      if (changed !== null && changed < since) return false;
    }
    return true;
  }

  // A sighting fades once stale unless a verifier verified it or a team member
  // confirmed it on scene (anonymous "I see it too" does not keep it bright);
  // it stays on the map (nothing is removed), just quieter.
  function isFaded(r, now) {
    if (r.kind !== "sighting" || r.status === "verified" || r.status === "corroborated") {
      return false;
    }
    let staleAt = parseTime(r.stale_at);
    if (staleAt === null) {
      const observed = parseTime(r.observed_at);
      staleAt = observed === null ? null : observed + cfg.staleHours * 3600e3;
    }
    return staleAt !== null && staleAt <= now;
  }

  /* ---------- markers ---------- */

  function kindLabel(kind) {
    return label("kind_" + kind, kind);
  }

  function statusLabel(status) {
    return label("status_" + status, status);
  }

  function eventLabel(event) {
    return label("event_" + event, event || "");
  }

  function iconFor(entry, now) {
    const r = entry.r;
    const status = STATUSES.includes(r.status) ? r.status : "unverified";
    const faded = isFaded(r, now);
    const fresh = entry.freshUntil > now;
    const classes = ["cw-marker", "cw-kind-" + r.kind, "cw-status-" + status];
    if (faded) classes.push("cw-faded");
    if (fresh) classes.push("cw-fresh");
    const key = classes.join(" ");
    const aria = `${kindLabel(r.kind)}, ${statusLabel(status)}${faded ? ", " + T.stale : ""}: ${titleOf(r)}`;
    return {
      key,
      icon: new ReportIcon({
        className: key,
        html: markerSvg(r.kind, status),
        iconSize: [36, 36], // the element is the touch target, larger than the drawing
        iconAnchor: [18, 18],
        popupAnchor: [0, -14],
        reportId: r.id,
        ariaLabel: aria,
      }),
    };
  }

  // The server's title is English ("sighting · Boston Immigration Court · 2
  // agents"): the page says it in the reader's language from the same facts.
  function titleOf(r) {
    const where = r.courthouse_name || T.pinned_place || "";
    const agents = /· (\d{1,3}) agents$/.exec(r.title || "");
    const parts = [kindLabel(r.kind), where];
    if (agents) parts.push(fmt(T.agents_fmt, { count: agents[1] }));
    return parts.filter(Boolean).join(" · ");
  }

  function withLang(path) {
    return path ? `${path}?lang=${encodeURIComponent(cfg.lang)}` : path;
  }

  function popupContent(id) {
    const entry = state.reports.get(id);
    if (!entry) return el("div");
    const r = entry.r;
    const now = Date.now();
    const status = STATUSES.includes(r.status) ? r.status : "unverified";
    const swatch = el("span", { class: "cw-swatch", "aria-hidden": "true" });
    swatch.innerHTML = markerSvg(r.kind, status); // built from constants only
    const observed = parseTime(r.observed_at);
    const updated = parseTime(r.updated_at);
    const link = withLang(safePath(r.url));
    return el("div", { class: "cw-popup", "data-report-id": r.id }, [
      el("p", { class: "cw-popup-head" }, [
        swatch,
        el("span", { text: `${kindLabel(r.kind)} · ${statusLabel(status)}` }),
      ]),
      el("p", { class: "cw-popup-title", text: titleOf(r) }),
      el("dl", {}, [
        el("dt", { text: T.observed }),
        el("dd", {}, [
          el("time", {
            datetime: r.observed_at,
            text: observed === null ? "" : dateTimeFmt.format(new Date(observed)),
          }),
        ]),
        el("dt", { text: T.last_update }),
        el("dd", {
          text: `${eventLabel(r.last_event)}${updated === null ? "" : " · " + when(updated)}`,
        }),
      ]),
      Number.isInteger(r.corroborations) && r.corroborations > 0
        ? el("p", { class: "cw-popup-seen", text: fmt(T.seen_too_fmt, { count: r.corroborations }) })
        : null,
      isFaded(r, now) ? el("p", { class: "cw-popup-stale", text: T.stale }) : null,
      link ? el("a", { class: "cw-popup-link", href: link, text: T.open_report }) : null,
    ]);
  }

  function makeMarker(id) {
    const marker = L.marker([0, 0], { keyboard: true, riseOnHover: true });
    marker.bindPopup(() => popupContent(id), { maxWidth: 320 });
    marker.cwIconKey = null;
    state.markers.set(id, marker);
    return marker;
  }

  // Bring every marker in line with state and filters; batched, because
  // markercluster re-clusters once per addLayers/removeLayers call.
  function syncMarkers(ids) {
    const f = readFilters();
    const now = Date.now();
    const toAdd = [];
    const toRemove = [];
    const refreshed = [];
    for (const id of ids) {
      const entry = state.reports.get(id);
      let marker = state.markers.get(id);
      const visible = entry !== undefined && passes(entry.r, f, now);
      if (!visible) {
        if (marker && state.cluster.hasLayer(marker)) toRemove.push(marker);
        continue;
      }
      if (!marker) marker = makeMarker(id);
      const r = entry.r;
      const at = marker.getLatLng();
      if (at.lat !== r.lat || at.lng !== r.lon) marker.setLatLng([r.lat, r.lon]);
      const { key, icon } = iconFor(entry, now);
      if (key !== marker.cwIconKey) {
        marker.setIcon(icon);
        marker.cwIconKey = key;
        marker.cwKind = r.kind;
        marker.cwStatus = r.status;
        refreshed.push(marker);
      }
      if (marker.isPopupOpen()) marker.getPopup().update();
      if (!state.cluster.hasLayer(marker)) toAdd.push(marker);
    }
    if (toRemove.length) state.cluster.removeLayers(toRemove);
    if (toAdd.length) state.cluster.addLayers(toAdd);
    // Cluster bubbles show whether they hide an arrest: redraw the affected ones.
    const shown = refreshed.filter((m) => !toAdd.includes(m) && state.cluster.hasLayer(m));
    if (shown.length) state.cluster.refreshClusters(shown);
  }

  function syncAll() {
    syncMarkers(new Set([...state.reports.keys(), ...state.markers.keys()]));
    scheduleFeed();
  }

  /* ---------- server-side clusters (wide views of many reports) ---------- */

  // While clusters are shown, a live delta is not added to a count here (the
  // client cannot tell whether an update is to a report already counted): the
  // view is asked for again once, a few seconds later, with jitter, so a burst
  // of deltas costs each viewer one cheap request, not one per delta.
  const RECLUSTER_MIN_MS = 3000;
  const RECLUSTER_JITTER_MS = 7000;
  let reclusterTimer = null;

  function scheduleRecluster() {
    if (reclusterTimer !== null) return;
    reclusterTimer = setTimeout(
      () => {
        reclusterTimer = null;
        if (state.clusterMode) loadView();
      },
      RECLUSTER_MIN_MS + Math.random() * RECLUSTER_JITTER_MS,
    );
  }

  function shortCount(n) {
    if (n < 1000) return String(n);
    if (n < 10000) return (n / 1000).toFixed(1).replace(/\.0$/, "") + "k";
    return Math.round(n / 1000) + "k";
  }

  function validCluster(c) {
    return (
      c &&
      Number.isSafeInteger(c.count) &&
      c.count > 0 &&
      Number.isFinite(c.lat) &&
      Number.isFinite(c.lon)
    );
  }

  function clusterBounds(c) {
    const edges = [c.south, c.west, c.north, c.east];
    if (!edges.every(Number.isFinite)) return null;
    return L.latLngBounds([c.south, c.west], [c.north, c.east]);
  }

  function countIcon(n, arrests) {
    const size = n < 100 ? 36 : n < 1000 ? 42 : 48;
    return L.divIcon({
      html: `<span>${shortCount(n)}</span>`,
      className: "cw-cluster cw-server-cluster" + (arrests > 0 ? " cw-cluster-arrest" : ""),
      iconSize: [size, size],
    });
  }

  // The server's grid puts a cluster at its reports' mean, anywhere in its cell:
  // two neighbours can land a few pixels apart. Those are drawn as one bubble
  // with their summed count (markercluster merges them; selecting it zooms in).
  function mergedClusterIcon(group) {
    let n = 0;
    let arrests = 0;
    for (const m of group.getAllChildMarkers()) {
      n += m.cwCount || 0;
      arrests += m.cwArrests || 0;
    }
    return countIcon(n, arrests);
  }

  function serverClusterMarker(c) {
    const n = c.count;
    const arrests = Number.isSafeInteger(c.arrests) ? c.arrests : 0;
    const text = fmt(T.cluster_fmt, { count: n.toLocaleString(cfg.lang), arrests });
    const icon = countIcon(n, arrests);
    // Where two bubbles overlap, the larger count stays readable on top.
    const marker = L.marker([c.lat, c.lon], {
      icon,
      keyboard: true,
      title: text,
      alt: text,
      zIndexOffset: Math.min(n, 100000),
    });
    marker.cwCount = n;
    marker.cwArrests = arrests;
    marker.on("click", () => {
      const map = state.map;
      const bounds = clusterBounds(c);
      const max = map.getMaxZoom();
      const spread = bounds && !bounds.getNorthEast().equals(bounds.getSouthWest());
      if (spread) map.fitBounds(bounds, { padding: [32, 32], maxZoom: max });
      else map.setView([c.lat, c.lon], Math.min(map.getZoom() + 3, max));
    });
    return marker;
  }

  // Draw the server's clusters in place of the individual markers (or go back
  // to markers when ``clusters`` is null). The reports held stay: the feed and
  // the announcements still come from them.
  function showServerClusters(clusters, total) {
    const map = state.map;
    state.serverClusters.clearLayers();
    if (clusters === null) {
      state.clusterMode = false;
      state.clusteredTotal = 0;
      if (!map.hasLayer(state.cluster)) map.addLayer(state.cluster);
      return;
    }
    state.clusterMode = true;
    if (map.hasLayer(state.cluster)) map.removeLayer(state.cluster);
    let sum = 0;
    const drawn = [];
    for (const c of clusters) {
      if (!validCluster(c)) continue;
      sum += c.count;
      drawn.push(serverClusterMarker(c));
    }
    state.serverClusters.addLayers(drawn);
    state.clusteredTotal = Number.isSafeInteger(total) ? total : sum;
  }

  function boundsOfClusters(clusters) {
    let bounds = null;
    for (const c of clusters) {
      if (!validCluster(c)) continue;
      const b = clusterBounds(c) || L.latLngBounds([c.lat, c.lon], [c.lat, c.lon]);
      bounds = bounds ? bounds.extend(b) : b;
    }
    return bounds;
  }

  function clusterIcon(cluster) {
    const children = cluster.getAllChildMarkers();
    const arrest = children.some(
      (m) => m.cwKind === "courthouse_arrest" && m.cwStatus !== "disputed",
    );
    const n = cluster.getChildCount();
    const size = n < 10 ? 36 : n < 100 ? 42 : 50;
    return L.divIcon({
      html: `<span>${n}</span>`,
      className: "cw-cluster" + (arrest ? " cw-cluster-arrest" : ""),
      iconSize: [size, size],
    });
  }

  /* ---------- activity feed ---------- */

  const feedList = document.getElementById("cw-feed-list");
  const feedEmpty = document.getElementById("cw-feed-empty");
  const announcer = document.getElementById("cw-announcer");
  let feedTimer = null;

  function scheduleFeed() {
    if (feedTimer === null) feedTimer = setTimeout(renderFeed, 50);
  }

  // The feed is the most recently changed reports that pass the filters: a
  // delta moves its report to the top, a first paint seeds it.
  function renderFeed() {
    feedTimer = null;
    const f = readFilters();
    const now = Date.now();
    const entries = [...state.reports.values()]
      .filter((e) => passes(e.r, f, now))
      .sort((a, b) => (parseTime(b.r.updated_at) || 0) - (parseTime(a.r.updated_at) || 0))
      .slice(0, FEED_SIZE);
    const items = entries.map((e) => {
      const r = e.r;
      const status = STATUSES.includes(r.status) ? r.status : "unverified";
      const swatch = el("span", { class: "cw-swatch", "aria-hidden": "true" });
      swatch.innerHTML = markerSvg(r.kind, status);
      const event = eventLabel(r.last_event);
      // "Disputed · Disputed" says nothing twice: drop the status when the event names it.
      const meta = [event, event === statusLabel(status) ? "" : statusLabel(status), when(parseTime(r.updated_at))]
        .filter(Boolean)
        .join(" · ");
      const button = el("button", { type: "button", "data-report-id": r.id }, [
        swatch,
        el("span", { class: "cw-feed-text" }, [
          el("span", { class: "cw-feed-title", text: titleOf(r) }),
          el("span", { class: "cw-feed-meta", text: `${kindLabel(r.kind)} · ${meta}` }),
        ]),
      ]);
      const classes = [];
      if (e.freshUntil > now) classes.push("cw-new");
      if (isFaded(r, now)) classes.push("cw-faded");
      return el("li", { class: classes.join(" ") || null }, [button]);
    });
    // Re-rendering must not pull keyboard focus out from under someone reading the feed.
    const focused = document.activeElement;
    const focusedId =
      focused && feedList.contains(focused) ? focused.closest("button")?.dataset.reportId : null;
    feedList.replaceChildren(...items);
    feedEmpty.hidden = items.length > 0;
    if (focusedId) {
      const again = feedList.querySelector(`button[data-report-id="${CSS.escape(focusedId)}"]`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  feedList.addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-report-id]");
    if (!button) return;
    const marker = state.markers.get(button.dataset.reportId);
    if (marker && state.cluster.hasLayer(marker)) {
      // On a phone the open feed covers the map: fold it so the popup shows.
      if (!window.matchMedia("(min-width: 56rem)").matches) feedBox.open = false;
      state.cluster.zoomToShowLayer(marker, () => marker.openPopup());
    }
  });

  // On a phone the feed starts folded: count what arrived since it was last open.
  const feedBox = document.getElementById("cw-feed");
  const feedBadge = document.getElementById("cw-feed-badge");
  let unseen = 0;

  function showUnseen() {
    feedBadge.textContent = fmt(T.feed_new_fmt, { count: unseen });
    feedBadge.hidden = unseen === 0;
  }

  feedBox.addEventListener("toggle", () => {
    if (feedBox.open) {
      unseen = 0;
      showUnseen();
    }
  });

  function announce(r) {
    if (!feedBox.open) {
      unseen += 1;
      showUnseen();
    }
    announcer.textContent = fmt(T.feed_announce_fmt, {
      event: eventLabel(r.last_event),
      kind: kindLabel(r.kind),
      title: titleOf(r),
    });
  }

  /* ---------- connection status ---------- */

  const statusBox = document.getElementById("cw-status");
  const statusText = document.getElementById("cw-status-text");
  const baseTitle = document.title;

  function setStatus(next, since) {
    state.status = next;
    statusBox.dataset.state = next;
    let text;
    if (next === "live") text = T.conn_live;
    else if (next === "reconnecting") text = T.conn_reconnecting;
    else if (next === "disconnected") text = fmt(T.conn_disconnected_fmt, { time: timeFmt.format(since) });
    else text = T.conn_connecting;
    if (statusText.textContent !== text) statusText.textContent = text;
    // A laptop tab in the background should say so too.
    document.title = next === "disconnected" ? `⚠ ${text} — ${baseTitle}` : baseTitle;
  }

  /* ---------- first paint and reloads over HTTP ---------- */

  const notice = document.getElementById("cw-notice");
  let loadTimer = null;
  let loadAbort = null;

  function showNotice(text) {
    notice.textContent = text || "";
    notice.hidden = !text;
  }

  function scheduleLoad(delay) {
    clearTimeout(loadTimer);
    loadTimer = setTimeout(
      () => {
        loadTimer = null;
        loadView();
      },
      delay === undefined ? RELOAD_DEBOUNCE_MS : delay,
    );
  }

  function bboxParam() {
    const b = state.map.getBounds().pad(0.1);
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    const round = (v) => Number(v.toFixed(5));
    return [
      round(clamp(b.getWest(), -180, 180)),
      round(clamp(b.getSouth(), -90, 90)),
      round(clamp(b.getEast(), -180, 180)),
      round(clamp(b.getNorth(), -90, 90)),
    ].join(",");
  }

  // The first view fits the data: a phone's narrow screen centred on the
  // country would leave the east coast (and its NYC cluster) off-screen. The
  // first paint asks for the whole country, then the map moves to what it got;
  // later loads follow the viewport again.
  const WHOLE_COUNTRY = "-180,15,-60,72";
  let fitted = false;

  let fittedFromSaved = false;
  const savedIds = new Set(); // drawn from the saved view, not changed since

  function boundsOf(ids) {
    const points = [];
    for (const id of ids) {
      const held = state.reports.get(id);
      if (held && hasPlace(held.r)) points.push([held.r.lat, held.r.lon]);
    }
    return points.length ? L.latLngBounds(points) : null;
  }

  function fitToData(touched) {
    const bounds = boundsOf(touched);
    if (bounds) state.map.fitBounds(bounds, { padding: [32, 32], maxZoom: 11 });
  }

  // Draw the saved view, if this phone has one for these filters, and resume the
  // live stream from its position at once, alongside the fresh first paint.
  function drawSavedView() {
    const saved = savedView(readFilters());
    if (!saved) return;
    const touched = new Set();
    for (const r of saved.reports) {
      if (store(r, saved.position, false)) touched.add(r.id);
    }
    for (const id of touched) savedIds.add(id);
    state.lastPosition = saved.position;
    state.savedAt = saved.savedAt;
    showNotice(fmt(T.saved_fmt, { time: when(saved.savedAt) }));
    syncMarkers(touched);
    fitToData(touched);
    fittedFromSaved = touched.size > 0;
    scheduleFeed();
    startLive();
  }

  async function loadView() {
    const f = readFilters();
    const first = !fitted;
    if (loadAbort) loadAbort.abort();
    if (f.kinds.size === 0) {
      showServerClusters(null, 0);
      showNotice("");
      syncAll();
      startLive();
      return;
    }
    const since = sinceMs(f, Date.now());
    const params = new URLSearchParams({
      bbox: first ? WHOLE_COUNTRY : bboxParam(),
      kinds: KINDS.filter((k) => f.kinds.has(k)).join(","),
      since: since === null ? "" : new Date(since).toISOString(),
      courthouse: f.courthouse,
      // The server answers a view of many reports with clusters at this zoom.
      zoom: String(Math.max(0, Math.min(18, Math.round(state.map.getZoom())))),
    });
    const controller = new AbortController();
    loadAbort = controller;
    let data;
    try {
      const res = await fetch(`${cfg.endpoints.reports}?${params}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      data = await res.json();
    } catch (err) {
      if (controller.signal.aborted) return;
      showNotice(
        state.savedAt === null
          ? T.load_failed
          : fmt(T.saved_offline_fmt, { time: when(state.savedAt) }),
      );
      scheduleLoad(RETRY_LOAD_MS);
      startLive();
      return;
    } finally {
      if (loadAbort === controller) loadAbort = null;
    }
    const pos = Number.isFinite(data.position) ? data.position : 0;
    const touched = new Set();
    if (first) {
      // What the saved view drew and no delta has touched since is replaced by
      // this answer whole: a report it lacks is gone from the view, and a log
      // that went back (a restored database) cannot leave saved rows behind.
      for (const id of savedIds) {
        state.reports.delete(id);
        touched.add(id);
      }
      savedIds.clear();
    }
    for (const r of Array.isArray(data.reports) ? data.reports : []) {
      if (store(r, pos, false)) touched.add(r.id);
    }
    // Until the live stream has said anything, the first paint is where it resumes.
    if (state.lastPosition === null && Number.isFinite(data.position)) {
      state.lastPosition = data.position;
    }
    // From here the view is the server's (and the live stream covers what
    // follows): whatever was drawn from the saved view is no longer shown as such.
    state.savedAt = null;
    const clustered = Array.isArray(data.clusters) ? data.clusters : null;
    showServerClusters(clustered, data.total);
    showNotice(
      clustered
        ? fmt(T.clusters_notice_fmt, { count: state.clusteredTotal.toLocaleString(cfg.lang) })
        : data.truncated
          ? T.truncated
          : "",
    );
    syncMarkers(touched);
    if (first && clustered) {
      fitted = true;
      const bounds = boundsOfClusters(clustered);
      if (bounds) state.map.fitBounds(bounds, { padding: [32, 32], maxZoom: 11 });
    } else if (first) {
      fitted = true;
      saveView(f, data);
      // A saved view already placed the map: move it only if something is off-screen.
      const fresh = boundsOf(touched);
      if (fresh && !(fittedFromSaved && state.map.getBounds().contains(fresh))) {
        fitToData(touched);
      }
    }
    scheduleFeed();
    startLive();
  }

  /* ---------- live updates over a websocket ---------- */

  const live = {
    socket: null,
    started: false,
    attempt: 0,
    retryTimer: null,
    deadTimer: null,
    graceTimer: null,
    downSince: null,
    lastFrameAt: 0,
  };

  function startLive() {
    if (live.started) return;
    live.started = true;
    connect();
  }

  // The snapshot (~1 MB of JSON for a busy day) comes gzipped, about a tenth
  // of the bytes, where this browser can unpack it (Chromium 80, Firefox 113,
  // Safari 16.4); older ones get the same snapshot as text.
  const GZIP_SNAPSHOT = typeof DecompressionStream === "function";

  function liveUrl() {
    const url = new URL(cfg.endpoints.live, window.location.href);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    if (GZIP_SNAPSHOT) url.searchParams.set("snapshot", "gzip");
    if (state.lastPosition !== null) url.searchParams.set("since", String(state.lastPosition));
    return url.toString();
  }

  // A frame's JSON: a text frame as it is, a binary one (the gzipped snapshot) unpacked.
  async function frameText(data) {
    if (typeof data === "string") return data;
    const unpacked = new Blob([data]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(unpacked).text();
  }

  function connect() {
    clearTimeout(live.retryTimer);
    live.retryTimer = null;
    let ws;
    try {
      ws = new WebSocket(liveUrl());
    } catch (_) {
      lost();
      return;
    }
    ws.binaryType = "arraybuffer";
    live.socket = ws;
    live.lastFrameAt = Date.now(); // a socket still connecting is not suspect yet
    armDeadTimer();
    // Unpacking a binary frame takes a moment: frames are applied one after
    // another, in the order they came, so no delta is applied before its snapshot.
    let inbox = Promise.resolve();
    ws.onmessage = (ev) => {
      if (ws !== live.socket) return;
      live.lastFrameAt = Date.now();
      armDeadTimer();
      inbox = inbox
        .then(() => frameText(ev.data).catch(() => null))
        .then((text) => {
          if (text === null || ws !== live.socket) return;
          let frame;
          try {
            frame = JSON.parse(text);
          } catch (_) {
            return; // not ours to understand; the next frame may be
          }
          onFrame(frame);
        })
        .catch((error) => {
          // A bug drawing one frame must not stop the frames after it; still shown.
          setTimeout(() => {
            throw error;
          });
        });
    };
    ws.onclose = () => {
      if (ws === live.socket) lost();
    };
  }

  // No frame for DEAD_AFTER_MS: the connection is dead even if the socket has
  // not noticed (phones and NAT boxes drop idle connections silently).
  function armDeadTimer() {
    clearTimeout(live.deadTimer);
    live.deadTimer = setTimeout(() => {
      const ws = live.socket;
      if (ws) {
        live.socket = null;
        ws.close();
        lost();
      }
    }, DEAD_AFTER_MS);
  }

  function lost() {
    live.socket = null;
    clearTimeout(live.deadTimer);
    if (live.downSince === null) live.downSince = new Date();
    if (navigator.onLine === false) {
      setStatus("disconnected", live.downSince);
    } else if (state.status !== "disconnected") {
      setStatus("reconnecting");
      clearTimeout(live.graceTimer);
      live.graceTimer = setTimeout(() => {
        if (state.status !== "live") setStatus("disconnected", live.downSince);
      }, GRACE_MS);
    }
    // Exponential backoff with "equal jitter", so a server restart is not met
    // by every open map reconnecting in the same instant.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** live.attempt);
    live.attempt += 1;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    clearTimeout(live.retryTimer);
    live.retryTimer = setTimeout(connect, delay);
  }

  // Called when the tab becomes visible or the device comes back online. A
  // socket that has been quiet for longer than a heartbeat gap is most likely
  // dead after a suspend: replace it now rather than wait out DEAD_AFTER_MS.
  function reconnectNow() {
    if (!live.started) return;
    if (live.socket) {
      if (Date.now() - live.lastFrameAt < SUSPECT_AFTER_MS) return;
      const ws = live.socket;
      live.socket = null;
      ws.close();
    }
    clearTimeout(live.deadTimer);
    live.attempt = 0;
    connect();
  }

  function markLive() {
    live.attempt = 0;
    live.downSince = null;
    clearTimeout(live.graceTimer);
    if (state.status !== "live") {
      setStatus("live");
      if (!courthousesLoaded) loadCourthouses();
      // Signal is back and the saved view is still up (its first paint failed):
      // fetch the fresh one now, not when the retry timer says.
      if (state.savedAt !== null && loadAbort === null) scheduleLoad(0);
    }
  }

  function onFrame(frame) {
    if (!frame || typeof frame !== "object") return;
    const pos = frame.position;
    switch (frame.type) {
      case "snapshot": {
        if (!Number.isFinite(pos)) return;
        state.reports.clear();
        savedIds.clear();
        for (const r of Array.isArray(frame.reports) ? frame.reports : []) store(r, pos, false);
        state.lastPosition = pos;
        markLive();
        syncAll();
        // A snapshot may cover less than the view's query did: fill the view in.
        scheduleLoad(0);
        return;
      }
      case "resume":
        if (!Number.isFinite(pos)) return;
        if (state.lastPosition === null || pos > state.lastPosition) {
          // The server resumes later than we asked: something between is
          // missing here, so ask for the view again.
          state.lastPosition = pos;
          scheduleLoad(0);
        }
        markLive();
        return;
      case "delta": {
        markLive();
        if (!Number.isFinite(pos)) return;
        if (state.lastPosition !== null && pos <= state.lastPosition) return; // already applied
        state.lastPosition = pos;
        const r = frame.report;
        if (store(r, pos, true)) {
          savedIds.delete(r.id);
          syncMarkers([r.id]);
          scheduleFeed();
          if (passes(r, readFilters(), Date.now())) announce(r);
          if (state.clusterMode) scheduleRecluster();
          // A member's alerts (map-alerts.js, when loaded) look each change up.
          document.dispatchEvent(new CustomEvent("courtwatch:map-change", { detail: r }));
        }
        return;
      }
      case "alerts":
        // Sent only to a signed-in member's socket: the page itself is public.
        loadAlertScripts(frame.scripts);
        return;
      case "heartbeat":
        // Liveness only. Its position is not taken as applied: a delta before
        // it may still be queued, and skipping it would lose that report.
        markLive();
        return;
      default:
        // Unknown frame types are for newer clients.
        markLive();
    }
  }

  // In order (the second uses the first), once, and only scripts of this site.
  let alertScripts = null;
  function loadAlertScripts(urls) {
    if (alertScripts || !Array.isArray(urls)) return;
    alertScripts = urls.filter((u) => typeof u === "string" && u.startsWith("/static/"))
      .reduce((previous, url) => previous.then(() => new Promise((resolve) => {
        const script = document.createElement("script");
        script.src = url;
        script.onload = script.onerror = resolve;
        document.head.appendChild(script);
      })), Promise.resolve());
  }

  window.addEventListener("online", reconnectNow);
  window.addEventListener("offline", () => {
    if (state.status === "disconnected") return;
    live.downSince = live.downSince || new Date();
    setStatus("disconnected", live.downSince);
  });
  // Phones suspend background tabs; come back at once, not after a long backoff.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") reconnectNow();
  });

  /* ---------- courthouse list ---------- */

  let courthousesLoaded = false;

  async function loadCourthouses() {
    try {
      const res = await fetch(cfg.endpoints.courthouses, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!res.ok) return;
      const body = await res.json();
      const list = Array.isArray(body) ? body : Array.isArray(body.courthouses) ? body.courthouses : [];
      const chosen = courthouseSelect.value;
      const options = list
        .filter((c) => c && typeof c.code === "string" && c.code)
        .map((c) => ({
          code: c.code,
          text: [c.name || c.code, [c.city, c.state].filter(Boolean).join(", ")]
            .filter(Boolean)
            .join(" — "),
        }))
        .sort((a, b) => a.text.localeCompare(b.text, cfg.lang));
      const first = courthouseSelect.options[0];
      courthouseSelect.replaceChildren(
        first,
        ...options.map((o) => el("option", { value: o.code, text: o.text })),
      );
      if (chosen && !options.some((o) => o.code === chosen)) {
        courthouseSelect.append(el("option", { value: chosen, text: chosen }));
      }
      courthouseSelect.value = chosen;
      courthousesLoaded = true;
    } catch (_) {
      // retried when the live connection comes (back) up
    }
  }

  /* ---------- offline outline basemap ---------- */

  // U.S. state (and, zoomed in, county) outlines drawn from vendored TopoJSON,
  // so the map is readable with no tile server at all.
  async function drawBasemap() {
    const map = state.map;
    const pane = map.createPane("cw-basemap");
    pane.style.zIndex = 250; // above tiles (200), below everything we draw (400+)
    pane.style.pointerEvents = "none";
    const renderer = L.canvas({ pane: "cw-basemap", padding: 0.5 });
    const base = { pane: "cw-basemap", renderer, interactive: false };

    const topo = await fetchJson(cfg.basemap.states);
    if (!topo) return;
    if (!cfg.hasTiles) {
      L.geoJSON(topojson.feature(topo, topo.objects.nation), {
        ...base,
        style: { stroke: false, fill: true, fillColor: "#fbfaf6", fillOpacity: 1 },
      }).addTo(map);
    }
    L.geoJSON(
      topojson.mesh(topo, topo.objects.states, (a, b) => a !== b),
      { ...base, style: { color: "#8d949c", weight: 1, fill: false } },
    ).addTo(map);
    L.geoJSON(topojson.mesh(topo, topo.objects.nation), {
      ...base,
      style: { color: "#5b636b", weight: 1.4, fill: false },
      attribution: T.outlines_attribution,
    }).addTo(map);

    // County lines from zoom 7, one small file per state in view (a few kB
    // gzipped; the whole country's were 251 kB): index.json names each state's
    // box and its content-hashed file (scripts/split_counties.py).
    const indexUrl = safePath(cfg.basemap.counties);
    if (!indexUrl) return;
    const counties = L.layerGroup();
    const states = new Map(); // state FIPS -> "loading" | its layer
    let index = null;
    let indexLoading = null;
    const update = async () => {
      const want = map.getZoom() >= cfg.basemap.countiesMinZoom;
      if (!want) {
        if (map.hasLayer(counties)) map.removeLayer(counties);
        return;
      }
      if (!map.hasLayer(counties)) counties.addTo(map);
      if (!index) {
        indexLoading = indexLoading || fetchJson(indexUrl);
        index = await indexLoading;
        if (!index || typeof index !== "object") {
          index = indexLoading = null;
          return;
        }
      }
      const view = map.getBounds().pad(0.2);
      for (const [fips, entry] of Object.entries(index)) {
        if (states.has(fips) || !entry || !Array.isArray(entry.bbox)) continue;
        const [w, s, e, n] = entry.bbox.map(Number);
        if (![w, s, e, n].every(Number.isFinite)) continue;
        if (!view.intersects(L.latLngBounds([s, w], [n, e]))) continue;
        const url = safePath(entry.url);
        if (!url) continue;
        states.set(fips, "loading");
        fetchJson(url).then((topo) => {
          if (!topo || !topo.objects || !topo.objects.counties) {
            states.delete(fips); // tried again on the next move
            return;
          }
          const layer = L.geoJSON(
            topojson.mesh(topo, topo.objects.counties, (a, b) => a !== b),
            { ...base, style: { color: "#b2b8be", weight: 0.6, fill: false } },
          );
          states.set(fips, layer);
          counties.addLayer(layer);
        });
      }
    };
    map.on("moveend", update);
    update();
    window.courtwatchCounties = () =>
      Array.from(states.entries()).filter(([, v]) => v !== "loading").map(([k]) => k);
  }

  async function fetchJson(url) {
    try {
      const res = await fetch(url, { credentials: "same-origin" });
      return res.ok ? await res.json() : null;
    } catch (_) {
      return null;
    }
  }

  /* ---------- legend and swatches ---------- */

  function drawLegend() {
    for (const swatch of document.querySelectorAll(".cw-swatch[data-kind]")) {
      swatch.innerHTML = markerSvg(swatch.dataset.kind, "verified");
    }
    const list = document.getElementById("cw-legend-list");
    const rows = STATUSES.map((s) => [markerSvg("sighting", s), statusLabel(s), ""]);
    rows.push([markerSvg("sighting", "unverified"), T.stale, "cw-faded"]);
    list.replaceChildren(
      ...rows.map(([svg, text, extra]) => {
        const swatch = el("span", { class: "cw-swatch cw-marker " + extra, "aria-hidden": "true" });
        swatch.innerHTML = svg;
        return el("li", {}, [swatch, el("span", { text })]);
      }),
    );
  }

  /* ---------- start ---------- */

  function start() {
    const map = window[cfg.mapVar];
    if (!map) throw new Error("courtwatch: map variable " + cfg.mapVar + " not found");
    state.map = map;
    const container = map.getContainer();
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", T.map_label);
    if (!cfg.hasTiles) container.classList.add("cw-no-tiles");
    // Leaflet's default prefix links to its website; a click from here would
    // tell that site who is watching. Credit stays, as plain text.
    if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");
    // The feed and filter panel resize the map's box without a window resize.
    if ("ResizeObserver" in window) new ResizeObserver(() => map.invalidateSize()).observe(container);

    state.cluster = L.markerClusterGroup({
      iconCreateFunction: clusterIcon,
      showCoverageOnHover: false,
      chunkedLoading: true,
      maxClusterRadius: 50,
    });
    map.addLayer(state.cluster);
    state.serverClusters = L.markerClusterGroup({
      iconCreateFunction: mergedClusterIcon,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: false,
      maxClusterRadius: 36,
    }).addTo(map);

    // The feed is a side column on wide screens; on phones it starts folded so
    // the map gets the room.
    feedBox.open = window.matchMedia("(min-width: 56rem)").matches;

    restoreFilters();
    drawLegend();
    form.addEventListener("change", () => {
      saveFilters();
      syncAll();
      scheduleLoad();
    });
    form.addEventListener("submit", (ev) => ev.preventDefault());
    // Before the first paint the whole country is being fetched: a move (the
    // layout settling, a thumb) must not cancel that request and start over.
    map.on("moveend", () => {
      if (fitted) scheduleLoad();
    });

    // Time passes: sightings go stale, reports leave the time window, fresh
    // markers stop pulsing.
    setInterval(syncAll, REEVALUATE_MS);

    // Reports first: on a 400 kbps phone the outlines (36 kB) would otherwise
    // share the line with the first markers. They follow the first paint, or
    // come after 3 s whatever happens to it.
    let outlines = null;
    const drawOutlines = () => {
      if (!outlines) outlines = drawBasemap();
    };
    setTimeout(drawOutlines, 3000);
    drawSavedView();
    loadView().finally(drawOutlines);
    loadCourthouses();

    window.courtwatchMap = {
      markerCount: () => state.cluster.getLayers().length,
      // While the view is the server's clusters: how many, and the reports they count.
      clusterCount: () => (state.clusterMode ? state.serverClusters.getLayers().length : 0),
      clusteredTotal: () => state.clusteredTotal,
      // A view load is waiting or under way (tests wait for the map to settle).
      loading: () => loadTimer !== null || loadAbort !== null,
      position: () => state.lastPosition,
      status: () => state.status,
      // While the drawn view is the one saved on this phone (not yet replaced).
      showingSaved: () => state.savedAt !== null,
    };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
