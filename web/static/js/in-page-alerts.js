// In-page alerts on the open console and, for a signed-in member, the live map
// (map-alerts.js): while the tab is in the background, each report new to the
// queue, or each of the member's alerts, counts in the tab's title ("(3) …"),
// shows a system notification (when this site may show them) and plays a short
// tone. Coming back to the tab clears the count. Only what the queue shows:
// kind, courthouse and status, never a name. An alert from the map comes
// worded by the server (detail.worded: title, body, tag); the console's reports
// are worded here.
(function () {
  "use strict";
  var data = document.getElementById("console-data");
  var labels = data ? (JSON.parse(data.textContent).labels || {}) : {};
  var title = document.title;
  var unseen = 0;

  function label(key, fallback) { return typeof labels[key] === "string" ? labels[key] : fallback; }

  function tone() {
    try {
      var Audio = window.AudioContext || window.webkitAudioContext;
      var audio = new Audio();
      var beep = audio.createOscillator();
      var gain = audio.createGain();
      beep.frequency.value = 880;
      gain.gain.value = 0.1;
      beep.connect(gain);
      gain.connect(audio.destination);
      beep.start();
      beep.stop(audio.currentTime + 0.2);
    } catch (e) { /* no sound before the page was touched: the title still counts */ }
  }

  function notify(report) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    var kind = label("kind." + report.kind, report.kind);
    var where = report.courthouse_code || label("alerts.nearby", "");
    var worded = report.worded || {};
    var text = typeof worded.title === "string" ? worded.title
      : label("alerts.title", "{kind} at {courthouse}").replace("{kind}", kind).replace("{courthouse}", where);
    try {
      new Notification(text, {
        body: typeof worded.body === "string" ? worded.body : label("status." + report.status, report.status || ""),
        tag: typeof worded.tag === "string" ? worded.tag : "courtwatch-console-" + (report.courthouse_code || "nearby"),
      });
    } catch (e) { /* Android Chrome allows them only from the service worker */ }
  }

  document.addEventListener("courtwatch:new-report", function (event) {
    if (!document.hidden) return;
    unseen += 1;
    document.title = "(" + unseen + ") " + title;
    notify(event.detail || {});
    tone();
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) return;
    unseen = 0;
    document.title = title;
  });
})();
