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

// Domains pages: toasts, 422 answers, bulk selection.
(function () {
  "use strict";

  // A refused change answers 422 with the form and its errors: swap it in like a 200.
  function allowInvalidSwaps() {
    if (!window.htmx || !htmx.config) return;
    var handling = htmx.config.responseHandling || [];
    var has422 = handling.some(function (rule) { return rule.code === "422"; });
    if (!has422) handling.unshift({ code: "422", swap: true, error: false });
    htmx.config.responseHandling = handling;
  }
  allowInvalidSwaps();
  document.addEventListener("DOMContentLoaded", allowInvalidSwaps);

  // Toasts: the server sends HX-Trigger {"np-toast": {"message": ..., "level": ...}}.
  function toast(message, level) {
    var box = document.querySelector(".np-toasts");
    if (!box) {
      box = document.createElement("div");
      box.className = "np-toasts";
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    var item = document.createElement("div");
    item.className = "np-toast is-" + (level || "success");
    item.setAttribute("role", "status");
    item.textContent = message;
    box.appendChild(item);
    window.setTimeout(function () { item.classList.add("is-hiding"); }, 3500);
    window.setTimeout(function () { item.remove(); }, 3900);
  }
  document.addEventListener("np-toast", function (event) {
    var detail = event.detail || {};
    if (detail.message) toast(detail.message, detail.level);
  });
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var told = event.detail.xhr && event.detail.xhr.getResponseHeader("HX-Trigger");
    if (status === 403) { if (!told) toast("You are not allowed to do that.", "danger"); }
    else if (status === 404) toast("Not found: it may have been removed.", "danger");
    else toast("Something went wrong; please try again.", "danger");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("The server could not be reached; please try again.", "danger");
  });

  // Bulk actions: select all on the page, count the selection, show the fields of the action.
  // The bulk bar is hidden while nothing is ticked.
  function updateCount() {
    var selected = document.querySelectorAll("input[data-select-row]:checked").length;
    var counter = document.querySelector("[data-selected-count]");
    if (counter) counter.textContent = selected;
    var form = document.querySelector("[data-bulk-form]");
    if (form) form.hidden = selected === 0;
    var all = document.querySelector("input[data-select-all]");
    if (all && !selected) all.checked = false;
  }
  function showBulkFields() {
    var form = document.querySelector("[data-bulk-form]");
    if (!form) return;
    var action = form.querySelector("select[name=action]");
    var value = action ? action.value : "";
    form.querySelectorAll("[data-bulk-for]").forEach(function (field) {
      field.hidden = field.getAttribute("data-bulk-for") !== value;
    });
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      document.querySelectorAll("input[data-select-row]").forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target.matches("[data-select-all], [data-select-row]")) updateCount();
    if (target.matches("[data-bulk-form] select[name=action]")) showBulkFields();
  });
  document.addEventListener("DOMContentLoaded", function () { showBulkFields(); updateCount(); });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "results") updateCount();
  });
  // After a bulk action the list reloads (flags and statuses changed).
  document.addEventListener("np-operations-changed", function () {
    var results = document.getElementById("results");
    if (results && document.querySelector("[data-bulk-form]") && window.htmx) {
      htmx.ajax("GET", window.location.href, { target: "#results", swap: "innerHTML" });
    }
  });
})();
