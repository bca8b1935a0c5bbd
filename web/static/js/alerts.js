// The alerts page: add and remove subscriptions through the JSON API (with
// this session's CSRF token), and turn on Web Push for this browser.
(function () {
  "use strict";
  var root = document.getElementById("alerts-console");
  if (!root) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  var form = document.getElementById("subscribe");
  var zone = form.elements.timezone;
  try { zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || zone.value; } catch (e) { /* keep the server's */ }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var codes = Array.prototype.map.call(form.elements.courthouses.selectedOptions, function (option) { return option.value; });
    var kinds = Array.prototype.filter.call(form.elements.kinds, function (box) { return box.checked; })
      .map(function (box) { return box.value; });
    var start = form.elements.quiet_start.value, end = form.elements.quiet_end.value;
    var body = {
      label: form.elements.label.value,
      courthouses: codes,
      kinds: kinds,
      min_status: form.elements.min_status.value,
      quiet_hours: start && end ? { start: start, end: end } : null,
      timezone: zone.value,
      channel: "push",
    };
    var answer = await api("POST", "/api/alerts/subscriptions", body);
    if (answer.ok) { location.reload(); return; }
    var reason = "";
    try { var detail = await answer.json(); reason = detail.fields ? detail.fields[0].field + ": " + detail.fields[0].reason : detail.error; } catch (e) { /* none */ }
    document.getElementById("subscribe-error").textContent = root.dataset.failed + " " + reason;
  });

  document.querySelectorAll(".remove-subscription").forEach(function (button) {
    button.addEventListener("click", async function () {
      var item = button.closest("[data-subscription-id]");
      var answer = await api("DELETE", "/api/alerts/subscriptions/" + item.dataset.subscriptionId);
      if (answer.ok || answer.status === 404) item.remove();
    });
  });

  function bytes(base64url) {
    var text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - base64url.length % 4) % 4));
    return Uint8Array.from(text, function (c) { return c.charCodeAt(0); });
  }

  var state = document.getElementById("push-state");
  document.getElementById("push-on").addEventListener("click", async function () {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      state.textContent = root.dataset.pushUnsupported;
      return;
    }
    try {
      if ((await Notification.requestPermission()) !== "granted") throw new Error("denied");
      var key = await (await api("GET", "/api/alerts/push/key")).json();
      var registration = await navigator.serviceWorker.ready;
      var subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: bytes(key.application_server_key),
      });
      var answer = await api("POST", "/api/alerts/push/subscriptions", subscription.toJSON());
      if (!answer.ok) throw new Error(String(answer.status));
      state.textContent = root.dataset.pushOn;
    } catch (e) {
      state.textContent = root.dataset.failed;
    }
  });
})();
