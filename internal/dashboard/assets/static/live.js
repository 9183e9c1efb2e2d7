// ferry dashboard: times in the viewer's zone, and live updates of the page's
// regions over server-sent events. The pages read fine without it.
(function () {
  "use strict";
  function localize(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) return;
      if (!t.title) t.title = t.textContent;
      t.textContent = d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    });
  }
  // busy: the viewer is typing in, or has opened, something inside the region.
  function busy(el) {
    var a = document.activeElement;
    if (a && el.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) return true;
    return el.querySelector("details[open]") !== null && el.id === "actions";
  }
  function apply(html) {
    var main = document.getElementById("main");
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var regions = tpl.content.querySelectorAll("[data-region][id]");
    if (regions.length === 0) return;
    var seen = {};
    regions.forEach(function (fresh) {
      seen[fresh.id] = true;
      var old = document.getElementById(fresh.id);
      if (old && busy(old)) return;
      localize(fresh);
      if (old) {
        old.replaceWith(fresh);
      } else {
        main.appendChild(fresh);
      }
    });
    main.querySelectorAll("[data-region][id]").forEach(function (old) {
      if (!seen[old.id] && !busy(old)) old.remove();
    });
    document.dispatchEvent(new CustomEvent("ferry:updated"));
  }
  function start() {
    localize(document);
    var main = document.getElementById("main");
    var path = main && main.getAttribute("data-live");
    if (!path || !window.EventSource) return;
    var status = document.getElementById("live-status");
    var es = new EventSource("/live?path=" + encodeURIComponent(path));
    es.addEventListener("open", function () { status.textContent = "Live"; status.className = "live-status on"; });
    es.addEventListener("error", function () { status.textContent = "Reconnecting…"; status.className = "live-status off"; });
    es.addEventListener("update", function (e) { apply(e.data); });
    es.addEventListener("gone", function (e) { status.textContent = e.data; es.close(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
