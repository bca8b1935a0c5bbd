// The alerts page: the phone's time zone for quiet hours, and Web Push for this
// browser. Adding and removing alerts are plain forms; the map is alerts-map.js.
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

  // The form posts itself (it works without this script); here it only gets
  // the phone's own time zone for quiet hours, unless a refused form kept one.
  var zone = document.getElementById("alert-timezone");
  // An alert being changed keeps its own zone too.
  var form = document.getElementById("subscribe");
  if (zone && !document.getElementById("subscribe-error") && !(form && form.hasAttribute("data-editing"))) {
    try { zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || zone.value; } catch (e) { /* keep the server's */ }
  }

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
