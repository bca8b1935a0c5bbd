// "When" follows the place the report is about. The form reads a typed time in
// the chosen courthouse's zone (the server decides; this script only helps):
// when a courthouse is picked, the pre-filled time and the zone shown change to
// that courthouse's, unless the watcher already typed a time; the phone's UTC
// offset is sent in a hidden field, and a phone set to another zone than the
// courthouse's gets a notice. Without this script the form still works.
(function () {
  "use strict";
  var dataNode = document.getElementById("zone-data");
  var when = document.getElementById("observed_at");
  var select = document.getElementById("courthouse_code");
  if (!dataNode || !when) return;
  var data;
  try { data = JSON.parse(dataNode.textContent); } catch (e) { return; }
  var form = when.form;
  var shown = document.getElementById("observed_at-zone");
  var notice = document.getElementById("zone-notice");
  var prefilledAt = form.elements.namedItem("prefilled_at");
  var prefilledZone = form.elements.namedItem("prefilled_zone");
  var phoneOffset = form.elements.namedItem("phone_utc_offset");
  var typed = prefilledAt && when.value !== prefilledAt.value;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // The wall-clock parts of an instant in an IANA zone, as the phone's Intl knows them.
  function partsIn(zone, instant) {
    var out = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(instant).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }
  function localValue(zone, instant) {
    var p = partsIn(zone, instant);
    return p.year + "-" + p.month + "-" + p.day + "T" + p.hour + ":" + p.minute;
  }
  // Minutes east of UTC in a zone at an instant.
  function offsetIn(zone, instant) {
    var p = partsIn(zone, instant);
    var asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60000);
  }
  function offsetLabel(minutes) {
    var sign = minutes >= 0 ? "+" : "\u2212", m = Math.abs(minutes);
    return "UTC" + sign + pad(Math.floor(m / 60)) + ":" + pad(m % 60);
  }
  function phoneZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }
  function label(zone) { return data.labels[zone] || zone; }

  function placeZone() {
    var code = select ? select.value : "";
    return code && data.zones[code] ? data.zones[code] : "";
  }

  function update() {
    var now = new Date();
    var phoneMinutes = -now.getTimezoneOffset();
    if (phoneOffset) phoneOffset.value = String(phoneMinutes);
    var zone = placeZone();
    var atCourthouse = !!zone;
    if (!zone) {
      // No courthouse yet: the watcher is most likely where the report is, so
      // the phone's zone is the best guess to show and pre-fill. A typed time
      // is read by the server in the pin's zone.
      zone = phoneZone();
      if (notice) { notice.hidden = true; notice.textContent = ""; }
      if (!zone) return;
    }
    if (shown) shown.textContent = label(zone);
    if (!typed) {
      var value = localValue(zone, now);
      when.value = value;
      if (prefilledAt) prefilledAt.value = value;
      if (prefilledZone) prefilledZone.value = zone;
    }
    if (notice && atCourthouse) {
      if (offsetIn(zone, now) !== phoneMinutes) {
        var mine = phoneZone();
        var phone = data.labels[mine] || (mine ? offsetLabel(phoneMinutes) + " (" + mine + ")" : offsetLabel(phoneMinutes));
        notice.textContent = data.mismatch.replace("{phone}", phone).replace("{place}", label(zone));
        notice.hidden = false;
      } else {
        notice.hidden = true;
        notice.textContent = "";
      }
    }
  }

  // A zone this browser's Intl does not know throws: the form then keeps its
  // server-made pre-fill, which the server reads correctly anyway.
  function safeUpdate() { try { update(); } catch (e) { /* keep the form as it is */ } }

  when.addEventListener("input", function () { typed = true; });
  if (select) select.addEventListener("change", safeUpdate);
  safeUpdate();
  window.courtwatchZones = { update: update, offsetIn: offsetIn };
})();
