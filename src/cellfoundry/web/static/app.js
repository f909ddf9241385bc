/* cellfoundry pages: facet auto-submit, sequence search with a progress indicator,
   file import with an upload progress bar. No dependencies, no external requests. */
(function () {
  "use strict";
  /* every write through the session carries its CSRF token (meta csrf-token) */
  function jsonHeaders() {
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    var csrf = document.querySelector('meta[name="csrf-token"]');
    if (csrf && csrf.content) { headers["X-CSRF-Token"] = csrf.content; }
    return headers;
  }

  document.documentElement.classList.add("js");

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function errorText(form, body, fallback) {
    if (!body || typeof body.detail !== "string") { return fallback; }
    var parts = [];
    [["source", "msgFile"], ["record", "msgRecord"], ["field", "msgField"]].forEach(function (p) {
      if (body[p[0]]) { parts.push((form.dataset[p[1]] || p[0]) + ": " + body[p[0]]); }
    });
    return (parts.length ? parts.join(" · ") + " — " : "") + body.detail;
  }

  /* strain search: a facet click submits the form */
  function initFacets() {
    var form = document.getElementById("strain-search");
    if (!form) { return; }
    form.querySelectorAll(".facet input[type=checkbox]").forEach(function (box) {
      box.addEventListener("change", function () { form.submit(); });
    });
  }

  /* sequence search: POST JSON to the API, show a progress indicator meanwhile */
  function initSequenceSearch() {
    var form = document.getElementById("seq-search");
    if (!form) { return; }
    var progress = document.getElementById("seq-progress");
    var errorBox = document.getElementById("seq-error");
    var results = document.getElementById("seq-results");
    var body = document.getElementById("seq-hits");
    var count = document.getElementById("seq-count");
    var none = document.getElementById("seq-none");
    var kindNames = {};
    var names = document.getElementById("kind-names");
    if (names) {
      names.content.querySelectorAll("[data-kind]").forEach(function (n) {
        kindNames[n.dataset.kind] = n.textContent;
      });
    }
    var button = form.querySelector("button[type=submit]");

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var kinds = Array.prototype.map.call(
        form.querySelectorAll("input[name=kinds]:checked"), function (b) { return b.value; });
      var payload = {
        sequence: form.elements.sequence.value,
        top: parseInt(form.elements.top.value, 10) || 10
      };
      if (kinds.length) { payload.kinds = kinds; }
      progress.hidden = false;
      errorBox.hidden = true;
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      fetch(form.dataset.api, {
        method: "POST",
        headers: jsonHeaders(),
        body: JSON.stringify(payload)
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (!result.ok) {
          errorBox.textContent = errorText(form, result.data, form.dataset.msgFailed);
          errorBox.hidden = false;
          return;
        }
        showHits(result.data.data || []);
      }).catch(function () {
        errorBox.textContent = form.dataset.msgFailed;
        errorBox.hidden = false;
      }).then(function () {
        progress.hidden = true;
        button.disabled = false;
        form.removeAttribute("aria-busy");
      });
    });

    function pct(x) { return (x * 100).toFixed(1) + "%"; }
    function num(x) { return Number(x).toLocaleString("en-US"); }

    function showHits(hits) {
      body.textContent = "";
      hits.forEach(function (h) {
        var tr = el("tr", { "data-hit": h.name });
        tr.appendChild(el("td", {}, kindNames[h.kind] || h.kind));
        var nameCell = el("td");
        if (h.kind === "plasmid" || h.kind === "part") {
          nameCell.appendChild(el("a", {
            "class": "mono", href: "/" + h.kind + "s/" + encodeURIComponent(h.name)
          }, h.name));
        } else {
          nameCell.appendChild(el("span", { "class": "mono" }, h.name));
        }
        tr.appendChild(nameCell);
        tr.appendChild(el("td", { "class": "num" }, String(h.score)));
        tr.appendChild(el("td", { "class": "num" }, pct(h.identity)));
        tr.appendChild(el("td", { "class": "num" }, pct(h.coverage)));
        tr.appendChild(el("td", { "class": "center" }, h.strand > 0 ? "+" : (h.strand < 0 ? "\u2212" : "\u00b7")));
        tr.appendChild(el("td", { "class": "num" }, (h.query_start + 1) + "\u2013" + h.query_end));
        tr.appendChild(el("td", { "class": "num" }, num(h.target_start + 1) + "\u2013" + num(h.target_end)));
        body.appendChild(tr);
      });
      count.textContent = fill(form.dataset.msgCount, { n: hits.length });
      none.hidden = hits.length > 0;
      results.hidden = false;
    }
  }

  /* import: XMLHttpRequest so the upload reports its progress */
  function initImport() {
    var form = document.getElementById("import-form");
    if (!form) { return; }
    var kind = form.elements.kind;
    function showFieldsFor() {
      form.querySelectorAll("[data-for-kind]").forEach(function (node) {
        node.hidden = node.dataset.forKind !== kind.value;
      });
    }
    kind.addEventListener("change", showFieldsFor);
    showFieldsFor();
    var fileInput = form.elements.file;
    var fileName = document.getElementById("import-filename");
    fileInput.addEventListener("change", function () {
      var file = fileInput.files && fileInput.files[0];
      fileName.textContent = file ? file.name : fileName.dataset.empty;
    });
    var bar = document.getElementById("import-bar");
    var line = document.getElementById("import-progress");
    var text = document.getElementById("import-progress-text");
    var ok = document.getElementById("import-ok");
    var bad = document.getElementById("import-error");
    var button = form.querySelector("button[type=submit]");

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      var xhr = new XMLHttpRequest();
      ok.hidden = true;
      bad.hidden = true;
      line.hidden = false;
      bar.value = 0;
      bar.max = 100;
      text.textContent = form.dataset.msgUploading;
      button.disabled = true;
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.value = Math.round((e.loaded / e.total) * 100);
          text.textContent = form.dataset.msgUploading + " " + bar.value + "%";
        }
      });
      xhr.upload.addEventListener("load", function () {
        bar.removeAttribute("value");
        text.textContent = form.dataset.msgProcessing;
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
        line.hidden = true;
        button.disabled = false;
        if (xhr.status >= 200 && xhr.status < 300 && body) {
          var message = fill(form.dataset.msgDone, {
            strains: body.strains, sequences: body.sequences, file: body.source
          });
          if (body.duplicates && body.duplicates.length) {
            message += " " + fill(form.dataset.msgDuplicates, { names: body.duplicates.join(", ") });
          }
          ok.textContent = message;
          ok.hidden = false;
        } else {
          bad.textContent = form.dataset.msgFailed + " " + errorText(form, body, "");
          bad.hidden = false;
        }
      });
      xhr.addEventListener("error", function () {
        line.hidden = true;
        button.disabled = false;
        bad.textContent = form.dataset.msgFailed;
        bad.hidden = false;
      });
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      var csrf = document.querySelector('meta[name="csrf-token"]');
      if (csrf && csrf.content) xhr.setRequestHeader("X-CSRF-Token", csrf.content);
      xhr.send(data);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initFacets();
    initSequenceSearch();
    initImport();
  });
})();
