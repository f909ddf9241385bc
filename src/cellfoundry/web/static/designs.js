/* cellfoundry strain-design form: show the fields the chosen kind of search takes.
   No dependencies, no external requests. */
(function () {
  "use strict";

  function initDesignForm() {
    var form = document.getElementById("design-form");
    if (!form) { return; }
    function update() {
      var checked = form.querySelector("input[name=kind]:checked");
      var option = checked ? checked.closest(".kind-option") : null;
      var fields = option ? option.dataset.fields.split(" ") : [];
      form.querySelectorAll("[data-field]").forEach(function (node) {
        var shown = fields.indexOf(node.dataset.field) >= 0;
        node.hidden = !shown;
        node.querySelectorAll("input, select").forEach(function (input) { input.disabled = !shown; });
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
      var button = document.getElementById("design-submit");
      if (button) { button.disabled = true; }
    });
  }

  document.addEventListener("DOMContentLoaded", initDesignForm);
})();
