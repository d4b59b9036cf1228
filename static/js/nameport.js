// Nameport: small behaviour, no inline scripts (the CSP is script-src 'self').
(function () {
  "use strict";

  // <button data-copy="#element"> copies the element's text to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button || !navigator.clipboard) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // <form data-confirm="Are you sure?"> asks before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  // Filter forms leave out empty fields, so the pushed URL stays short and shareable.
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("[data-filter-form]")) return;
    var data = event.detail.formData;
    var empty = [];
    data.forEach(function (value, name) {
      if (value === "" || value === "unknown") empty.push(name);
    });
    empty.forEach(function (name) {
      var kept = data.getAll(name).filter(function (v) { return v !== "" && v !== "unknown"; });
      data.delete(name);
      kept.forEach(function (v) { data.append(name, v); });
    });
  });

  // Multiple-choice filters (a dropdown of checkboxes) show what is ticked on their button.
  document.addEventListener("change", function (event) {
    var box = event.target;
    var group = box.closest && box.closest("[data-multi]");
    if (!group) return;
    var labels = [];
    group.querySelectorAll("input[type=checkbox]:checked").forEach(function (input) {
      var label = group.querySelector("label[for='" + input.id + "']");
      labels.push(label ? label.textContent.trim() : input.value);
    });
    group.querySelector("[data-multi-label]").textContent = labels.length ? labels.join(", ") : "Any";
  });
})();
