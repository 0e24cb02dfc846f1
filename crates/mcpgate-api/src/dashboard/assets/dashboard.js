// mcpgate dashboard: progressive enhancements only; every page works without this.
(function () {
  "use strict";
  // Copy buttons: <button data-copy-target="element-id">.
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target || !navigator.clipboard) { return; }
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
  // Live JSON syntax check of the policy editor (the server validates the rest).
  var editor = document.getElementById("policy-editor");
  var status = document.getElementById("policy-live-status");
  if (editor && status) {
    var check = function () {
      try {
        JSON.parse(editor.value);
        status.textContent = "JSON syntax OK";
        status.style.color = "";
      } catch (error) {
        status.textContent = "JSON syntax error: " + error.message;
        status.style.color = "#b42318";
      }
    };
    editor.addEventListener("input", check);
    check();
  }
})();
