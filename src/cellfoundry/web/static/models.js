/* cellfoundry model and job pages: the analysis form, the medium table, sortable and
   filterable result tables, and a job's progress bar fed by polling /api/jobs/{id}.
   No dependencies, no external requests. */
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  /* the analysis form: show the options of the chosen analysis only */
  function initAnalysisForm() {
    var form = document.getElementById("analysis-form");
    if (!form) { return; }
    function chosen() {
      var checked = form.querySelector("input[name=kind]:checked");
      return checked ? checked.value : "";
    }
    function update() {
      var kind = chosen();
      form.querySelectorAll("[data-for-kinds]").forEach(function (node) {
        node.hidden = node.dataset.forKinds.split(" ").indexOf(kind) < 0;
      });
      form.querySelectorAll(".kind-option").forEach(function (label) {
        var input = label.querySelector("input");
        label.classList.toggle("chosen", !!(input && input.checked));
      });
    }
    form.querySelectorAll("input[name=kind]").forEach(function (input) {
      input.addEventListener("change", update);
    });
    update();
    form.addEventListener("submit", function () {
      var button = document.getElementById("analysis-submit");
      if (button) { button.disabled = true; }
    });

    var filter = document.getElementById("medium-filter");
    var table = document.getElementById("medium-table");
    if (filter && table) {
      filter.addEventListener("input", function () { filterRows(table, filter.value); });
    }
    var reset = document.getElementById("medium-reset");
    if (reset && table) {
      reset.addEventListener("click", function () {
        table.querySelectorAll("input.uptake").forEach(function (input) {
          input.value = input.dataset.default;
        });
      });
    }
  }

  function filterRows(table, text) {
    var words = text.toLowerCase().split(/\s+/).filter(function (w) { return w; });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var content = row.textContent.toLowerCase();
      row.hidden = !words.every(function (w) { return content.indexOf(w) >= 0; });
    });
  }

  function cellValue(row, index, numeric) {
    var cell = row.children[index];
    if (!cell) { return numeric ? -Infinity : ""; }
    if (!numeric) { return cell.textContent.trim().toLowerCase(); }
    var raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent;
    if (raw === "inf") { return Infinity; }
    if (raw === "-inf") { return -Infinity; }
    var value = parseFloat(raw);
    return isNaN(value) ? -Infinity : value;
  }

  /* result tables: click a heading to sort, type to filter */
  function initTables() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      var heads = table.querySelectorAll("thead th[data-sort]");
      heads.forEach(function (th) {
        th.tabIndex = 0;
        th.classList.add("sort-head");
        function sort() {
          var index = Array.prototype.indexOf.call(th.parentNode.children, th);
          var numeric = th.dataset.sort === "number";
          var descending = th.dataset.sorted !== "desc";
          if (!numeric && th.dataset.sorted === undefined) { descending = false; }
          heads.forEach(function (other) { delete other.dataset.sorted; other.removeAttribute("aria-sort"); });
          th.dataset.sorted = descending ? "desc" : "asc";
          th.setAttribute("aria-sort", descending ? "descending" : "ascending");
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = cellValue(a, index, numeric);
            var y = cellValue(b, index, numeric);
            var order = x < y ? -1 : (x > y ? 1 : 0);
            return descending ? -order : order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        }
        th.addEventListener("click", sort);
        th.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(); }
        });
      });
    });
    document.querySelectorAll("input[data-filter-for]").forEach(function (input) {
      var table = document.getElementById(input.dataset.filterFor);
      if (!table) { return; }
      input.addEventListener("input", function () { filterRows(table, input.value); });
    });
  }

  /* a job's page: poll the API until the job ends, then show its result */
  function initJob() {
    var panel = document.getElementById("job");
    if (!panel) { return; }
    var status = panel.dataset.status;
    if (status !== "queued" && status !== "running") { return; }
    var bar = document.getElementById("job-bar");
    var text = document.getElementById("job-progress-text");
    var lost = document.getElementById("job-lost");
    var failures = 0;
    var delay = 400;
    function poll() {
      fetch(panel.dataset.api, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (job) {
          failures = 0;
          lost.hidden = true;
          if (job.total > 0) {
            bar.max = job.total;
            bar.value = Math.min(job.done, job.total);
            text.textContent = fill(panel.dataset.msgProgress, { done: job.done, total: job.total });
          } else {
            text.textContent = panel.dataset.msgWaiting;
          }
          if (job.status !== "queued" && job.status !== "running") {
            if (job.status === "done") { bar.value = bar.max; }
            window.location.reload();
            return;
          }
          delay = Math.min(delay * 1.25, 2000);
          window.setTimeout(poll, delay);
        })
        .catch(function () {
          failures += 1;
          lost.textContent = panel.dataset.msgLost;
          lost.hidden = false;
          window.setTimeout(poll, Math.min(2000 * failures, 10000));
        });
    }
    window.setTimeout(poll, delay);
  }

  document.addEventListener("DOMContentLoaded", function () {
    initAnalysisForm();
    initTables();
    initJob();
  });
})();
