/* The HTML report's only script (src/report/html.rs inlines it and pins its hash in the page's
   Content-Security-Policy): the verdict table's filters. The page reads fine without it. */
(function () {
  "use strict";
  var controls = document.getElementById("filters");
  var table = document.getElementById("verdict-table");
  if (!controls || !table || !table.tBodies.length) {
    return;
  }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var boxes = Array.prototype.slice.call(controls.querySelectorAll("input[type=checkbox]"));
  var text = document.getElementById("filter-text");
  var severity = document.getElementById("filter-severity");
  var shown = document.getElementById("filter-shown");
  function apply() {
    var wanted = {};
    boxes.forEach(function (box) {
      wanted[box.value] = box.checked;
    });
    var needle = text.value.trim().toLowerCase();
    var level = severity.value;
    var count = 0;
    rows.forEach(function (row) {
      var visible = wanted[row.getAttribute("data-status")] === true &&
        (level === "" || row.getAttribute("data-severity") === level) &&
        (needle === "" || (row.getAttribute("data-search") || "").indexOf(needle) !== -1);
      row.hidden = !visible;
      if (visible) {
        count += 1;
      }
    });
    shown.textContent = count + " of " + rows.length + " shown";
  }
  controls.hidden = false;
  controls.addEventListener("input", apply);
  controls.addEventListener("change", apply);
  apply();
})();
