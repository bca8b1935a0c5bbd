// Picking a courthouse quickly on a phone: search as you type (name, city,
// code or state, in English or Spanish words), "nearest to me", and the last
// courthouse used on this phone. The <select> stays the form's field (and the
// whole picker without JavaScript).
//
// The phone's location never leaves the phone: it is compared here with the
// courthouses the page already holds, used once and forgotten; it is not put
// into the form (the pin fields stay as the watcher left them), not stored and
// not sent. Only the courthouse the watcher then chooses is sent.
(function () {
  "use strict";
  var select = document.getElementById("courthouse_code");
  var picker = document.getElementById("place-picker");
  if (!select || !picker) return;
  var search = document.getElementById("courthouse-search");
  var results = document.getElementById("courthouse-results");
  var status = document.getElementById("place-status");
  var nearest = document.getElementById("nearest");
  var LAST = "courtwatch.last-courthouse";
  var MAX_SHOWN = 6;
  var text = {};
  try { text = JSON.parse(document.getElementById("place-text").textContent); } catch (e) { /* English below */ }
  function word(name, fallback) { return typeof text[name] === "string" ? text[name] : fallback; }

  // Spanish words a watcher may type for the English names in the list.
  var SPANISH = {
    tribunal: "court", corte: "court", juzgado: "court", inmigracion: "immigration",
    nueva: "new", filadelfia: "philadelphia", orleans: "orleans", luisiana: "louisiana",
    carolina: "carolina", "san": "san", miami: "miami", "los": "los", angeles: "angeles",
  };

  function fold(value) {
    return String(value || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function words(value) { return fold(value).split(/[^a-z0-9]+/).filter(Boolean); }

  var data = {};
  try { data = JSON.parse(document.getElementById("place-data").textContent) || {}; } catch (e) { /* names only */ }
  var places = Array.prototype.filter.call(select.options, function (o) { return o.value; }).map(function (o) {
    var about = Array.isArray(data[o.value]) ? data[o.value] : ["", NaN, NaN];
    return {
      code: o.value,
      label: o.textContent.trim(),
      words: words(o.textContent + " " + about[0] + " " + o.value),
      lat: Number(about[1]),
      lon: Number(about[2]),
    };
  });

  // Every typed word must start a word of the courthouse (or its Spanish
  // counterpart must): "nueva york" finds New York, "bos" finds Boston.
  function matches(place, query) {
    return query.every(function (q) {
      var english = SPANISH[q];
      return place.words.some(function (w) {
        return w.indexOf(q) === 0 || (english && w.indexOf(english) === 0);
      });
    });
  }

  function choose(code) {
    if (select.value !== code) {
      select.value = code;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
    remember(code);
    results.replaceChildren();
    status.textContent = "";
    search.value = "";
    select.focus();
  }

  function remember(code) {
    try { if (code) localStorage.setItem(LAST, code); } catch (e) { /* private mode: fine */ }
  }
  function lastUsed() {
    try { return localStorage.getItem(LAST) || ""; } catch (e) { return ""; }
  }

  function show(list, heading) {
    status.textContent = heading || "";
    results.replaceChildren.apply(results, list.slice(0, MAX_SHOWN).map(function (place) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "place-choice";
      button.dataset.code = place.code;
      button.textContent = place.label + (place.km !== undefined ? " · " + Math.round(place.km) + " km" : "");
      button.addEventListener("click", function () { choose(place.code); });
      var item = document.createElement("li");
      item.appendChild(button);
      return item;
    }));
  }

  search.addEventListener("input", function () {
    var query = words(search.value);
    if (!query.length) { results.replaceChildren(); status.textContent = ""; return; }
    var found = places.filter(function (p) { return matches(p, query); });
    show(found, found.length ? "" : word("no_match", "No courthouse matches."));
  });
  search.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault(); // Enter picks the first match, never submits the form
    var first = results.querySelector(".place-choice");
    if (first) choose(first.dataset.code);
  });

  function kilometres(lat1, lon1, lat2, lon2) {
    var rad = Math.PI / 180;
    var a = Math.pow(Math.sin((lat2 - lat1) * rad / 2), 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.pow(Math.sin((lon2 - lon1) * rad / 2), 2);
    return 12742 * Math.asin(Math.sqrt(a));
  }

  nearest.addEventListener("click", function () {
    if (!navigator.geolocation) { status.textContent = word("location_failed", "Location not available."); return; }
    status.textContent = word("locating", "Finding where you are…");
    navigator.geolocation.getCurrentPosition(function (position) {
      var lat = position.coords.latitude, lon = position.coords.longitude;
      var ranked = places.filter(function (p) { return isFinite(p.lat) && isFinite(p.lon); }).map(function (p) {
        return { code: p.code, label: p.label, km: kilometres(lat, lon, p.lat, p.lon) };
      }).sort(function (a, b) { return a.km - b.km; });
      lat = lon = null; // used once, kept nowhere
      show(ranked.slice(0, 3), word("located", "Nearest courthouses:"));
      var first = results.querySelector(".place-choice");
      if (first) first.focus();
    }, function () {
      status.textContent = word("location_failed", "Location not available.");
    }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
  });

  select.addEventListener("change", function () { remember(select.value); });

  // The last courthouse used on this phone: pre-chosen when the page did not
  // come with one, and offered first.
  var last = lastUsed();
  var known = places.filter(function (p) { return p.code === last; })[0];
  if (known && !select.value) {
    select.value = known.code;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }
  if (known) show([known], word("last", "Last used"));
  picker.hidden = false;
  // Shown before this script arrived (form.html): what was typed meanwhile is searched now.
  if (search.value) search.dispatchEvent(new Event("input"));
  window.courtwatchPlaces = { choose: choose };
})();
