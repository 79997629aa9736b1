// Filters and search for the status page. Without JavaScript the form stays hidden
// and every row is shown; with it, rows not matching are hidden.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) return;
  var state = document.getElementById("f-state");
  var kind = document.getElementById("f-kind");
  var text = document.getElementById("f-text");
  var count = document.getElementById("f-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-state]"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.sec"));
  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }
  // What the search box matches: the resource cell (label, scraped title, new URL), the
  // link's URL and the kind, folded once. Not written into each row: at 3,000 resources
  // that copy was a sixth of the page (issue 14).
  rows.forEach(function (row) {
    var link = row.cells[0].querySelector("a");
    row.searchKey = fold([row.cells[0].textContent, link ? link.getAttribute("href") : "",
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
  function openTarget() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  form.hidden = false;
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  window.addEventListener("hashchange", openTarget);
  openTarget();
  apply();
})();
