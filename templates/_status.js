// The status page's only script; every page works without it.
// 1. Times: the HTML holds absolute UTC times (<time datetime>), so a page built hours ago
//    does not lie; here those marked data-rel are shown relative to the reader's clock,
//    in the page's language ("há 3 horas"), and kept fresh while the tab stays open.
// 2. Filters and search (index only): hidden without JavaScript, where every row is shown.
//    Their state lives in the query string (?state=down&kind=github&q=llm): a filtered
//    view can be linked, and is restored on load, reload and back/forward.
(function () {
  "use strict";

  var STEPS = [  // [limit in seconds, unit, seconds per unit]: the first that fits is used
    [60, "second", 1], [3600, "minute", 60], [2 * 86400, "hour", 3600],
    [60 * 86400, "day", 86400], [730 * 86400, "month", 30.44 * 86400],
    [Infinity, "year", 365.25 * 86400]
  ];
  var rtf = null;
  try {
    rtf = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined,
      { numeric: "auto" });
  } catch (e) { /* no Intl.RelativeTimeFormat: the absolute times stay */ }

  function relative(at, now) {
    var diff = (at - now) / 1000, size = Math.abs(diff);
    for (var i = 0; i < STEPS.length; i += 1) {
      if (size < STEPS[i][0]) return rtf.format(Math.round(diff / STEPS[i][2]), STEPS[i][1]);
    }
    return "";
  }
  function relativeTimes() {
    if (!rtf) return;
    var now = Date.now();
    document.querySelectorAll("time[data-rel]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      if (el.dataset.abs === undefined) el.dataset.abs = el.textContent;
      if (!el.title) el.title = el.dataset.abs;
      var rel = relative(at, now);
      el.textContent = el.dataset.rel === "after" ? el.dataset.abs + " (" + rel + ")" : rel;
    });
  }
  relativeTimes();
  window.setInterval(relativeTimes, 60 * 1000);

  var form = document.getElementById("filters");
  if (!form) return;
  var state = document.getElementById("f-state");
  var kind = document.getElementById("f-kind");
  var text = document.getElementById("f-text");
  var count = document.getElementById("f-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-state]"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.sec"));
  var fields = [["state", state], ["kind", kind], ["q", text]];
  var typing = false;  // one history entry per search, not one per key

  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }
  // What the search box matches: the resource cell (label, scraped title, new URL), the
  // link's URL and the kind, folded once. Not written into each row: at 3,000 resources
  // that copy was a sixth of the page (issue 14).
  rows.forEach(function (row) {
    var link = row.cells[0].querySelector("a");
    var parts = Array.prototype.map.call(row.cells[0].childNodes, function (n) {
      return n.textContent;  // label, title, new URL: apart, as the page shows them
    });
    row.searchKey = fold([parts.join(" "), link ? link.getAttribute("href") : "",
      row.cells[2].textContent].join(" "));
  });
  function apply() {
    var s = state.value, k = kind.value, q = fold(text.value), shown = 0;
    rows.forEach(function (row) {
      var ok = (!s || row.dataset.state === s) && (!k || row.dataset.kind === k) &&
        (!q || row.searchKey.indexOf(q) !== -1);
      row.hidden = !ok;
      if (ok) shown += 1;
    });
    sections.forEach(function (sec) {
      sec.hidden = !sec.querySelector("tr[data-state]:not([hidden])");
    });
    count.textContent = shown + " / " + rows.length + " " + count.dataset.label;
  }
  function fromUrl() {
    var params = new URLSearchParams(location.search);
    fields.forEach(function (f) {
      var value = params.get(f[0]) || "";
      f[1].value = value;
      if (f[1].value !== value) f[1].value = "";  // a state or kind the page does not have
    });
    typing = false;
    apply();
  }
  function toUrl(push) {
    var params = new URLSearchParams(location.search);
    fields.forEach(function (f) {
      var value = f[1].value.trim();
      if (value) params.set(f[0], value); else params.delete(f[0]);
    });
    var query = params.toString();
    var url = location.pathname + (query ? "?" + query : "") + location.hash;
    if (url === location.pathname + location.search + location.hash) return;
    history[push ? "pushState" : "replaceState"](null, "", url);
  }

  form.hidden = false;
  form.addEventListener("input", function (event) {
    if (event.target !== text) return;
    apply();
    toUrl(!typing);
    typing = true;
  });
  form.addEventListener("change", function (event) {
    typing = false;
    if (event.target === text) return;
    apply();
    toUrl(true);
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  window.addEventListener("popstate", fromUrl);
  // Back from a resource page may restore this page from the cache, or reload it with the
  // browser's remembered field values: either way the URL decides.
  window.addEventListener("pageshow", fromUrl);
  fromUrl();
})();
