/* cellfoundry DBTL campaign page: show the busy indicator while the model trains.
   No dependencies, no external requests. */
(function () {
  "use strict";

  function initRecommendForm() {
    var form = document.getElementById("recommend-form");
    if (!form) { return; }
    form.addEventListener("submit", function () {
      var busy = document.getElementById("recommend-busy");
      var button = document.getElementById("recommend-submit");
      if (busy) { busy.hidden = false; }
      form.setAttribute("aria-busy", "true");
      /* disable after the submit has collected the form's fields */
      setTimeout(function () { if (button) { button.disabled = true; } }, 0);
    });
  }

  document.addEventListener("DOMContentLoaded", initRecommendForm);
})();
