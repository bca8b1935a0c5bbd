// The page answering a form sent without the outbox script: the address bar
// still says /new/...; put the report's own address there (it never holds the
// edit key) so a bookmark or a reload finds the report, and start reading at
// the saved message.
(function () {
  "use strict";
  var saved = document.getElementById("saved");
  if (!saved) return;
  var url = saved.getAttribute("data-url") || "";
  if (/^\/reports\/[0-9a-f-]{36}(\?lang=[a-z]{2})?$/.test(url)) history.replaceState(null, "", url);
  window.scrollTo(0, 0);
  saved.focus();
})();
