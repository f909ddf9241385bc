/* cellfoundry DNA pages: a busy indicator while a form posts (guides for many genes, an
   editing plan and an assembly take seconds), and strain chips that fill the strain field.
   No dependencies, no external requests. */
(function () {
  "use strict";

  function initBusyForms() {
    document.querySelectorAll("form.busy-form").forEach(function (form) {
      form.addEventListener("submit", function () {
        var busy = form.querySelector(".busy");
        var button = form.querySelector("button[type=submit]");
        if (busy) { busy.hidden = false; }
        form.setAttribute("aria-busy", "true");
        // disable after the submission has captured the form's fields
        window.setTimeout(function () { if (button) { button.disabled = true; } }, 0);
      });
    });
    // coming back to the page (bfcache) must not leave it looking busy
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) { return; }
      document.querySelectorAll("form.busy-form").forEach(function (form) {
        var busy = form.querySelector(".busy");
        var button = form.querySelector("button[type=submit]");
        if (busy) { busy.hidden = true; }
        if (button) { button.disabled = false; }
        form.removeAttribute("aria-busy");
      });
    });
  }

  function initStrainPicks() {
    var field = document.getElementById("guide-strain");
    if (!field) { return; }
    document.querySelectorAll(".pick-strain").forEach(function (chip) {
      chip.addEventListener("click", function () { field.value = chip.dataset.strain; });
    });
  }

  function initPurposes() {
    var form = document.getElementById("guide-form");
    if (!form) { return; }
    form.querySelectorAll("input[name=purpose]").forEach(function (input) {
      input.addEventListener("change", function () {
        form.querySelectorAll(".kind-option").forEach(function (label) {
          var radio = label.querySelector("input");
          label.classList.toggle("chosen", !!(radio && radio.checked));
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initBusyForms();
    initStrainPicks();
    initPurposes();
  });
})();
