// The watcher's own-report page. The edit key arrives in the URL fragment
// (#key=...), which no browser sends to a server: read it, wipe it from the
// address bar and history entry, and POST it in the body of the key form.
// Without this script the watcher pastes the key into the same form.
(function () {
  "use strict";
  var form = document.getElementById("key-form");
  var match = /^#key=([A-Za-z0-9_=%-]{1,200})$/.exec(location.hash || "");
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  if (form && match) {
    var opening = document.getElementById("opening");
    if (opening) opening.hidden = false;
    form.elements.key.value = decodeURIComponent(match[1]);
    form.submit();
    return;
  }
  var key = document.getElementById("the-key");
  var copy = document.getElementById("copy-key");
  var link = document.getElementById("private-link");
  if (key && link) {
    // Shown, never navigated to: a private bookmark for this phone only.
    link.textContent = location.origin + link.getAttribute("data-path") + "#key=" + key.textContent.trim();
  }
  if (key && copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(key.textContent.trim()).then(function () {
        copy.textContent = copy.getAttribute("data-copied");
      });
    });
  }
})();
