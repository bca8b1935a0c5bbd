// A signed-in member's alerts on the live map (docs/alerts.md, "In-page alerts").
// live-map.js loads this only when the map's websocket says the viewer is a
// member (web/alerts/in_page.py): the public page never does. Each report the
// feed changes is looked up in the member's own alerts, which the delivery
// projection wrote (the same ones Web Push sends); each new one goes to
// in-page-alerts.js (title count, notification, tone).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("courtwatch-config").textContent);
  var lang = config.lang === "es" ? "es" : "en";
  // The delivery projection runs beside the map's: ask again while it has not
  // folded the report yet (ms after the change).
  var TRIES = [150, 600, 1500, 4000, 10000];
  var asked = {}; // "id/status": looked up already
  var done = {}; // the same, answered for good (tests read it)
  // Each report's alert counts once per trigger (new, corroborated, verified),
  // however many of the member's subscriptions matched it (Web Push shows those
  // as one notification too: one tag per incident).
  var shown = {};
  var signedOut = false;
  var count = 0;

  // In view too: a strip under the map's header, the newest alert, to its report.
  function strip(alert, label) {
    var link = document.getElementById("cw-my-alerts");
    if (!link) {
      link = document.createElement("a");
      link.id = "cw-my-alerts";
      link.className = "cw-my-alerts";
      link.setAttribute("role", "status");
      var header = document.querySelector(".cw-top");
      if (!header) return;
      header.appendChild(link);
    }
    count += 1;
    link.textContent = String(label || "({n})").replace("{n}", count) + ": " + alert.title;
    if (typeof alert.link === "string" && alert.link.indexOf("/reports/") === 0) {
      link.href = alert.link + "?lang=" + lang;
    }
  }

  function ask(report, key, attempt) {
    if (signedOut) return;
    var path = "/api/alerts/in-page/" + encodeURIComponent(report.id) +
      "?status=" + encodeURIComponent(report.status) + "&lang=" + lang;
    fetch(path, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.status === 401) { signedOut = true; return null; }
        return answer.ok ? answer.json() : null;
      })
      .catch(function () { return null; })
      .then(function (answer) {
        if (signedOut) return;
        (answer && Array.isArray(answer.alerts) ? answer.alerts : []).forEach(function (alert) {
          var once = report.id + "/" + alert.trigger;
          if (typeof alert.id !== "string" || shown[once]) return;
          shown[once] = true;
          strip(alert, answer.label);
          document.dispatchEvent(new CustomEvent("courtwatch:new-report", { detail: { worded: alert } }));
        });
        if (answer && answer.processed) { done[key] = true; return; }
        if (attempt + 1 < TRIES.length) {
          setTimeout(function () { ask(report, key, attempt + 1); }, TRIES[attempt + 1] - TRIES[attempt]);
        }
      });
  }

  document.addEventListener("courtwatch:map-change", function (event) {
    var report = event.detail || {};
    // Watch shifts never alert.
    if (typeof report.id !== "string" || typeof report.status !== "string" || report.kind === "watch_shift") return;
    var key = report.id + "/" + report.status;
    if (asked[key]) return;
    asked[key] = true;
    setTimeout(function () { ask(report, key, 0); }, TRIES[0]);
  });

  window.courtwatchAlerts = { answered: function () { return Object.keys(done); } };
})();
