// The responder console: the queue stays live over /ws/console (members only)
// and each action is a fetch to the JSON API carrying the page's CSRF token.
// Without this script every action is a plain form POST and the page reloads.
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) return;
  var data = JSON.parse(document.getElementById("console-data").textContent);
  var labels = data.labels || {};
  var queue = document.getElementById("queue");
  var empty = document.getElementById("queue-empty");
  var state = document.getElementById("live-state");
  var template = document.getElementById("item-template");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var lang = root.getAttribute("data-lang") || "en";
  var ENDPOINT = { "verify": "verify", "dispute": "dispute", "claim": "claim",
    "on-scene": "on-scene", "resolve": "resolve", "outcome": "outcome" };

  function label(key) { return typeof labels[key] === "string" ? labels[key] : key; }
  function wanted(report) {
    if (!report.verdict_needed) return false;
    if (data.kinds.length && data.kinds.indexOf(report.kind) < 0) return false;
    if (data.courthouses.length && data.courthouses.indexOf(report.courthouse_code) < 0) return false;
    return true;
  }
  // Times as the responder's phone reads them (the server writes them with their offset).
  function localTime(iso) {
    var when = new Date(iso);
    if (isNaN(when.getTime())) return String(iso);
    return when.toLocaleString(lang, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }
  function text(node, selector, value) { var n = node.querySelector(selector); if (n) n.textContent = value; }
  function names(list) { return Array.isArray(list) ? list.join(", ") : ""; }

  function fill(li, r) {
    li.id = "r-" + r.id;
    li.setAttribute("data-id", r.id);
    li.setAttribute("data-kind", r.kind);
    li.setAttribute("data-status", r.status);
    li.setAttribute("data-courthouse", r.courthouse_code || "");
    li.setAttribute("data-observed", r.observed_at);
    var status = li.querySelector(".qi-status");
    status.className = "status qi-status status-" + r.status;
    status.textContent = label("status." + r.status);
    text(li, ".qi-kind", label("kind." + r.kind));
    text(li, ".qi-place", r.courthouse_name || r.courthouse_code || "");
    var time = li.querySelector(".qi-time");
    time.setAttribute("datetime", r.observed_at);
    time.textContent = localTime(r.observed_at);
    text(li, ".qi-agents", r.agents_count ? " · " + r.agents_count + " " + label("console.agents") : "");
    li.querySelector(".qi-going").hidden = !(r.claimed_by && r.claimed_by.length);
    text(li, ".qi-going-names", names(r.claimed_by));
    li.querySelector(".qi-there").hidden = !(r.on_scene_by && r.on_scene_by.length);
    text(li, ".qi-there-names", names(r.on_scene_by));
    li.querySelector(".qi-link").setAttribute("href", "/reports/" + r.id + "?lang=" + lang);
    li.querySelectorAll("form[data-action]").forEach(function (form) {
      var action = form.getAttribute("data-action");
      form.setAttribute("action", "/console/reports/" + r.id + "/" + action + "?lang=" + lang);
      var forKind = form.getAttribute("data-for-kind");
      if (forKind) form.hidden = forKind !== r.kind;
    });
    li.querySelectorAll("select[id]").forEach(function (select) {
      var base = select.id.replace(/-[0-9a-f-]*$/, "");
      var labelFor = li.querySelector('label[for="' + select.id + '"]');
      select.id = base + "-" + r.id;
      if (labelFor) labelFor.setAttribute("for", select.id);
    });
  }

  function place(li) {
    // Newest first, by when it was observed.
    var when = li.getAttribute("data-observed");
    var items = queue.children;
    for (var i = 0; i < items.length; i++) {
      if (items[i] !== li && items[i].getAttribute("data-observed") < when) {
        queue.insertBefore(li, items[i]);
        return;
      }
    }
    queue.appendChild(li);
  }

  function apply(report, fresh) {
    var li = document.getElementById("r-" + report.id);
    if (!wanted(report)) {
      if (li) li.remove();
    } else {
      if (!li) {
        li = template.content.firstElementChild.cloneNode(true);
        fill(li, report);
        place(li);
        // In-page alerts (in-page-alerts.js): a report new to this queue, live.
        if (fresh) document.dispatchEvent(new CustomEvent("courtwatch:new-report", { detail: report }));
      } else {
        fill(li, report);
      }
      if (fresh) { li.classList.remove("fresh"); void li.offsetWidth; li.classList.add("fresh"); }
    }
    empty.hidden = queue.children.length > 0;
  }

  function snapshot(reports) {
    var keep = {};
    reports.forEach(function (r) { if (wanted(r)) keep[r.id] = true; });
    Array.prototype.slice.call(queue.children).forEach(function (li) {
      if (!keep[li.getAttribute("data-id")]) li.remove();
    });
    reports.forEach(function (r) { apply(r, false); });
    empty.hidden = queue.children.length > 0;
  }

  var delay = 500;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/console");
    socket.onopen = function () { delay = 500; };
    socket.onmessage = function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (e) { return; }
      if (frame.type === "snapshot") {
        snapshot(frame.reports || []);
        state.textContent = state.getAttribute("data-live");
        state.classList.add("on");
        root.setAttribute("data-position", frame.position);
      } else if (frame.type === "delta" && frame.report) {
        apply(frame.report, true);
        root.setAttribute("data-position", frame.position);
      }
    };
    socket.onclose = function (event) {
      state.textContent = state.getAttribute("data-offline");
      state.classList.remove("on");
      if (event.code === 1008) { location.reload(); return; } // signed out: the page says so
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }

  queue.addEventListener("submit", function (event) {
    var form = event.target;
    var action = form.getAttribute("data-action");
    var li = form.closest(".queue-item");
    if (!action || !li) return;
    event.preventDefault();
    var id = li.getAttribute("data-id");
    var body = {};
    if (action === "dispute") {
      if (!form.elements.reason.value) { form.elements.reason.focus(); return; }
      body.reason = form.elements.reason.value;
    }
    if (action === "outcome") body.outcome = { outcome: form.elements.outcome.value };
    var result = li.querySelector(".qi-result");
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch("/api/reports/" + id + "/" + ENDPOINT[action], {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    }).then(function (answer) {
      return answer.json().catch(function () { return {}; }).then(function (json) {
        result.classList.toggle("bad", !answer.ok);
        if (answer.ok) {
          result.textContent = json.stored === false ? label("console.nothing_changed") : label("console.done");
        } else {
          result.textContent = label("console.failed") + " " + (json.error || answer.status);
        }
      });
    }).catch(function () {
      result.classList.add("bad");
      result.textContent = label("console.failed");
    }).then(function () { buttons.forEach(function (b) { b.disabled = false; }); });
  });

  queue.querySelectorAll(".qi-time").forEach(function (t) {
    t.textContent = localTime(t.getAttribute("datetime"));
  });
  connect();
})();
